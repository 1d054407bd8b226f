import { crashPoint } from "../crash-points.ts";
import type {
  ExecutionRecord,
  ExecutionStore,
  ExecutionSummary,
  ReconcileIntent,
} from "./execution-store.ts";
import type { HistoryEvent } from "./history.ts";

/**
 * Called when an execution ended without running its own failure path (stopped, failed past
 * every Catch, or running when the control plane died), when it failed through it (the
 * reconcile finds nothing to do, or retries a failed rollback), or when it succeeded without
 * recording its outcome (its Finish failed for good), with the last state document it had.
 * The local world uses it to roll the alias back and release the lock. It must be idempotent:
 * after a crash it runs again. What it returns, if a string, is a note of what the cleanup did
 * that the execution's cause should carry (e.g. "the deployment had completed ...: recorded as
 * deployed"), so DescribeExecution and the console say it too.
 */
export type AbandonedHandler = (
  stateMachine: string,
  lastState: unknown,
  error: string,
  cause: string,
) => Promise<unknown>;

/** The error an execution running when the control plane stopped is marked with. */
export const RESTART_ERROR = "ControlPlaneRestarted";

/** The error the cleanup is given when the intent names none. */
const INTENT_ERRORS = {
  FAILED: "States.Runtime",
  ABORTED: "ExecutionAborted",
  TIMED_OUT: "States.Runtime",
  SUCCEEDED: "ExecutionSucceeded",
} as const;

const RESTART_CAUSE =
  "the local control plane stopped while this execution was running; it did not resume it";

const ENDING_EVENTS = {
  SUCCEEDED: { type: "ExecutionSucceeded", details: "executionSucceededEventDetails" },
  FAILED: { type: "ExecutionFailed", details: "executionFailedEventDetails" },
  ABORTED: { type: "ExecutionAborted", details: "executionAbortedEventDetails" },
  TIMED_OUT: { type: "ExecutionTimedOut", details: "executionTimedOutEventDetails" },
} as const;

export interface ReconcilerDeps {
  readonly store: ExecutionStore;
  readonly onAbandoned: AbandonedHandler | undefined;
  readonly log: (line: string) => void;
  /** Appends a history event (and tells the live view). */
  readonly append: (record: ExecutionSummary, event: HistoryEvent) => void;
  /** Told once an execution is terminal, on disk. */
  readonly ended: (record: ExecutionRecord) => void;
}

/**
 * Ends, crash-safely, the executions that need cleanup (a success whose Finish failed for good
 * too: it ends SUCCEEDED, its output the intent's last state): (1) the intent (`reconcile.json`) is
 * written, (2) the cleanup runs, (3) the last history event and then the terminal record are
 * written, (4) the intent is removed. A crash anywhere repeats the cleanup at the next start (it
 * is idempotent: the rollback restores the same version, the deployment record is rewritten,
 * the lock is released only if still held), and an execution is terminal only after step 3, so
 * it is never over with its cleanup undone. A cleanup that throws leaves the execution RUNNING,
 * its intent on disk, retried at the next start: DescribeExecution says RUNNING meanwhile, as
 * AWS does while an execution is stopping, and the lock it holds is not taken over.
 */
