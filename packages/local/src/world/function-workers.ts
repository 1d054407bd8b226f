import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

/**
 * The execution environments of the local world's functions: worker threads running
 * `function-worker.mjs`, never the control plane's thread. Each version's code runs in its own
 * environments: the first invocation starts one (the cold start), later ones reuse it (warm),
 * and concurrent invocations get more, up to `maxWorkersPerVersion`; further ones wait. A
 * handler that times out, crashes its thread or calls process.exit() costs that environment
 * only: it is terminated, the caller gets Lambda's error, and the next invocation starts a fresh
 * one. Threads are isolated for faults, memory (`resourceLimits`), module state and environment
 * variables; they are not a security boundary (the code could still touch the file system or
 * kill the process). Idle environments are unref'd, so they never keep the process alive.
 *
 * Environments are reclaimed as Lambda reclaims them, so memory stays bounded however many
 * versions are published (each thread is a V8 isolate, about 10 MB): an idle environment is
 * stopped after `idleTimeoutMs`; at most `maxIdleWorkers` idle ones are kept across all
 * versions, the least recently used stopped first (versions an alias routes to get traffic, so
 * they stay warm; superseded versions go first); and at most `maxWorkers` run in all, a new one
 * taking an idle one's place or waiting for one. Only idle environments are reclaimed, never one
 * running an invocation; the next invocation of a reclaimed version cold-starts.
 */

/** What runs: one version of a function, and the environment it gets. */
export interface EnvironmentSpec {
  readonly functionName: string;
  /** The version that runs (a number or "$LATEST"). */
  readonly version: string;
  readonly codeSha256: string;
  /** The extracted code (Lambda's LAMBDA_TASK_ROOT). */
  readonly codeDir: string;
  /** "file.export", e.g. "index.handler" or "src/app.main". */
  readonly handler: string;
  readonly memorySizeMb: number;
  /** Longest an invocation's handler may run, in milliseconds. */
  readonly timeoutMs: number;
  /** The function's own environment variables, beside Lambda's. */
  readonly environment: Readonly<Record<string, string>>;
}

/** How one invocation ended: its payload (JSON text), or Lambda's error. */
export type InvocationOutcome =
  | { readonly ok: true; readonly payload: string; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace?: readonly string[];
      readonly durationMs: number;
    };

export interface FunctionWorkerPoolOptions {
  /** Limit on module loading in a cold environment, in milliseconds. */
  readonly initTimeoutMs: number;
  /** Idle environments are stopped after this long, in milliseconds. */
  readonly idleTimeoutMs: number;
  /** Concurrent environments of one version; further invocations wait. */
  readonly maxWorkersPerVersion: number;
  /** Environments of every version together, busy or idle (default 32); further ones wait. */
  readonly maxWorkers?: number;
  /** Idle environments kept across every version, least recently used stopped first (default 8). */
  readonly maxIdleWorkers?: number;
}

/** How many environments are running (for tests, the console and the memory figures). */
export interface WorkerPoolStats {
  /** Threads alive: busy, idle and stopping environments. */
  readonly live: number;
  readonly busy: number;
  readonly idle: number;
  /** Terminated, their thread not yet gone. */
  readonly stopping: number;
  /** Versions (function, version and code) with at least one environment. */
  readonly versions: number;
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
    finish(outcome: InvocationOutcome): void;
  };
  idleTimer?: NodeJS.Timeout;
}

interface Pool {
  readonly sandboxes: Set<Sandbox>;
  /** Invocations waiting for an environment. */
  readonly waiting: (() => void)[];
}

const WORKER_URL = new URL("./function-worker.mjs", import.meta.url);

/**
 * The environments of every version, pooled by function, version and code.
 *
 * @example
 * ```ts
 * const pool = new FunctionWorkerPool({ initTimeoutMs: 10_000, idleTimeoutMs: 300_000, maxWorkersPerVersion: 4 });
 * const { outcome, coldStart } = await pool.invoke(spec, JSON.stringify({ name: "Ada" }));
 * await pool.close();
 * ```
 */
export class FunctionWorkerPool {
  readonly #initTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #maxWorkers: number;
  readonly #maxTotal: number;
  readonly #maxIdle: number;
  readonly #pools = new Map<string, Pool>();
  /** The idle environments, least recently used first. */
  readonly #idle = new Set<Sandbox>();
  /** Environments whose thread has not exited yet (stopping ones included), of every version. */
  readonly #alive = new Set<Sandbox>();
  /** Invocations waiting for room under `maxWorkers`. */
  readonly #waitingForRoom: (() => void)[] = [];
  #nextInvocationId = 0;
  #closed = false;

  constructor(options: FunctionWorkerPoolOptions) {
    this.#initTimeoutMs = options.initTimeoutMs;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#maxWorkers = Math.max(1, options.maxWorkersPerVersion);
    this.#maxTotal = Math.max(1, options.maxWorkers ?? 32);
    this.#maxIdle = Math.max(0, options.maxIdleWorkers ?? 8);
  }

