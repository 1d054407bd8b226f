import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { boundedError, type FunctionFile } from "@gantry/core";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";

/**
 * The shape every Gantry function shares: a middy handler with the Powertools logger, whose
 * logs carry the deployment's correlation keys (execution, service, version). The step itself
 * is a plain async function over ports; errors propagate with their names, which is what the
 * workflow's Retry and Catch match.
 *
 * The event is never logged: approval events carry a task token.
 */
export type StepHandler<E, R> = middy.MiddyfiedHandler<E, R, Error, Context>;

/**
 * A Powertools logger for one of Gantry's functions, named as the function catalogue names it
 * (`FUNCTION_CATALOG` in `@gantry/core`): its logs' `function` key is the function's file name.
 *
 * @example
 * ```ts
 * const log = createLogger("deploy");
 * ```
 */
export function createLogger(functionName: FunctionFile): Logger {
  return new Logger({ serviceName: "gantry", persistentKeys: { function: functionName } });
}

/**
 * Wraps a step into a Lambda handler.
 *
 * @example
 * ```ts
 * export const createHandler = (deps: DeployDeps & { readonly log: Logger }) =>
 *   stepHandler(deps.log, (state: DeploymentState) => deploy(state, deps));
 * ```
 */
export function stepHandler<E, R>(log: Logger, step: (event: E) => Promise<R>): StepHandler<E, R> {
  // logEvent: false overrides POWERTOOLS_LOGGER_LOG_EVENT, which would log the task token.
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(log, { resetKeys: true, logEvent: false }))
    .use(correlationKeys<E, R>(log))
    .handler((event) => step(event));
}

/**
 * Appends execution, deployedService and version to every log line of the invocation. (The
 * deployed service cannot be logged as `service`: Powertools reserves that key for its own
 * serviceName and drops an appended one.)
 */
export function correlationKeys<E, R>(log: Logger): MiddlewareObj<E, R, Error, Context> {
  return {
    before: (request) => {
      log.appendKeys(correlationOf(request.event));
    },
    onError: (request) => {
      const error = request.error;
      if (!error) return;
      // What Lambda reports as the Task's cause ends up in the execution's state: keep it small.
      request.error = boundedError(error);
      log.warn("step failed", { errorName: error.name, errorMessage: error.message });
    },
  };
}

const SAFE_VALUE = /^[A-Za-z0-9._:@/-]{1,120}$/;

/**
 * Finds the correlation keys in any of the event shapes the functions receive: the state
 * document, `{ state }` (finish), `{ input, execution }` (validate) or the approval payload.
 * Values that do not look like plain identifiers are left out: the raw input is unvalidated.
 */
export function correlationOf(event: unknown): Record<string, string> {
  const root = (event ?? {}) as Record<string, unknown>;
  const candidates = [root, root.state, root.input].filter(
    (c): c is Record<string, unknown> => typeof c === "object" && c !== null,
  );
  const keys: Record<string, string> = {};
  for (const c of candidates) {
    const execution = c.execution as { name?: unknown } | undefined;
    const request = c.request as { service?: unknown; version?: unknown } | undefined;
    pick(keys, "execution", execution?.name);
    pick(keys, "deployedService", request?.service ?? c.service);
    pick(keys, "version", request?.version ?? c.version);
  }
  return keys;
}

function pick(keys: Record<string, string>, name: string, value: unknown): void {
  if (keys[name] === undefined && typeof value === "string" && SAFE_VALUE.test(value))
    keys[name] = value;
}
