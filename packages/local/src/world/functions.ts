import {
  type AliasState,
  type Clock,
  type FunctionControl,
  type FunctionVersionInfo,
  type InvocationResult,
  type ObjectRef,
  systemClock,
  TargetNotFound,
} from "@gantry/core";
import type { Quarantine } from "../storage/durable-file.ts";
import {
  addAlias,
  aliasesOf,
  checkAliasName,
  checkFunctionName,
  describeStored,
  type FunctionDescription,
  isFunctionName,
  LATEST,
  LambdaApiError,
  newFunction,
  publishLatest,
  routeAlias,
  routeVersion,
  type StoredFunction,
  setLatestCode,
  toAliasState,
  versionInfo,
} from "./function-model.ts";
import { FunctionDamaged, FunctionStore } from "./function-store.ts";
import { FunctionWorkerPool, type WorkerPoolStats } from "./function-workers.ts";

export {
  type FunctionDescription,
  LambdaApiError,
  type LambdaErrorName,
  type VersionDescription,
} from "./function-model.ts";
export { FunctionDamaged } from "./function-store.ts";

/**
 * Lambda on one machine: functions with $LATEST, numbered versions and weighted aliases, that
 * really run their code. {@link LocalFunctions} is the API (Lambda's operations, as Gantry's
 * `FunctionControl` port and the console use them); it puts together three parts, each in its
 * own module beside this one:
 * - function-model.ts: a function, its versions and aliases as data, and Lambda's rules for
 *   changing them (names, revision ids, routing weights), with Lambda's errors;
 * - function-store.ts: where functions live on disk (function.json, the extracted code),
 *   written atomically with a checksum, one change to a function at a time; a damaged
 *   function.json is quarantined and the function answers {@link FunctionDamaged} (naming the
 *   file and the runbook) to every operation, never a bare SyntaxError;
 * - function-workers.ts: the worker threads that run each version's code (cold and warm
 *   starts, timeouts, crashes, memory limits), isolated from the control plane's, and
 *   reclaimed when idle (a timeout, an idle cap and a total cap) so memory stays bounded.
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
  /** Environments of all versions together; further invocations wait (default 32). */
  readonly maxWorkers?: number;
  /** Idle environments kept warm across all versions, least recently used reclaimed (default 8). */
  readonly maxIdleWorkers?: number;
  /** Called after every invocation, with its outcome. Exceptions it throws are ignored. */
  readonly onInvocation?: (record: InvocationRecord) => void;
  /** Picks a version of a weighted alias: a number in [0, 1) (default Math.random). */
  readonly random?: () => number;
  /** Timestamps of records and invocations (default the system clock). */
  readonly clock?: Clock;
  /** Takes damaged function.json files (default: one of the directory above `dir`). */
  readonly quarantine?: Quarantine;
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

