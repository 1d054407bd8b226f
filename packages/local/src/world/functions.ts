import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import {
  type AliasState,
  type Clock,
  ConcurrentModification,
  type FunctionControl,
  type FunctionVersionInfo,
  type InvocationResult,
  type ObjectRef,
  sha256Hex,
  systemClock,
  TargetNotFound,
} from "@gantry/core";
import { readZip } from "./zip.ts";

/**
 * Lambda on one machine: functions with $LATEST, numbered versions and weighted aliases, that
 * really run their code.
 *
 *     <dir>/<name>/function.json       configuration, versions, aliases (replaced atomically)
 *     <dir>/<name>/code/<sha256>/      a version's zip, extracted once, named by its digest
 *     <dir>/<name>/code/package.json   {}: the code's module type does not leak in from above
 *
 * Each version runs in its own worker threads (`function-worker.mjs`), never in the control
 * plane's: the first invocation starts one (the cold start), later ones reuse it (warm), and
 * concurrent invocations get more, up to `maxWorkersPerVersion`. A handler that times out,
 * crashes its thread or calls process.exit() costs that environment only: it is terminated, the
 * caller gets Lambda's error payload, and the next invocation starts a fresh one. Threads are
 * isolated for faults, memory (`resourceLimits`), module state and environment variables; they
 * are not a security boundary (the code could still touch the file system or kill the process).
 *
 * One process owns the directory; changes to a function are serialized in it.
 */

/** One invocation, as the metrics and alarms see it. */
export interface InvocationRecord {
  readonly functionName: string;
  /** What the caller asked for: a version, "$LATEST" or an alias. */
  readonly qualifier: string;
  /** The version that ran. */
  readonly version: string;
  /** How long the handler ran (init excluded, like Lambda's Duration), in milliseconds. */
  readonly durationMs: number;
  /** True when the invocation returned a function error (thrown, timed out, crashed). */
  readonly error: boolean;
  /** True when a new execution environment was started for it. */
  readonly coldStart: boolean;
  /** When the invocation started, in milliseconds since the epoch (the `clock` option). */
  readonly at: number;
}

export interface LocalFunctionsOptions {
  /** Where functions live, e.g. `.gantry/functions`. */
  readonly dir: string;
  /** Reads a code object (an artifact bucket's object); undefined when there is none. */
  readonly readObject: (ref: ObjectRef & { versionId?: string }) => Promise<Uint8Array | undefined>;
  /** Default timeout of new functions, in milliseconds (default 3000, Lambda's default). */
  readonly invokeTimeoutMs?: number;
  /** Limit on module loading in a cold environment, in milliseconds (default 10 000, as Lambda). */
  readonly initTimeoutMs?: number;
  /** Idle environments are stopped after this long, in milliseconds (default 5 minutes). */
  readonly idleTimeoutMs?: number;
  /** Concurrent environments of one version; further invocations wait (default 4). */
  readonly maxWorkersPerVersion?: number;
  /** Called after every invocation, with its outcome. Exceptions it throws are ignored. */
  readonly onInvocation?: (record: InvocationRecord) => void;
  /** Picks a version of a weighted alias: a number in [0, 1) (default Math.random). */
  readonly random?: () => number;
  /** Timestamps of records and invocations (default the system clock). */
  readonly clock?: Clock;
}

export interface CreateFunctionOptions {
  /** Lambda's "file.export" (default "index.handler"). */
  readonly handler?: string;
  /** Longest an invocation may run, in milliseconds (default the constructor's invokeTimeoutMs). */
  readonly timeoutMs?: number;
  /** Heap limit of each execution environment, in MB (default 128). */
  readonly memorySizeMb?: number;
  /** Environment variables the code sees, beside Lambda's own (AWS_LAMBDA_FUNCTION_NAME, ...). */
  readonly environment?: Readonly<Record<string, string>>;
}

export interface VersionDescription {
  readonly version: string;
  readonly codeSha256: string;
  readonly createdAt: string;
  readonly description: string;
}

export interface FunctionDescription {
  readonly name: string;
  readonly handler: string;
  readonly timeoutMs: number;
  readonly memorySizeMb: number;
  readonly createdAt: string;
  readonly latest: {
    readonly codeSha256: string;
    readonly revisionId: string;
    readonly lastModified: string;
  };
  /** Published versions, oldest first. */
  readonly versions: readonly VersionDescription[];
  readonly aliases: readonly AliasState[];
}

