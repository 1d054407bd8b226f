import { unrecordedSuccess } from "@gantry/core";
import type { RunningExecution } from "../engine/workflow-engine.ts";
import type {
  ExecutionRecord,
  ExecutionStore,
  ExecutionSummary,
  ReconcileIntent,
} from "./execution-store.ts";
import { type HistoryEvent, HistoryRecorder } from "./history.ts";
import type { HostedStateMachine } from "./hosted-state-machines.ts";
import { describeError, type ExecutionReconciler } from "./recovery.ts";
import type { CallObserver, TaskCallRouter } from "./task-calls.ts";

/**
 * Step Functions' quota on one execution's history: at 25,000 events the execution fails, past
 * every Catch. The local Step Functions fails it the same way, so a policy that would hit it in AWS
 * fails here first.
 */
export const MAX_HISTORY_EVENTS = 25_000;

/** What one execution's run works with: its state machine, the disk, and its owner's hooks. */
export interface ExecutionRunContext {
  readonly machine: HostedStateMachine;
  readonly calls: TaskCallRouter;
  readonly store: ExecutionStore;
  /** Ends, crash-safely, an execution that needs cleanup (recovery.ts). */
  readonly reconciler: ExecutionReconciler;
  /** Appends a history event (and tells the live view); throws if the write fails. */
  readonly append: (record: ExecutionSummary, event: HistoryEvent) => void;
  /** Told once the execution has succeeded and its terminal record was saved (or logged unsaved). */
  readonly succeeded: (record: ExecutionRecord) => void;
  /** Told when the run is over, however it ended: the execution is no longer live. */
  readonly released: (record: ExecutionRecord) => void;
  readonly log: (line: string) => void;
}

/** How an execution that needs cleanup ends: the status, error and cause it ends with. */
type Ending = Pick<ReconcileIntent, "status" | "error" | "cause">;

/** Engine events not recorded as they come: the ending is written after the cleanup has run. */
const ENDINGS_WRITTEN_LATER = new Set(["ExecutionFailed", "ExecutionAborted", "ExecutionTimeout"]);

/**
 * One execution, running: it consumes the engine's events, records them as history (within the
 * history quota), and ends the execution. A success is saved at once (unless its Finish failed
 * for good); any other end (stopped, timed out, failed past every Catch, unrecordable) goes to the
 * reconciler, which runs the cleanup before the execution is terminal. Apart from LocalStepFunctions, which keeps the many
 * executions and answers the API; this is the life of one.
 */
export class ExecutionRun {
  /** The full record (with input) while the execution runs; finished ones keep a summary. */
  readonly record: ExecutionRecord;
  readonly #context: ExecutionRunContext;
  readonly #input: unknown;
  readonly #recorder: HistoryRecorder;
  #run: RunningExecution = stalled();
  /** The input of the last state entered: what cleanup works from if the execution is abandoned. */
  #lastState: unknown;
  #finished: Promise<void> = Promise.resolve();
  /**
   * Set when the execution must fail whatever its definition says: it hit one of Step Functions'
   * hard limits, or the control plane could not record it (a history write failed).
   */
  #fatal?: { readonly error: string; readonly cause: string };
  /** The error and cause StopExecution was given. */
  #stop?: { readonly error?: string; readonly cause?: string };