/**
 * The local world's Lambda: {@link FunctionControl} on disk, running each version's code in
 * worker threads. See the module comment for its parts.
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
  readonly #store: FunctionStore;
  readonly #workers: FunctionWorkerPool;
  readonly #readObject: LocalFunctionsOptions["readObject"];
  readonly #defaultTimeoutMs: number;
  readonly #onInvocation: ((record: InvocationRecord) => void) | undefined;
  readonly #random: () => number;
  readonly #clock: Clock;

  constructor(options: LocalFunctionsOptions) {
    this.#store = new FunctionStore(options.dir, options.quarantine);
    this.#workers = new FunctionWorkerPool({
      initTimeoutMs: options.initTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
      maxWorkersPerVersion: options.maxWorkersPerVersion ?? 4,
      maxWorkers: options.maxWorkers,
      maxIdleWorkers: options.maxIdleWorkers,
    });
    this.#readObject = options.readObject;
    this.#defaultTimeoutMs = options.invokeTimeoutMs ?? 3000;
    this.#onInvocation = options.onInvocation;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Creates a function from a zip: $LATEST and version "1" run that code, and `alias` points at
   * version "1" with no weights. If the function already exists nothing changes (whatever the
   * zip), so it is safe to call at every start. A function whose function.json was found
   * damaged (and quarantined) is created afresh. Throws InvalidParameterValueException for a
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
    return this.#store.serial(name, async () => {
      const existing = await this.#store.load(name).catch((error: unknown) => {
        if (error instanceof FunctionDamaged) return undefined;
        throw error;
      });
      if (existing) return describeStored(existing);
      const codeSha256 = await this.#store.extract(name, code);
      const stored = newFunction({
        name,
        alias,
        codeSha256,
        handler: options.handler ?? "index.handler",
        timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs,
        memorySizeMb: options.memorySizeMb ?? 128,
        environment: options.environment ?? {},
        now: this.#now(),
      });
      await this.#store.save(stored);
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
    return this.#store.serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "CreateAlias");
      const created = addAlias(stored, alias, version, this.#now());
      await this.#store.save(stored);
      return created;
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
    return isFunctionName(name) && this.#store.exists(name);
  }

  /**
   * Checks every stored function.json (at start): damaged ones are quarantined and reported, and
   * their functions answer {@link FunctionDamaged}. Returns their names.
   */
  checkStored(): Promise<string[]> {
    return this.#store.check();
  }

  /** Removes the temporary files and half-extracted code a crash left (at start). */
  sweep(): void {
    this.#store.sweep();
  }

  /**
   * Every function with its aliases, by name (for the console). Damaged ones are left out (the
   * quarantine reports them).
   *
   * @example
   * ```ts
   * for (const fn of await functions.listFunctions()) console.log(fn.name, fn.aliases.map((a) => a.name));
   * ```
   */
  async listFunctions(): Promise<{ name: string; aliases: AliasState[] }[]> {
    const listed: { name: string; aliases: AliasState[] }[] = [];
    for (const name of await this.#store.names()) {
      const stored = await this.#store.load(name).catch((error: unknown) => {
        if (error instanceof FunctionDamaged) return undefined;
        throw error;
      });
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
    if (!isFunctionName(name)) return undefined;
    const stored = await this.#store.load(name);
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
    if (!isFunctionName(functionName)) return undefined;
    const stored = await this.#store.load(functionName);
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
    if (!isFunctionName(functionName)) return undefined;
    const stored = await this.#store.load(functionName);
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
    return this.#store.serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "UpdateFunctionCode");
      const bytes = await this.#readObject(source);
      if (!bytes) {
        const version = source.versionId ? ` version ${source.versionId}` : "";
        throw new LambdaApiError(
          "InvalidParameterValueException",
          `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: s3://${source.bucket}/${source.key}${version} does not exist`,
        );
      }
      const codeSha256 = await this.#store.extract(functionName, bytes);
      const previous = stored.latest.codeSha256;
      const latest = setLatestCode(stored, codeSha256, this.#now());
      await this.#store.save(stored);
      // $LATEST environments of the old code will not be used again.
      if (previous !== codeSha256) this.#workers.retire(functionName, LATEST, previous);
      return latest;
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
    return this.#store.serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "PublishVersion");
      const versions = stored.versions.length;
      const published = publishLatest(stored, options, this.#now());
      // Nothing to write when Lambda hands back the version it already has.
      if (stored.versions.length !== versions) await this.#store.save(stored);
      return published;
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
    return this.#store.serial(functionName, async () => {
      const stored = await this.#loadOrThrow(functionName, "UpdateAlias");
      const updated = routeAlias(stored, alias, routing, this.#now());
      await this.#store.save(stored);
      return updated;
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
    if (this.#workers.closed) throw new Error("LocalFunctions is closed");
    const stored = await this.#loadOrThrow(functionName, "Invoke");
    const version = routeVersion(stored, qualifier, this.#random);
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
    const { outcome, coldStart } = await this.#workers.invoke(
      {
        functionName,
        version,
        codeSha256: info.codeSha256,
        codeDir: this.#store.codeDir(stored.name, info.codeSha256),
        handler: stored.handler,
        memorySizeMb: stored.memorySizeMb,
        timeoutMs: stored.timeoutMs,
        environment: stored.environment,
      },
      eventJson,
    );
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
  close(): Promise<void> {
    return this.#workers.close();
  }

  /** How many execution environments (worker threads) are alive, busy and idle. */
  workerStats(): WorkerPoolStats {
    return this.#workers.stats();
  }

  async #loadOrThrow(name: string, operation: string): Promise<StoredFunction> {
    const stored = isFunctionName(name) ? await this.#store.load(name) : undefined;
    if (!stored) throw new TargetNotFound(`function ${name} does not exist (${operation})`);
    return stored;
  }

  #record(record: InvocationRecord): void {
    try {
      this.#onInvocation?.(record);
    } catch {
      // A subscriber's failure is not the invocation's.
    }
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