/** Lambda's error names for requests it refuses (the AWS adapter's errors look the same). */
export type LambdaErrorName =
  | "InvalidParameterValueException"
  | "ResourceConflictException"
  | "InvalidRequestContentException";

/** A request Lambda would refuse, named as Lambda names it. */
export class LambdaApiError extends Error {
  constructor(name: LambdaErrorName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

interface StoredVersion {
  version: string;
  codeSha256: string;
  description: string;
  createdAt: string;
  revisionId: string;
}

interface StoredAlias {
  version: string;
  weights: Record<string, number>;
  revisionId: string;
  updatedAt: string;
}

/** function.json */
interface StoredFunction {
  format: 1;
  name: string;
  handler: string;
  timeoutMs: number;
  memorySizeMb: number;
  environment: Record<string, string>;
  createdAt: string;
  latest: { codeSha256: string; revisionId: string; lastModified: string };
  versions: StoredVersion[];
  aliases: Record<string, StoredAlias>;
}

/** What function-worker.mjs gets as `workerData`. */
interface FunctionWorkerConfig {
  /** The extracted code (Lambda's LAMBDA_TASK_ROOT). */
  readonly codeDir: string;
  /** "file.export", e.g. "index.handler" or "src/app.main". */
  readonly handler: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memorySizeMb: number;
  readonly timeoutMs: number;
}

/** Messages to function-worker.mjs: one invocation, the event as JSON text. */
interface ToWorker {
  readonly type: "invoke";
  readonly id: number;
  readonly requestId: string;
  readonly event: string;
}

/** Messages from function-worker.mjs. */
type FromWorker =
  | { readonly type: "started"; readonly id: number }
  | { readonly type: "result"; readonly id: number; readonly payload: string }
  | {
      readonly type: "error";
      readonly id: number;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace: string[];
      /** The environment is unusable (init failed): discard it. */
      readonly fatal: boolean;
    };

/** One execution environment: a worker thread running one version's code. */
interface Sandbox {
  readonly key: string;
  readonly worker: Worker;
  state: "idle" | "busy" | "dead";
  /** The invocation in flight. */
  current?: {
    readonly id: number;
    started(): void;
    finish(outcome: Outcome): void;
  };
  idleTimer?: NodeJS.Timeout;
}

interface Pool {
  readonly sandboxes: Set<Sandbox>;
  /** Invocations waiting for an environment. */
  readonly waiting: (() => void)[];
}

type Outcome =
  | { readonly ok: true; readonly payload: string; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace?: readonly string[];
      readonly durationMs: number;
    };

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ALIAS_NAME = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;
const VERSION_NUMBER = /^[1-9]\d*$/;
const LATEST = "$LATEST";
const WORKER_URL = new URL("./function-worker.mjs", import.meta.url);

/**
 * The local world's Lambda: {@link FunctionControl} on disk, running each version's code in
 * worker threads. See the module comment for the layout and the isolation it gives.
 *
 * @example
 * ```ts
 * const functions = new LocalFunctions({
 *   dir: ".gantry/functions",
 *   readObject: async (ref) => (await buckets.get(ref))?.bytes,
 *   onInvocation: (record) => metrics.recordInvocation(record),
 * });
 * await functions.createFunction("hello-prod", "live", createZip({ "index.mjs": source }));
 * const result = await functions.invoke("hello-prod", "live", { name: "Ada" });
 * await functions.close();
 * ```
 */
export class LocalFunctions implements FunctionControl {
  readonly #dir: string;
  readonly #readObject: LocalFunctionsOptions["readObject"];
  readonly #defaultTimeoutMs: number;
  readonly #initTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #maxWorkers: number;
  readonly #onInvocation: ((record: InvocationRecord) => void) | undefined;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #pools = new Map<string, Pool>();
  #nextInvocationId = 0;
  #closed = false;

  constructor(options: LocalFunctionsOptions) {
    this.#dir = resolve(options.dir);
    this.#readObject = options.readObject;
    this.#defaultTimeoutMs = options.invokeTimeoutMs ?? 3000;
    this.#initTimeoutMs = options.initTimeoutMs ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60_000;
    this.#maxWorkers = Math.max(1, options.maxWorkersPerVersion ?? 4);
    this.#onInvocation = options.onInvocation;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Creates a function from a zip: $LATEST and version "1" run that code, and `alias` points at
   * version "1" with no weights. If the function already exists nothing changes (whatever the
   * zip), so it is safe to call at every start. Throws InvalidParameterValueException for a
   * zip that cannot be read or has unsafe entries.
   *
   * @example
   * ```ts
   * const zip = createZip({ "index.mjs": "export const handler = async () => ({ statusCode: 200 });" });
   * const fn = await functions.createFunction("hello-prod", "live", zip, { timeoutMs: 5000 });
   * fn.versions[0]?.codeSha256 === sha256Hex(zip); // true
   * ```
   */
  async createFunction(
    name: string,
    alias: string,
    code: Uint8Array,
    options: CreateFunctionOptions = {},
  ): Promise<FunctionDescription> {
    checkFunctionName(name);
    checkAliasName(alias);
    return this.#serial(name, async () => {
      const existing = await this.#load(name);
      if (existing) return describeStored(existing);
      const codeSha256 = await this.#extract(name, code);
      const now = this.#now();
      const stored: StoredFunction = {
        format: 1,
        name,
        handler: options.handler ?? "index.handler",
        timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs,
        memorySizeMb: options.memorySizeMb ?? 128,
        environment: { ...options.environment },
        createdAt: now,
        latest: { codeSha256, revisionId: randomUUID(), lastModified: now },
        versions: [
          { version: "1", codeSha256, description: "", createdAt: now, revisionId: randomUUID() },
        ],
        aliases: {
          [alias]: { version: "1", weights: {}, revisionId: randomUUID(), updatedAt: now },
        },
      };
      await this.#save(stored);
      return describeStored(stored);
    });
  }

  /**
   * Adds an alias to an existing function (Lambda's CreateAlias). Throws TargetNotFound for an
   * unknown function or version, ResourceConflictException if the alias exists.
   *
   * @example
   * ```ts
   * await functions.createAlias("hello-prod", "beta", "1");
   * ```
   */
  async createAlias(functionName: string, alias: string, version: string): Promise<AliasState> {
    checkAliasName(alias);
    return this.#serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "CreateAlias");
      if (stored.aliases[alias]) {
        throw new LambdaApiError(
          "ResourceConflictException",
          `alias ${functionName}:${alias} already exists`,
        );
      }
      checkVersionExists(stored, version);
      const created = { version, weights: {}, revisionId: randomUUID(), updatedAt: this.#now() };
      stored.aliases[alias] = created;
      await this.#save(stored);
      return toAliasState(alias, created);
    });
  }

