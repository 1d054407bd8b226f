/**
 * Schedules and EventBridge patterns, as plain data.
 */

/** The scheduled canary runs once an hour. */
export const CANARY_SCHEDULE = "rate(1 hour)";

/** The execution statuses that end a deployment, all of which are announced. */
export const OUTCOME_STATUSES = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;

/**
 * Statuses that can end an execution without its own cleanup having done everything: reconcile
 * cleans up after them (alias back, lock released, outcome recorded). FAILED too:
 * `States.Runtime` (the history quota) and `States.DataLimitExceeded` end an execution past
 * every Catch, and a FAILED RollbackFailed gets its rollback tried once more; reconcile does
 * nothing for a FAILED execution whose failure path ran otherwise (it has an outcome).
 * SUCCEEDED too: a Finish that failed for good still ends in Deployed, with no record; reconcile
 * records it, and for every other success decides from the event's `output` alone (no AWS call).
 * The same list as `RECONCILED` in functions/reconcile.ts.
 */
export const RECONCILED_STATUSES = ["ABORTED", "TIMED_OUT", "FAILED", "SUCCEEDED"] as const;

/**
 * An EventBridge pattern for this state machine's executions ending in one of `statuses`.
 *
 * @example
 * ```ts
 * executionStatusPattern(stateMachineArn, RECONCILED_STATUSES);
 * // { source: ["aws.states"], "detail-type": ["Step Functions Execution Status Change"], detail: {...} }
 * ```
 */
export function executionStatusPattern(
  stateMachineArn: string,
  statuses: readonly string[],
): Record<string, unknown> {
  return {
    source: ["aws.states"],
    "detail-type": ["Step Functions Execution Status Change"],
    detail: { stateMachineArn: [stateMachineArn], status: [...statuses] },
  };
}