export class ExecutionReconciler {
  readonly #deps: ReconcilerDeps;
  /** Executions whose cleanup has not completed (in this process). */
  readonly #pending = new Set<string>();
  readonly #jobs = new Set<Promise<void>>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  isPending(executionArn: string): boolean {
    return this.#pending.has(executionArn);
  }

  /** Resolves when every cleanup under way has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.#jobs]);
  }

  /**
   * An execution found unfinished at start: one whose cleanup had begun (its intent is on disk)
   * finishes it; one that was simply running fails with ControlPlaneRestarted, cleaned up from
   * the last state it entered.
   */
  async recover(record: ExecutionRecord, intent: ReconcileIntent | undefined): Promise<void> {
    const history = this.#deps.store.readHistory(record);
    const lastEventId = history.reduce(
      (max, e) => (typeof e.id === "number" && e.id > max ? e.id : max),
      0,
    );
    if (intent) return this.reconcile(record, intent, lastEventId, false);
    const lastEntered = [...history]
      .reverse()
      .find((e) => typeof e.type === "string" && e.type.endsWith("StateEntered"));
    const details = lastEntered?.stateEnteredEventDetails as { input?: unknown } | undefined;
    const lastState =
      typeof details?.input === "string" && parses(details.input) ? details.input : record.input;
    return this.reconcile(
      record,
      {
        status: "FAILED",
        error: RESTART_ERROR,
        cause: RESTART_CAUSE,
        lastState,
        stopDate: Date.now(),
      },
      lastEventId,
    );
  }

  /** Cleans up after an execution and then ends it, in the order above. Never rejects. */
  reconcile(
    record: ExecutionRecord,
    intent: ReconcileIntent,
    lastEventId: number,
    writeIntent = true,
  ): Promise<void> {
    const arn = record.executionArn;
    const { store, log } = this.#deps;
    this.#pending.add(arn);
    const job = (async () => {
      if (writeIntent) {
        try {
          store.saveIntent(record, intent);
        } catch (error) {
          // Cleaning up matters more than the bookkeeping: a crash now recovers it as interrupted.
          log(`gantry: ${arn}: could not record its pending cleanup (${describeError(error)})`);
        }
        crashPoint("after-reconcile-intent");
      }
      let note: unknown;
      try {
        note = await this.#deps.onAbandoned?.(
          record.stateMachineName,
          JSON.parse(intent.lastState),
          intent.error ?? INTENT_ERRORS[intent.status],
          intent.cause ?? (intent.status === "SUCCEEDED" ? "succeeded" : "stopped"),
        );
      } catch (error) {
        log(
          `gantry: the cleanup of ${arn} failed (${describeError(error)}); it stays RUNNING and is retried at the next start`,
        );
        return;
      }
      crashPoint("after-cleanup-before-terminal");
      const ending =
        typeof note === "string" && note !== "" && intent.status !== "SUCCEEDED"
          ? { ...intent, cause: intent.cause ? `${intent.cause}; ${note}` : note }
          : intent;
      try {
        this.#end(record, ending, lastEventId);
      } catch (error) {
        log(
          `gantry: ${arn} was cleaned up but could not be ended (${describeError(error)}); the next start ends it`,
        );
      }
    })().finally(() => this.#jobs.delete(job));
    this.#jobs.add(job);
    return job;
  }

  /** The execution's last history event, then its terminal record; then its intent goes. */
  #end(record: ExecutionRecord, intent: ReconcileIntent, lastEventId: number): void {
    const { store } = this.#deps;
    const { type, details } = ENDING_EVENTS[intent.status];
    const succeeded = intent.status === "SUCCEEDED";
    const fields = {
      ...(intent.error !== undefined && !succeeded ? { error: intent.error } : {}),
      ...(intent.cause !== undefined && !succeeded ? { cause: intent.cause } : {}),
    };
    this.#deps.append(record, {
      id: lastEventId + 1,
      previousEventId: lastEventId,
      timestamp: intent.stopDate,
      type,
      [details]: succeeded
        ? { output: intent.lastState, outputDetails: { truncated: false } }
        : fields,
    });
    crashPoint("after-terminal-event");
    const ended: ExecutionRecord = {
      ...record,
      status: intent.status,
      stopDate: intent.stopDate,
      ...fields,
      ...(succeeded ? { output: intent.lastState } : {}),
    };
    store.save(ended);
    Object.assign(
      record,
      { status: ended.status, stopDate: ended.stopDate },
      fields,
      succeeded ? { output: intent.lastState } : {},
    );
    this.#pending.delete(record.executionArn);
    crashPoint("after-terminal-record");
    try {
      store.removeIntent(record);
    } catch {
      // Left behind, it is removed at the next start: the record is terminal.
    }
    this.#deps.ended(ended);
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