  /**
   * Whether a function of that name exists.
   *
   * @example
   * ```ts
   * if (!functions.hasFunction("hello-prod")) await functions.createFunction("hello-prod", "live", zip);
   * ```
   */
  hasFunction(name: string): boolean {
    return FUNCTION_NAME.test(name) && existsSync(this.#metaPath(name));
  }

  /**
   * Every function with its aliases, by name (for the console).
   *
   * @example
   * ```ts
   * for (const fn of await functions.listFunctions()) console.log(fn.name, fn.aliases.map((a) => a.name));
   * ```
   */
  async listFunctions(): Promise<{ name: string; aliases: AliasState[] }[]> {
    const entries = await readdir(this.#dir, { withFileTypes: true }).catch(() => []);
    const names = entries
      .filter((entry) => entry.isDirectory() && FUNCTION_NAME.test(entry.name))
      .map((entry) => entry.name)
      .sort();
    const listed: { name: string; aliases: AliasState[] }[] = [];
    for (const name of names) {
      const stored = await this.#load(name);
      if (stored) listed.push({ name, aliases: aliasesOf(stored) });
    }
    return listed;
  }

  /**
   * A function's configuration, published versions and aliases; undefined if there is none.
   *
   * @example
   * ```ts
   * const fn = await functions.describe("hello-prod");
   * fn?.versions.map((v) => `${v.version} ${v.codeSha256.slice(0, 12)} ${v.description}`);
   * ```
   */
  async describe(name: string): Promise<FunctionDescription | undefined> {
    if (!FUNCTION_NAME.test(name)) return undefined;
    const stored = await this.#load(name);
    return stored && describeStored(stored);
  }

  /**
   * An alias's routing, or undefined when the function or alias does not exist.
   *
   * @example
   * ```ts
   * const live = await functions.getAlias("hello-prod", "live"); // { name: "live", version: "3", weights: { "4": 0.1 }, revisionId }
   * ```
   */
  async getAlias(functionName: string, alias: string): Promise<AliasState | undefined> {
    if (!FUNCTION_NAME.test(functionName)) return undefined;
    const stored = await this.#load(functionName);
    const found = stored?.aliases[alias];
    return found && toAliasState(alias, found);
  }

  /**
   * A version's code digest: a number, "$LATEST", or an alias (its primary version, as
   * GetFunctionConfiguration answers). Undefined when it does not exist.
   *
   * @example
   * ```ts
   * const latest = await functions.getVersion("hello-prod", "$LATEST"); // { version: "$LATEST", codeSha256, revisionId }
   * ```
   */
  async getVersion(
    functionName: string,
    version: string,
  ): Promise<FunctionVersionInfo | undefined> {
    if (!FUNCTION_NAME.test(functionName)) return undefined;
    const stored = await this.#load(functionName);
    if (!stored) return undefined;
    const resolved = stored.aliases[version]?.version ?? version;
    return versionInfo(stored, resolved);
  }

  /**
   * Replaces $LATEST's code with a zip read through `readObject`, and bumps its revision id.
   * Throws TargetNotFound for an unknown function and InvalidParameterValueException for an
   * object that does not exist or is not a safe zip.
   *
   * @example
   * ```ts
   * const latest = await functions.updateCode("hello-prod", { bucket: "artifacts-prod", key: "hello/abc123.zip" });
   * latest.codeSha256; // the zip's SHA-256, hex
   * ```
   */
  async updateCode(
    functionName: string,
    source: ObjectRef & { versionId?: string },
  ): Promise<FunctionVersionInfo> {
    return this.#serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "UpdateFunctionCode");
      const bytes = await this.#readObject(source);
      if (!bytes) {
        const version = source.versionId ? ` version ${source.versionId}` : "";
        throw new LambdaApiError(
          "InvalidParameterValueException",
          `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: s3://${source.bucket}/${source.key}${version} does not exist`,
        );
      }
      const codeSha256 = await this.#extract(functionName, bytes);
      const previous = stored.latest.codeSha256;
      stored.latest = { codeSha256, revisionId: randomUUID(), lastModified: this.#now() };
      await this.#save(stored);
      // $LATEST environments of the old code will not be used again.
      if (previous !== codeSha256) this.#retire(sandboxKey(functionName, LATEST, previous));
      return { version: LATEST, codeSha256, revisionId: stored.latest.revisionId };
    });
  }

  /**
   * Publishes $LATEST as the next version. Refuses (InvalidParameterValueException) when
   * $LATEST's code is not `codeSha256`, and (ConcurrentModification) when `revisionId` is not
   * $LATEST's current one. When $LATEST has the newest version's code, that version is returned
   * and nothing is published, as Lambda does.
   *
   * @example
   * ```ts
   * const latest = await functions.updateCode("hello-prod", artifact);
   * const v = await functions.publishVersion("hello-prod", {
   *   codeSha256: latest.codeSha256,
   *   revisionId: latest.revisionId,
   *   description: "gantry hello abc123",
   * }); // { version: "2", codeSha256, revisionId }
   * ```
   */
  async publishVersion(
    functionName: string,
    options: { codeSha256: string; revisionId?: string; description: string },
  ): Promise<FunctionVersionInfo> {
    return this.#serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "PublishVersion");
      const { latest } = stored;
      if (options.revisionId !== undefined && options.revisionId !== latest.revisionId) {
        throw new ConcurrentModification(
          `${functionName} changed while Gantry was updating it (PublishVersion): $LATEST has revision ${latest.revisionId}, not ${options.revisionId}`,
        );
      }
      if (options.codeSha256 !== latest.codeSha256) {
        throw new LambdaApiError(
          "InvalidParameterValueException",
          `CodeSha256 ${options.codeSha256} does not match $LATEST's ${latest.codeSha256}`,
        );
      }
      const newest = stored.versions.at(-1);
      if (newest && newest.codeSha256 === latest.codeSha256) return publishedInfo(newest);
      const number = Math.max(0, ...stored.versions.map((v) => Number(v.version))) + 1;
      const version: StoredVersion = {
        version: String(number),
        codeSha256: latest.codeSha256,
        description: options.description.slice(0, 256),
        createdAt: this.#now(),
        revisionId: randomUUID(),
      };
      stored.versions.push(version);
      await this.#save(stored);
      return publishedInfo(version);
    });
  }

  /**
   * Points an alias at `version`, sending each of `weights`' versions its share of traffic.
   * Lambda's rules: the versions exist (TargetNotFound otherwise), at most one extra version,
   * a published one other than the primary, with 0 < weight < 1 (InvalidParameterValueException
   * otherwise). A `revisionId` other than the alias's current one is refused
   * (ConcurrentModification).
   *
   * @example
   * ```ts
   * const live = await functions.getAlias("hello-prod", "live");
   * await functions.updateAlias("hello-prod", "live", { version: "1", weights: { "2": 0.1 }, revisionId: live?.revisionId });
   * ```
   */
  async updateAlias(
    functionName: string,
    alias: string,
    routing: { version: string; weights: Readonly<Record<string, number>>; revisionId?: string },
  ): Promise<AliasState> {
    return this.#serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "UpdateAlias");
      const current = stored.aliases[alias];
      if (!current)
        throw new TargetNotFound(`alias ${functionName}:${alias} does not exist (UpdateAlias)`);
      if (routing.revisionId !== undefined && routing.revisionId !== current.revisionId) {
        throw new ConcurrentModification(
          `${functionName}:${alias} changed while Gantry was updating it (UpdateAlias): it has revision ${current.revisionId}, not ${routing.revisionId}`,
        );
      }
      checkVersionExists(stored, routing.version);
      checkWeights(stored, routing.version, routing.weights);
      const updated: StoredAlias = {
        version: routing.version,
        weights: { ...routing.weights },
        revisionId: randomUUID(),
        updatedAt: this.#now(),
      };
      stored.aliases[alias] = updated;
      await this.#save(stored);
      return toAliasState(alias, updated);
    });
  }

  /**
   * Runs the function synchronously (RequestResponse). The qualifier is a version, "$LATEST" or
   * an alias; a weighted alias picks its version at random by weight. The event and the result
   * cross as JSON. A handler that throws, times out or crashes gives `functionError: "Unhandled"`
   * and Lambda's `{ errorType, errorMessage, trace }` payload (timeouts: "Sandbox.Timedout").
   * Throws TargetNotFound for an unknown function or qualifier.
   *
   * @example
   * ```ts
   * const result = await functions.invoke("hello-prod", "live", { name: "Ada" });
   * if (!result.functionError) console.log(result.executedVersion, result.payload);
   * ```
   */
  async invoke(functionName: string, qualifier: string, event: unknown): Promise<InvocationResult> {
    if (this.#closed) throw new Error("LocalFunctions is closed");
    const stored = await this.#loadOrThrow(functionName, "Invoke");
    const version = this.#route(stored, qualifier);
    const info = versionInfo(stored, version);
    if (!info)
      throw new TargetNotFound(`function ${functionName}:${qualifier} does not exist (Invoke)`);
    let eventJson: string;
    try {
      // Lambda's empty payload is {}.
      eventJson = JSON.stringify(event === undefined ? {} : event) ?? "null";
    } catch (error) {
      throw new LambdaApiError(
        "InvalidRequestContentException",
        `the event is not JSON: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    const at = this.#clock.now();
    const key = sandboxKey(functionName, version, info.codeSha256);
    const { sandbox, coldStart } = await this.#acquire(key, () =>
      this.#startSandbox(key, stored, version, info.codeSha256),
    );
    const outcome = await this.#run(sandbox, eventJson, stored.timeoutMs);
    this.#release(sandbox);
    this.#record({
      functionName,
      qualifier,
      version,
      durationMs: outcome.durationMs,
      error: !outcome.ok,
      coldStart,
      at,
    });
    if (outcome.ok) return { executedVersion: version, payload: parseMaybeJson(outcome.payload) };
    return {
      executedVersion: version,
      functionError: "Unhandled",
      payload: {
        errorType: outcome.errorType,
        errorMessage: outcome.errorMessage,
        ...(outcome.trace ? { trace: outcome.trace } : {}),
      },
    };
  }

  /**
   * Stops every execution environment. Invocations in flight end with an error; later ones are
   * refused. The files stay: a new LocalFunctions on the same directory carries on.
   *
   * @example
   * ```ts
   * afterEach(() => functions.close());
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    const stopping: Promise<unknown>[] = [];
    for (const pool of this.#pools.values()) {
      for (const sandbox of pool.sandboxes) stopping.push(this.#kill(sandbox));
      for (const wake of pool.waiting.splice(0)) wake();
    }
    this.#pools.clear();
    await Promise.all(stopping);
  }

  // --- routing -------------------------------------------------------------------------------

  /** The version a qualifier runs: the alias's primary, or one of its weighted versions. */
  #route(stored: StoredFunction, qualifier: string): string {
    const alias = stored.aliases[qualifier];
    if (!alias) return qualifier;
    const weighted = Object.entries(alias.weights);
    if (weighted.length === 0) return alias.version;
    let r = this.#random();
    for (const [version, weight] of weighted) {
      if (r < weight) return version;
      r -= weight;
    }
    return alias.version;
  }

  // --- execution environments -----------------------------------------------------------------

  /** An idle environment for `key`, a new one if there is room, or the next one released. */
  async #acquire(
    key: string,
    start: () => Sandbox,
  ): Promise<{ sandbox: Sandbox; coldStart: boolean }> {
    for (;;) {
      if (this.#closed) throw new Error("LocalFunctions is closed");
      let pool = this.#pools.get(key);
      if (!pool) {
        pool = { sandboxes: new Set(), waiting: [] };
        this.#pools.set(key, pool);
      }
      for (const sandbox of pool.sandboxes) {
        if (sandbox.state === "idle") {
          clearTimeout(sandbox.idleTimer);
          sandbox.state = "busy";
          sandbox.worker.ref();
          return { sandbox, coldStart: false };
        }
      }
      if (pool.sandboxes.size < this.#maxWorkers) {
        const sandbox = start();
        pool.sandboxes.add(sandbox);
        return { sandbox, coldStart: true };
      }
      const waiting = pool.waiting;
      await new Promise<void>((wake) => waiting.push(wake));
    }
  }

  /** Back to idle (unref'd, so it never keeps the process alive), or gone if it died. */
  #release(sandbox: Sandbox): void {
    const pool = this.#pools.get(sandbox.key);
    if (sandbox.state === "busy") {
      sandbox.state = "idle";
      sandbox.worker.unref();
      sandbox.idleTimer = setTimeout(() => void this.#kill(sandbox), this.#idleTimeoutMs);
      sandbox.idleTimer.unref();
    }
    pool?.waiting.shift()?.();
  }

  #startSandbox(key: string, stored: StoredFunction, version: string, codeSha256: string): Sandbox {
    const codeDir = this.#codeDir(stored.name, codeSha256);
    const config: FunctionWorkerConfig = {
      codeDir,
      handler: stored.handler,
      functionName: stored.name,
      functionVersion: version,
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${stored.name}`,
      memorySizeMb: stored.memorySizeMb,
      timeoutMs: stored.timeoutMs,
    };
    const worker = new Worker(WORKER_URL, {
      workerData: config,
      name: `${stored.name}:${version}`,
      argv: [],
      // Not the control plane's flags (--inspect, --input-type, loaders): a plain Node.
      execArgv: [],
      // The code sees Lambda's variables and its own, not the control plane's.
      env: {
        AWS_LAMBDA_FUNCTION_NAME: stored.name,
        AWS_LAMBDA_FUNCTION_VERSION: version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(stored.memorySizeMb),
        AWS_REGION: "local",
        LAMBDA_TASK_ROOT: codeDir,
        ...stored.environment,
      },
      resourceLimits: { maxOldGenerationSizeMb: stored.memorySizeMb },
    });
    const sandbox: Sandbox = { key, worker, state: "busy" };
    worker.on("message", (message: FromWorker) => {
      const current = sandbox.current;
      if (!current || current.id !== message.id) return;
      if (message.type === "started") return current.started();
      if (message.type === "result")
        return current.finish({ ok: true, payload: message.payload, durationMs: 0 });
      current.finish({ ok: false, ...message, durationMs: 0 });
      if (message.fatal) void this.#kill(sandbox);
    });
    // A crash (an uncaught exception, running out of memory) ends this environment only.
    worker.on("error", (error: Error & { code?: string }) => {
      const outOfMemory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
      sandbox.current?.finish({
        ok: false,
        errorType: outOfMemory ? "Runtime.OutOfMemory" : error.name || "Error",
        errorMessage: outOfMemory
          ? `Runtime exited with error: the function ran out of memory (${stored.memorySizeMb} MB)`
          : error.message,
        trace: (error.stack ?? "").split("\n"),
        durationMs: 0,
      });
      void this.#kill(sandbox);
    });
    worker.on("exit", (code) => {
      this.#forget(sandbox);
      sandbox.current?.finish({
        ok: false,
        errorType: "Runtime.ExitError",
        errorMessage: `Runtime exited with error: exit status ${code}`,
        durationMs: 0,
      });
    });
    return sandbox;
  }

  /**
   * Sends one invocation and waits for its outcome. Module loading gets `initTimeoutMs`; the
   * handler gets the function's timeout from the moment it is called. On either timeout the
   * environment is terminated.
   */
  #run(sandbox: Sandbox, event: string, timeoutMs: number): Promise<Outcome> {
    const id = ++this.#nextInvocationId;
    const requestId = randomUUID();
    const sent = performance.now();
    return new Promise<Outcome>((done) => {
      let startedAt: number | undefined;
      const expire = (limitMs: number, phase: "Init" | "Task") => () => {
        finish({
          ok: false,
          errorType: "Sandbox.Timedout",
          errorMessage: `RequestId: ${requestId} Error: ${phase} timed out after ${(limitMs / 1000).toFixed(2)} seconds`,
          durationMs: 0,
        });
        void this.#kill(sandbox);
      };
      let timer = setTimeout(expire(this.#initTimeoutMs, "Init"), this.#initTimeoutMs);
      const finish = (outcome: Outcome) => {
        if (sandbox.current?.id !== id) return;
        clearTimeout(timer);
        sandbox.current = undefined;
        done({ ...outcome, durationMs: performance.now() - (startedAt ?? sent) });
      };
      sandbox.current = {
        id,
        started: () => {
          startedAt = performance.now();
          clearTimeout(timer);
          timer = setTimeout(expire(timeoutMs, "Task"), timeoutMs);
        },
        finish,
      };
      if (sandbox.state === "dead") {
        return finish({
          ok: false,
          errorType: "Runtime.ExitError",
          errorMessage: "Runtime exited",
          durationMs: 0,
        });
      }
      sandbox.worker.postMessage({ type: "invoke", id, requestId, event } satisfies ToWorker);
    });
  }

  /** Terminates an environment; whatever it was running ends with the caller's error. */
  #kill(sandbox: Sandbox): Promise<unknown> {
    this.#forget(sandbox);
    sandbox.current?.finish({
      ok: false,
      errorType: "Runtime.ExitError",
      errorMessage: "Runtime exited: the execution environment was stopped",
      durationMs: 0,
    });
    return sandbox.worker.terminate().catch(() => undefined);
  }

  /** Takes a dead environment out of its pool, so the next invocation starts a fresh one. */
  #forget(sandbox: Sandbox): void {
    if (sandbox.state === "dead") return;
    sandbox.state = "dead";
    clearTimeout(sandbox.idleTimer);
    const pool = this.#pools.get(sandbox.key);
    if (!pool) return;
    pool.sandboxes.delete(sandbox);
    if (pool.sandboxes.size === 0 && pool.waiting.length === 0) this.#pools.delete(sandbox.key);
    pool.waiting.shift()?.();
  }

  /** Stops the idle environments of a key and lets busy ones finish first. */
  #retire(key: string): void {
    const pool = this.#pools.get(key);
    if (!pool) return;
    for (const sandbox of pool.sandboxes) {
      if (sandbox.state === "idle") void this.#kill(sandbox);
    }
  }

  #record(record: InvocationRecord): void {
    try {
      this.#onInvocation?.(record);
    } catch {
      // A subscriber's failure is not the invocation's.
    }
  }

  // --- storage --------------------------------------------------------------------------------

  /** Runs changes to one function one at a time, so each read-modify-write is atomic. */
  #serial<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return next;
  }

  #metaPath(name: string): string {
    return join(this.#dir, name, "function.json");
  }

  #codeDir(name: string, codeSha256: string): string {
    return join(this.#dir, name, "code", codeSha256);
  }

  async #load(name: string): Promise<StoredFunction | undefined> {
    let text: string;
    try {
      text = await readFile(this.#metaPath(name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return JSON.parse(text) as StoredFunction;
  }

  async #loadOrThrow(name: string, operation: string): Promise<StoredFunction> {
    const stored = FUNCTION_NAME.test(name) ? await this.#load(name) : undefined;
    if (!stored) throw new TargetNotFound(`function ${name} does not exist (${operation})`);
    return stored;
  }

  /** Writes function.json through a synced temporary file and a rename: never half written. */
  async #save(stored: StoredFunction): Promise<void> {
    const path = this.#metaPath(stored.name);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    const file = await open(temporary, "w");
    try {
      await file.writeFile(`${JSON.stringify(stored, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  }

  /**
   * Extracts a zip into the code directory named by its SHA-256 (once: the directory is made
   * under a temporary name and renamed into place) and returns the digest.
   */
  async #extract(name: string, zip: Uint8Array): Promise<string> {
    const codeSha256 = sha256Hex(zip);
    const target = this.#codeDir(name, codeSha256);
    const codeRoot = dirname(target);
    await mkdir(codeRoot, { recursive: true });
    // A boundary for Node's package.json lookup: the code's .js files are CommonJS unless the
    // zip says otherwise (or they use ESM syntax), whatever the directories above declare.
    const boundary = join(codeRoot, "package.json");
    if (!existsSync(boundary)) await writeFile(boundary, "{}\n");
    if (existsSync(target)) return codeSha256;
    let files: Map<string, Uint8Array>;
    try {
      files = readZip(zip);
    } catch (error) {
      throw new LambdaApiError(
        "InvalidParameterValueException",
        `Could not unzip uploaded file: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const staging = join(codeRoot, `.staging-${randomUUID()}`);
    try {
      for (const [path, bytes] of files) {
        const destination = resolve(staging, path);
        if (!destination.startsWith(staging + sep)) {
          throw new LambdaApiError(
            "InvalidParameterValueException",
            `refusing zip entry ${JSON.stringify(path)}`,
          );
        }
        await mkdir(dirname(destination), { recursive: true });
        await writeFile(destination, bytes);
      }
      await mkdir(staging, { recursive: true });
      await rename(staging, target);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw error;
    }
    return codeSha256;
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }
}

function sandboxKey(functionName: string, version: string, codeSha256: string): string {
  return `${functionName}:${version}:${codeSha256}`;
}

function checkFunctionName(name: string): void {
  if (!FUNCTION_NAME.test(name)) {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `invalid function name ${JSON.stringify(name)}`,
    );
  }
}

function checkAliasName(alias: string): void {
  if (!ALIAS_NAME.test(alias)) {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `invalid alias name ${JSON.stringify(alias)}`,
    );
  }
}

function checkVersionExists(stored: StoredFunction, version: string): void {
  if (version !== LATEST && !stored.versions.some((v) => v.version === version)) {
    throw new TargetNotFound(`version ${version} of ${stored.name} does not exist`);
  }
}

function checkWeights(
  stored: StoredFunction,
  primary: string,
  weights: Readonly<Record<string, number>>,
): void {
  const entries = Object.entries(weights);
  const refuse = (reason: string) => {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `invalid routing for ${stored.name}: ${reason}`,
    );
  };
  if (entries.length === 0) return;
  if (entries.length > 1) refuse("an alias can send traffic to at most one additional version");
  if (primary === LATEST)
    refuse("$LATEST is not supported for an alias pointing to more than one version");
  for (const [version, weight] of entries) {
    if (!VERSION_NUMBER.test(version))
      refuse(`additional version ${JSON.stringify(version)} is not a published version`);
    if (version === primary) refuse(`version ${version} is already the primary version`);
    checkVersionExists(stored, version);
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0 || weight >= 1) {
      refuse(`weight ${String(weight)} for version ${version} is not between 0 and 1 (exclusive)`);
    }
  }
}

function versionInfo(stored: StoredFunction, version: string): FunctionVersionInfo | undefined {
  if (version === LATEST) {
    return {
      version: LATEST,
      codeSha256: stored.latest.codeSha256,
      revisionId: stored.latest.revisionId,
    };
  }
  const found = stored.versions.find((v) => v.version === version);
  return found && publishedInfo(found);
}

function publishedInfo(version: StoredVersion): FunctionVersionInfo {
  return {
    version: version.version,
    codeSha256: version.codeSha256,
    revisionId: version.revisionId,
  };
}

function toAliasState(name: string, alias: StoredAlias): AliasState {
  return {
    name,
    version: alias.version,
    weights: { ...alias.weights },
    revisionId: alias.revisionId,
  };
}

function aliasesOf(stored: StoredFunction): AliasState[] {
  return Object.entries(stored.aliases)
    .map(([name, alias]) => toAliasState(name, alias))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function describeStored(stored: StoredFunction): FunctionDescription {
  return {
    name: stored.name,
    handler: stored.handler,
    timeoutMs: stored.timeoutMs,
    memorySizeMb: stored.memorySizeMb,
    createdAt: stored.createdAt,
    latest: { ...stored.latest },
    versions: stored.versions.map(({ version, codeSha256, createdAt, description }) => ({
      version,
      codeSha256,
      createdAt,
      description,
    })),
    aliases: aliasesOf(stored),
  };
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
