import { LockDamaged } from "../errors.ts";
import type {
  AliasState,
  Clock,
  FunctionControl,
  Log,
  MetricsPublisher,
  RecordStore,
} from "../ports.ts";
import {
  type DeploymentState,
  type Outcome,
  type RollbackReport,
  type Rollout,
  recordKeys,
} from "../state.ts";
import { readLock } from "./acquire-lock.ts";
import { causeText, type FinishDeps, finish, readDeploymentRecord } from "./finish.ts";
import { rollback } from "./rollback.ts";
import { describeAlias } from "./traffic.ts";

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
 * Cleans up after an execution that ended without its own cleanup having done everything: it
 * was stopped, it timed out, it failed with an error no Catch sees (`States.Runtime`,
 * `States.DataLimitExceeded`), the control plane running it died, its Finish failed for good,
 * or its rollback did. `state` is the last state document the execution had (the input of the
 * last state it entered, or a succeeded execution's output). Every case is safe to run twice.
 *
 * - No outcome, and the rollout promoted and baked (Finish failed for good, or the execution
 *   ended while in Finish): the deployment completed, so it is recorded as deployed, with a
 *   note saying why the reconcile recorded it, and the lock released if still held. A baked
 *   version is never rolled back.
 * - No outcome otherwise: if the deployment had reached Deploy, the alias is put back on the
 *   previous version (the same rollback the workflow would run); then the outcome is recorded
 *   and the lock released if the execution held it. A rollback that fails is reported as
 *   RollbackFailed, which publishes the metric behind the RollbackFailed alarm.
 * - The outcome says RollbackFailed: the rollback is tried once more, through this other path
 *   (its own function and role in AWS), unless another deployment holds the lock or the alias
 *   routes to a version this deployment did not touch. If the alias is then back on the
 *   previous version alone, the record is rewritten as rolled back, with a note that the
 *   reconcile did it (no metric: the alarm was raised by FinishAfterFailure, and says a person
 *   should look; the record tells them what they will find). If it fails again, nothing
 *   changes: the record and the alarm already say RollbackFailed.
 * - Any other outcome: the execution's own Finish ran; nothing to do.
 *
 * In AWS an EventBridge rule on ABORTED, TIMED_OUT, FAILED and SUCCEEDED executions runs this;
 * the local control plane runs it after StopExecution, a failure, a restart and a success whose
 * Finish failed.
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
  // What recording the outcome needs, before anything moves: a stage that cannot record it
  // (its record store's settings missing) fails here, not after it has put the alias back.
  const finishDeps: FinishDeps = {
    records: deps.records,
    metrics: deps.metrics,
    clock: deps.clock,
    ...(deps.log ? { log: deps.log } : {}),
  };
  if (state.outcome?.error === "RollbackFailed") return retryRollback(state, deps, finishDeps);
  if (state.outcome !== undefined) {
    deps.log?.info("nothing to reconcile: the execution's own Finish ran", {
      status: state.outcome.status,
    });
    return {};
  }
  if (completed(state)) {
    const why = state.cleanupFailure
      ? `its Finish step failed (${state.cleanupFailure.Error}: ${causeText(state.cleanupFailure)})`
      : `the execution ended (${error}: ${cause}) before its Finish step completed`;
    const note =
      `the deployment had completed (promoted and baked) when ${why}; ` +
      "the reconcile recorded it as deployed and released the lock if still held";
    deps.log?.warn("recording a completed deployment the workflow did not record", { note });
    const outcome = await finish(state, "succeeded", finishDeps, { note });
    return { outcome };
  }
  let report: RollbackReport | undefined;
  let rollbackError: string | undefined;
  const deployStarted = state.artifact !== undefined || state.rollout !== undefined;
  // Baked with a failure on record cannot come from the workflow: recorded, left as it is.
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
        ? // Stryker disable next-line StringLiteral: equivalent; finish reads only the Cause of a rollbackFailure (the outcome names it RollbackFailed) and does not keep it
          { rollbackFailure: { Error: "RollbackFailed", Cause: rollbackError } }
        : {}),
    },
    // Stryker disable next-line StringLiteral: equivalent; finish treats every result but "succeeded" as failed
    "failed",
    finishDeps,
  );
  return {
    ...(report ? { rollback: report } : {}),
    ...(rollbackError ? { rollbackError } : {}),
    outcome,
  };
}