  /** Prepares the run; nothing happens until {@link start}. */
  constructor(context: ExecutionRunContext, record: ExecutionRecord, input: unknown) {
    this.#context = context;
    this.record = record;
    this.#input = input;
    this.#lastState = input;
    // A failed history write fails this execution (#fault); it never reaches the engine's Task.
    this.#recorder = new HistoryRecorder(context.machine.states, (event) => {
      try {
        context.append(record, event);
      } catch (error) {
        this.#fault(error);
      }
    });
  }

  /** Resolves once the execution has ended (or its cleanup failed and was left for the next start). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /**
   * Stops the execution (StopExecution, shutdown): the first stop's error and cause are the ones
   * it ends with.
   */
  stop(stop: { readonly error?: string; readonly cause?: string }): void {
    this.#stop ??= stop;
    this.#run.stop(stop.cause ?? "stopped through StopExecution");
  }

  start(): void {
    const { machine, calls, log } = this.#context;
    const record = this.record;
    const recorder = this.#recorder;
    const observer: CallObserver = {
      invoked: (functionArn, callInput) => recorder.taskInvoked(functionArn, callInput),
      settled: (call, outcome) => recorder.taskSettled(call, outcome),
    };
    // Everything the engine does for this execution runs in its context, so the shared Task
    // handlers know whose call they are making.
    try {
      this.#run = calls.within(observer, () =>
        machine.engine.start(
          this.#input,
          { executionArn: record.executionArn, name: record.name },
          { onTaskResult: (stateName, result) => recorder.taskResult(stateName, result) },
        ),
      );
    } catch (error) {
      this.#run = stalled(error);
    }
    const run = this.#run;
    let timedOut = false;
    // Nothing thrown while recording (an event that cannot be serialized, a failed write) may
    // leave this loop: it would end the process and every execution in it.
    const consumed = (async () => {
      try {
        for await (const event of run.events) {
          try {
            if (event.type === "StateEntered") this.#lastState = event.state.input;
            if (event.type === "ExecutionTimeout") timedOut = true;
            // The execution's last event is written by the reconciler, once its cleanup has run;
            // so is a success's whose Finish failed for good (it is recorded first).
            if (ENDINGS_WRITTEN_LATER.has(event.type)) continue;
            if (event.type === "ExecutionSucceeded" && unrecordedSuccess(event.output)) continue;
            if (this.#fatal) continue;
            // One engine event writes up to four history events; one more is ExecutionFailed.
            if (recorder.lastEventId >= MAX_HISTORY_EVENTS - 5) {
              this.#fatal = {
                error: "States.Runtime",
                cause: `the execution history reached the Step Functions limit of ${MAX_HISTORY_EVENTS} events`,
              };
              recorder.close();
              run.stop("history limit");
              continue;
            }
            recorder.record(event);
          } catch (error) {
            this.#fault(error);
          }
        }
      } catch (error) {
        this.#fault(error);
      }
    })();
    this.#finished = run.result
      .then(
        async (output) => {
          await consumed;
          if (!this.#fatal) return this.#succeed(output);
          await run.idle();
          await this.#abandon({ status: "FAILED", ...this.#fatal });
        },
        async (error: Error) => {
          await consumed;
          // Cleanup must not race a Task that is still finishing (e.g. a traffic shift).
          await run.idle();
          const ending: Ending = this.#fatal
            ? { status: "FAILED", ...this.#fatal }
            : error.name === "ExecutionStopped"
              ? { status: "ABORTED", ...this.#stop }
              : // A failure past every Catch (States.Runtime, States.DataLimitExceeded) ran no
                // failure path, as the EventBridge rule does in AWS, cleanup runs; it finds
                // nothing to do when a Catch did run one.
                {
                  status: timedOut ? "TIMED_OUT" : "FAILED",
                  error: error.name,
                  cause: error.message,
                };
          await this.#abandon(ending);
        },
      )
      .catch((error: unknown) =>
        log(`gantry: ${record.executionArn} could not be ended: ${describeError(error)}`),
      )
      .finally(() => this.#context.released(record));
  }

  /**
   * The execution cannot be recorded (a history write failed, an event cannot be serialized):
   * it fails with States.Runtime, past every Catch, and is cleaned up like any other such failure.
   */
  #fault(error: unknown): void {
    if (this.#fatal) return;
    this.#fatal = {
      error: "States.Runtime",
      cause: `the local control plane could not record this execution's history (${describeError(error)}); it was stopped`,
    };
    this.#context.log(`gantry: ${this.record.executionArn}: ${this.#fatal.cause}`);
    this.#recorder.close();
    this.#run.stop("the execution could not be recorded");
  }

  async #succeed(output: unknown): Promise<void> {
    // Its Finish failed for good: nothing recorded, the lock perhaps still held. The reconcile
    // records it (deployed) before the execution is SUCCEEDED, crash-safely (recovery.ts).
    if (unrecordedSuccess(output)) {
      await this.#context.reconciler.reconcile(
        this.record,
        { status: "SUCCEEDED", lastState: JSON.stringify(output), stopDate: Date.now() },
        this.#recorder.lastEventId,
      );
      return;
    }
    const record = this.record;
    this.#context.released(record);
    Object.assign(record, {
      status: "SUCCEEDED",
      stopDate: Date.now(),
      output: JSON.stringify(output ?? null),
    });
    try {
      this.#context.store.save(record);
    } catch (error) {
      // Its history ends with ExecutionSucceeded: the next start reads the ending from there.
      this.#context.log(
        `gantry: ${record.executionArn} succeeded but could not be saved: ${describeError(error)}`,
      );
    }
    this.#context.succeeded(record);
  }

  /** An execution that ended without running its own failure path: clean up, then end it. */
  async #abandon(ending: Ending): Promise<void> {
    let lastState: string;
    try {
      lastState = JSON.stringify(this.#lastState ?? null);
    } catch {
      lastState = this.record.input;
    }
    await this.#context.reconciler.reconcile(
      this.record,
      { ...ending, lastState, stopDate: Date.now() },
      this.#recorder.lastEventId,
    );
  }
}

/** A run that never started (the engine refused it): it fails at once with the engine's error. */
function stalled(error?: unknown): RunningExecution {
  return {
    events: (async function* () {})(),
    result:
      error === undefined
        ? new Promise<never>(() => undefined)
        : Promise.reject(error instanceof Error ? error : new Error(String(error))),
    stop: () => undefined,
    idle: async () => undefined,
  };
}