  /** How many environments are alive, busy and idle now. */
  stats(): WorkerPoolStats {
    let versions = 0;
    for (const pool of this.#pools.values()) if (pool.sandboxes.size > 0) versions++;
    let stopping = 0;
    for (const sandbox of this.#alive) if (sandbox.state === "dead") stopping++;
    const live = this.#alive.size;
    return {
      live,
      busy: live - this.#idle.size - stopping,
      idle: this.#idle.size,
      stopping,
      versions,
    };
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one invocation (the event as JSON text) in an environment of `spec`: an idle one, a new
   * one if there is room (`coldStart`), or the next one released. Module loading gets
   * `initTimeoutMs`; the handler gets `spec.timeoutMs` from the moment it is called. Throws once
   * the pool is closed.
   */
  async invoke(
    spec: EnvironmentSpec,
    eventJson: string,
  ): Promise<{ outcome: InvocationOutcome; coldStart: boolean }> {
    const key = sandboxKey(spec.functionName, spec.version, spec.codeSha256);
    const { sandbox, coldStart } = await this.#acquire(key, () => this.#start(key, spec));
    const outcome = await this.#run(sandbox, eventJson, spec.timeoutMs);
    this.#release(sandbox);
    return { outcome, coldStart };
  }

  /**
   * Stops the idle environments of a version's code and lets busy ones finish first (code that
   * will not run again, such as $LATEST's old code after an update).
   */
  retire(functionName: string, version: string, codeSha256: string): void {
    const pool = this.#pools.get(sandboxKey(functionName, version, codeSha256));
    if (!pool) return;
    for (const sandbox of pool.sandboxes) {
      if (sandbox.state === "idle") void this.#kill(sandbox);
    }
  }

  /** Stops every environment. Invocations in flight end with an error; later ones are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const stopping: Promise<unknown>[] = [];
    for (const pool of this.#pools.values()) {
      for (const sandbox of pool.sandboxes) stopping.push(this.#kill(sandbox));
      for (const wake of pool.waiting.splice(0)) wake();
    }
    for (const wake of this.#waitingForRoom.splice(0)) wake();
    this.#pools.clear();
    await Promise.all(stopping);
  }

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
          this.#idle.delete(sandbox);
          sandbox.state = "busy";
          sandbox.worker.ref();
          return { sandbox, coldStart: false };
        }
      }
      if (pool.sandboxes.size < this.#maxWorkers) {
        // At the cap, another version's least recently used idle environment makes room (once
        // its thread has exited: the cap counts threads, not bookkeeping).
        if (this.#alive.size >= this.#maxTotal) this.#reclaimOldestIdle();
        if (this.#alive.size < this.#maxTotal) {
          const sandbox = start();
          this.#alive.add(sandbox);
          pool.sandboxes.add(sandbox);
          return { sandbox, coldStart: true };
        }
        // Wait until an environment is released (to be reclaimed) or a thread exits.
        const waiting = this.#waitingForRoom;
        await new Promise<void>((wake) => waiting.push(wake));
        continue;
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
      this.#idle.add(sandbox);
    }
    const next = pool?.waiting.shift();
    if (next) {
      next();
      return;
    }
    // Nobody waits for this version: keep it warm, within the idle cap, or let another in.
    while (this.#idle.size > this.#maxIdle) this.#reclaimOldestIdle();
    this.#waitingForRoom.shift()?.();
  }

  /** Stops the least recently used idle environment, if there is one. */
  #reclaimOldestIdle(): void {
    const oldest = this.#idle.values().next();
    if (!oldest.done) void this.#kill(oldest.value);
  }

  #start(key: string, spec: EnvironmentSpec): Sandbox {
    const config: FunctionWorkerConfig = {
      codeDir: spec.codeDir,
      handler: spec.handler,
      functionName: spec.functionName,
      functionVersion: spec.version,
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${spec.functionName}`,
      memorySizeMb: spec.memorySizeMb,
      timeoutMs: spec.timeoutMs,
    };
    const worker = new Worker(WORKER_URL, {
      workerData: config,
      name: `${spec.functionName}:${spec.version}`,
      argv: [],
      // Not the control plane's flags (--inspect, --input-type, loaders): a plain Node.
      execArgv: [],
      // The code sees Lambda's variables and its own, not the control plane's.
      env: {
        AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: spec.version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySizeMb),
        AWS_REGION: "local",
        LAMBDA_TASK_ROOT: spec.codeDir,
        ...spec.environment,
      },
      resourceLimits: { maxOldGenerationSizeMb: spec.memorySizeMb },
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
          ? `Runtime exited with error: the function ran out of memory (${spec.memorySizeMb} MB)`
          : error.message,
        trace: (error.stack ?? "").split("\n"),
        durationMs: 0,
      });
      void this.#kill(sandbox);
    });
    worker.on("exit", (code) => {
      this.#forget(sandbox);
      // The thread is gone: room for an invocation waiting under `maxWorkers`.
      this.#alive.delete(sandbox);
      this.#waitingForRoom.shift()?.();
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
  #run(sandbox: Sandbox, event: string, timeoutMs: number): Promise<InvocationOutcome> {
    const id = ++this.#nextInvocationId;
    const requestId = randomUUID();
    const sent = performance.now();
    return new Promise<InvocationOutcome>((done) => {
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
      const finish = (outcome: InvocationOutcome) => {
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
    this.#idle.delete(sandbox);
    const pool = this.#pools.get(sandbox.key);
    if (!pool) return;
    pool.sandboxes.delete(sandbox);
    if (pool.sandboxes.size === 0 && pool.waiting.length === 0) this.#pools.delete(sandbox.key);
    pool.waiting.shift()?.();
  }
}

function sandboxKey(functionName: string, version: string, codeSha256: string): string {
  return `${functionName}:${version}:${codeSha256}`;
}
