// @ts-check
/**
 * The execution environment of one function version: a worker thread started by
 * `FunctionWorkerPool` (function-workers.ts) for `LocalFunctions`. Plain JavaScript on purpose:
 * a `.ts` worker makes Node start its type stripper in every new thread, which doubled the cold
 * start (about 120 ms instead of 60 ms). It imports only Node built-ins. The message types are
 * `ToWorker` and `FromWorker` in function-workers.ts.
 *
 * Protocol, one invocation at a time:
 *   parent → worker  { type: "invoke", id, requestId, event }        event as JSON text
 *   worker → parent  { type: "started", id }                          init done, handler called
 *   worker → parent  { type: "result", id, payload }                  payload as JSON text
 *   worker → parent  { type: "error", id, errorType, errorMessage, trace, fatal }
 *
 * Init (importing the handler's module) happens once, on the first invocation, like Lambda's
 * cold start; a failed init is `fatal` and the parent discards the environment. Timeouts,
 * crashes and process.exit() are seen by the parent, which terminates the thread.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

/**
 * `workerData`: { codeDir, handler, functionName, functionVersion, invokedFunctionArn,
 * memorySizeMb, timeoutMs } (FunctionWorkerConfig in function-workers.ts).
 */
const config = workerData;
const port = parentPort;
if (!port) throw new Error("function-worker.mjs runs in a worker thread started by LocalFunctions");

/** An error whose name is the errorType Lambda's Node runtime reports. */
class RuntimeError extends Error {
  /** @param {string} name @param {string} message */
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** @type {Promise<Function> | undefined} */
let loaded;

port.on("message", (message) => {
  void invoke(message).then((reply) => port.postMessage(reply));
});

/** Runs one invocation and returns the reply (a FromWorker message). */
async function invoke({ id, requestId, event }) {
  let handler;
  try {
    loaded ??= loadHandler(config.codeDir, config.handler);
    handler = await loaded;
  } catch (error) {
    return { type: "error", id, ...describeError(error), fatal: true };
  }
  const deadline = Date.now() + config.timeoutMs;
  port?.postMessage({ type: "started", id });
  // The parts of Lambda's context object that handlers use.
  const context = {
    functionName: config.functionName,
    functionVersion: config.functionVersion,
    invokedFunctionArn: config.invokedFunctionArn,
    memoryLimitInMB: String(config.memorySizeMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${config.functionName}`,
    logStreamName: `local/${config.functionVersion}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let result;
  try {
    result = await handler(JSON.parse(event), context);
  } catch (error) {
    return { type: "error", id, ...describeError(error), fatal: false };
  }
  try {
    // No return value reaches the caller as null, as in Lambda.
    return { type: "result", id, payload: JSON.stringify(result) ?? "null" };
  } catch (error) {
    return {
      type: "error",
      id,
      errorType: "Runtime.MarshalError",
      errorMessage: `Unable to stringify response body: ${String(error)}`,
      trace: describeError(error).trace,
      fatal: false,
    };
  }
}

/**
 * Resolves Lambda's handler string the way its Node runtime does: "dir/file.export" (the first
 * dot of the last path segment splits the module from the export, which may be nested:
 * "index.api.handler"), trying file.js, file.mjs, then file.cjs.
 *
 * @param {string} codeDir
 * @param {string} handler
 * @returns {Promise<Function>}
 */
async function loadHandler(codeDir, handler) {
  const slash = handler.lastIndexOf("/");
  const dot = handler.indexOf(".", slash + 1);
  const modulePath = dot > slash + 1 ? handler.slice(0, dot) : "";
  const exportPath = dot > 0 ? handler.slice(dot + 1).split(".") : [];
  const base = join(codeDir, modulePath);
  const inside = relative(codeDir, base);
  if (
    !modulePath ||
    exportPath.length === 0 ||
    exportPath.includes("") ||
    inside === ".." ||
    inside.startsWith(`..${sep}`) ||
    isAbsolute(inside)
  ) {
    throw new RuntimeError("Runtime.MalformedHandlerName", `Bad handler ${handler}`);
  }
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((path) => existsSync(path));
  if (!file) {
    throw new RuntimeError(
      "Runtime.ImportModuleError",
      `Error: Cannot find module '${modulePath}'`,
    );
  }
  let exported;
  try {
    exported = await import(pathToFileURL(file).href);
  } catch (error) {
    const type =
      error instanceof SyntaxError ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError";
    throw new RuntimeError(type, String(error));
  }
  // CommonJS modules come through import() both as named exports and as `default`.
  const fn = lookup(exported, exportPath) ?? lookup(lookup(exported, ["default"]), exportPath);
  if (typeof fn !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handler} is undefined or not exported`);
  }
  return fn;
}

/** `value.a.b.c` for path ["a", "b", "c"], or undefined. */
function lookup(value, path) {
  let current = value;
  for (const key of path) {
    if (current === null || (typeof current !== "object" && typeof current !== "function")) {
      return undefined;
    }
    current = current[key];
  }
  return current;
}

/** Lambda's error payload: { errorType, errorMessage, trace }. */
function describeError(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || "Error",
      errorMessage: error.message,
      trace: (error.stack ?? "").split("\n"),
    };
  }
  return { errorType: "Error", errorMessage: String(error), trace: [] };
}
