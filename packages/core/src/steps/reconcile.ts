import type { Clock, FunctionControl, Log, MetricsPublisher, RecordStore } from "../ports.ts";
import type { DeploymentState, Outcome, RollbackReport } from "../state.ts";
import { type FinishDeps, finish } from "./finish.ts";
import { rollback } from "./rollback.ts";

export interface ReconcileDeps {
  readonly functions: FunctionControl;
  readonly records: RecordStore;
  readonly metrics: MetricsPublisher;
  readonly clock: Clock;
  readonly log?: Log;
}

export interface ReconcileResult {
  readonly rollback?: RollbackReport;
  readonly rollbackError?: string;
  /** Absent when there was nothing to do: the execution's own failure path had run. */
  readonly outcome?: Outcome;
}

/**
 * Cleans up after an execution that ended without running its own failure path: it was
 * stopped, it timed out, it failed with an error no Catch sees (`States.Runtime`,
 * `States.DataLimitExceeded`), or the control plane running it died. `state` is the last
 * state document the execution had (the input of the last state it entered). When that
 * document already has an outcome, the failure path did run (recorded, lock released) and
 * there is nothing to do.
 *
 * If the deployment had reached Deploy and not finished its bake, the alias is put back on the
 * previous version (the same rollback the workflow would run); then the outcome is
 * recorded and the lock released if the execution held it. A rollback that fails is reported
 * as RollbackFailed, which publishes the metric behind the RollbackFailed alarm.
 *
 * In AWS an EventBridge rule on ABORTED, TIMED_OUT and FAILED executions runs this; the local
 * control plane runs it after StopExecution, a failure and a restart.
 *
 * @example
 * ```ts
 * const result = await reconcileAbandoned(lastState, "ExecutionAborted", "stopped by alice", deps);
 * result.outcome.status; // "rolled-back"
 * ```
 */
export async function reconcileAbandoned(
  state: Partial<DeploymentState>,
  error: string,
  cause: string,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  if (state.outcome !== undefined) {
    deps.log?.info("nothing to reconcile: the execution's failure path ran", {
      status: state.outcome.status,
    });
    return {};
  }
  // What recording the outcome needs, before anything moves: a stage that cannot record it
  // (its record store's settings missing) fails here, not after it has put the alias back.
  const finishDeps: FinishDeps = {
    records: deps.records,
    metrics: deps.metrics,
    clock: deps.clock,
    ...(deps.log ? { log: deps.log } : {}),
  };
  let report: RollbackReport | undefined;
  let rollbackError: string | undefined;
  const deployStarted = state.artifact !== undefined || state.rollout !== undefined;
  const finished = state.rollback !== undefined || state.rollout?.phase === "baked";
  if (state.plan && deployStarted && !finished) {
    try {
      report = await rollback(
        { plan: state.plan, ...(state.rollout ? { rollout: state.rollout } : {}) },
        deps,
      );
    } catch (failure) {
      rollbackError =
        failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
      deps.log?.error("rollback of an abandoned deployment failed", { error: rollbackError });
    }
  }
  const outcome = await finish(
    {
      ...state,
      failure: { Error: error, Cause: cause },
      ...(report ? { rollback: report } : {}),
      ...(rollbackError
        ? { rollbackFailure: { Error: "RollbackFailed", Cause: rollbackError } }
        : {}),
    },
    "failed",
    finishDeps,
  );
  return {
    ...(report ? { rollback: report } : {}),
    ...(rollbackError ? { rollbackError } : {}),
    outcome,
  };
}