/**
 * True for a succeeded execution's output (its last state) that needs the reconcile: its
 * Finish failed for good (`cleanupFailure`) and nothing was recorded (no `outcome`). Every
 * other success is a no-op, decided without any I/O.
 *
 * @example
 * ```ts
 * unrecordedSuccess({ rollout, cleanupFailure: { Error: "States.Timeout" } }); // true
 * unrecordedSuccess({ rollout, outcome: { status: "deployed", lockReleased: true } }); // false
 * ```
 */
export function unrecordedSuccess(output: unknown): output is Partial<DeploymentState> {
  if (typeof output !== "object" || output === null || Array.isArray(output)) return false;
  const state = output as Partial<DeploymentState>;
  return state.outcome === undefined && state.cleanupFailure !== undefined;
}

/** Promoted and baked, nothing failed: prod serves the new version, validated. */
function completed(state: Partial<DeploymentState>): boolean {
  return (
    state.rollout?.phase === "baked" &&
    state.failure === undefined &&
    state.rollback === undefined &&
    state.rollbackFailure === undefined
  );
}

/**
 * The second try of a rollback that failed in the workflow (case 3 above). Leaves everything as
 * it is when the record already says otherwise (a repeat), when another deployment has locked
 * the target since, or when the alias routes to a version this deployment did not touch.
 */
async function retryRollback(
  state: Partial<DeploymentState>,
  deps: ReconcileDeps,
  finishDeps: FinishDeps,
): Promise<ReconcileResult> {
  const { plan, request, execution } = state;
  if (!plan || !request || !execution) return {};
  // The execution's current record: an earlier reconcile's amendment if there is one.
  const recorded = await readDeploymentRecord(deps.records, plan.service, execution);
  if (recorded && recorded.value.outcome?.error !== "RollbackFailed") {
    deps.log?.info("the failed rollback was already reconciled", {
      status: recorded.value.outcome?.status,
    });
    return {};
  }
  const leave = (reason: string): ReconcileResult => {
    deps.log?.error("the failed rollback was not retried: it still needs a person", { reason });
    return { rollbackError: reason };
  };
  let lock: Awaited<ReturnType<typeof readLock>>;
  try {
    lock = await readLock(deps.records, recordKeys.lock(plan.service), plan);
  } catch (failure) {
    if (failure instanceof LockDamaged) return leave(failure.message);
    throw failure;
  }
  if (lock && lock.value.owner !== execution.id) {
    return leave(`another deployment holds the lock since: ${lock.value.owner}`);
  }
  let report: RollbackReport;
  try {
    const alias = await deps.functions.getAlias(plan.target.functionName, plan.target.alias);
    if (alias && state.rollout && !routesWithin(alias, state.rollout)) {
      return leave(
        `${plan.target.functionName}:${plan.target.alias} routes to ${describeAlias(alias)}, ` +
          `not only to versions ${state.rollout.previousVersion} and ${state.rollout.newVersion}`,
      );
    }
    report = await rollback({ plan, ...(state.rollout ? { rollout: state.rollout } : {}) }, deps);
  } catch (failure) {
    return leave(
      failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure),
    );
  }
  const first = state.rollbackFailure ? causeText(state.rollbackFailure) : "no cause given";
  const note =
    `the workflow's rollback failed (${first}); the reconcile rolled back ` +
    `${report.restoredVersion ? `to version ${report.restoredVersion}` : "(nothing to change)"}` +
    ` and verified it at ${report.verifiedAt}`;
  const { outcome: _failed, rollbackFailure: _rollbackFailure, ...rest } = state;
  // Stryker disable next-line StringLiteral: equivalent; finish treats every result but "succeeded" as failed
  const outcome = await finish({ ...rest, rollback: report }, "failed", finishDeps, { note });
  deps.log?.warn("a failed rollback was completed by the reconcile", { note });
  return { rollback: report, outcome };
}

/** The alias routes only to this rollout's versions (previous and new). */
function routesWithin(alias: AliasState, rollout: Rollout): boolean {
  const ours = new Set([rollout.previousVersion, rollout.newVersion]);
  return [alias.version, ...Object.keys(alias.weights)].every((v) => ours.has(v));
}
