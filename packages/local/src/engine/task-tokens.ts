import { randomBytes } from "node:crypto";

/**
 * Task tokens for `.waitForTaskToken` Tasks, which aws-local-stepfunctions does not implement
 * itself. The engine issues a token when the Task's parameters read `$$.Task.Token`; the Task's
 * local handler then waits on it; SendTaskSuccess / SendTaskFailure settle it. Error names match
 * Step Functions': `InvalidToken` for a token that never existed, `TaskTimedOut` for one that
 * is no longer waiting (its Task timed out, or its execution ended).
 */
export class TaskTokenError extends Error {
  override readonly name: "InvalidToken" | "TaskTimedOut";
  constructor(name: "InvalidToken" | "TaskTimedOut", message: string) {
    super(message);
    this.name = name;
  }
}

/** The failure a waiting Task sees after SendTaskFailure: its `name` is the caller's error. */
export class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface Pending {
  readonly executionArn: string;
  readonly stateName: string;
  readonly settled: Promise<unknown>;
  resolve(output: unknown): void;
  reject(error: Error): void;
  done: boolean;
  lastHeartbeat: number;
}

export interface TaskTokenInfo {
  readonly executionArn: string;
  readonly stateName: string;
}

export class TaskTokenRegistry {
  readonly #tokens = new Map<string, Pending>();

  /** A new token for a Task of an execution. Opaque, random, and never derived from state. */
  issue(executionArn: string, stateName: string): string {
    const token = `AQ${randomBytes(48).toString("base64url")}`;
    let resolve!: (output: unknown) => void;
    let reject!: (error: Error) => void;
    const settled = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A token nobody waits for must not become an unhandled rejection.
    settled.catch(() => undefined);
    this.#tokens.set(token, {
      executionArn,
      stateName,
      settled,
      resolve,
      reject,
      done: false,
      lastHeartbeat: Date.now(),
    });
    return token;
  }

  /** Resolves with the SendTaskSuccess output, or rejects with the SendTaskFailure error. */
  wait(token: string): Promise<unknown> {
    const pending = this.#tokens.get(token);
    if (!pending) return Promise.reject(new TaskTokenError("InvalidToken", "unknown task token"));
    return pending.settled;
  }

  /** Which execution and state a token belongs to (for callers that must check first). */
  info(token: string): TaskTokenInfo | undefined {
    const pending = this.#tokens.get(token);
    return pending && { executionArn: pending.executionArn, stateName: pending.stateName };
  }

  succeed(token: string, output: unknown): void {
    this.#open(token).resolve(output);
    this.#close(token);
  }

  fail(token: string, error: string, cause: string): void {
    this.#open(token).reject(new TaskFailure(error || "TaskFailed", cause));
    this.#close(token);
  }

  heartbeat(token: string): void {
    this.#open(token).lastHeartbeat = Date.now();
  }

  /** Ends every waiting token of an execution (it stopped, failed or finished). */
  closeExecution(executionArn: string, reason: string): void {
    for (const [token, pending] of this.#tokens) {
      if (pending.executionArn !== executionArn || pending.done) continue;
      pending.reject(new TaskTokenError("TaskTimedOut", reason));
      this.#close(token);
    }
  }

  /** Ends one token whose Task gave up waiting (timeout). */
  expire(token: string): void {
    const pending = this.#tokens.get(token);
    if (pending && !pending.done) this.#close(token);
  }

  #open(token: string): Pending {
    const pending = this.#tokens.get(token);
    if (!pending) throw new TaskTokenError("InvalidToken", "Invalid token");
    if (pending.done) throw new TaskTokenError("TaskTimedOut", "Task Timed Out");
    return pending;
  }

  #close(token: string): void {
    const pending = this.#tokens.get(token);
    if (pending) pending.done = true;
  }
}
