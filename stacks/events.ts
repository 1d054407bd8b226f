/**
 * Schedules and EventBridge patterns, as plain data.
 */

/** The scheduled canary runs once an hour. */
export const CANARY_SCHEDULE = "rate(1 hour)";

/** The execution statuses that end a deployment, all of which are announced. */
export const OUTCOME_STATUSES = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;

/**
 * Statuses that can end an execution without its own failure path having run: reconcile cleans
 * up after them (alias back, lock released, outcome recorded). FAILED too: `States.Runtime`
 * (the history quota) and `States.DataLimitExceeded` end an execution past every Catch;
 * reconcile does nothing for a FAILED execution whose failure path ran (it has an outcome).
 * The same list as `RECONCILED` in functions/reconcile.ts.
 */
export const ABANDONED_STATUSES = ["ABORTED", "TIMED_OUT", "FAILED"] as const;

/**
 * An EventBridge pattern for this state machine's executions ending in one of `statuses`.
 *
 * @example
 * ```ts
 * executionStatusPattern(stateMachineArn, ABANDONED_STATUSES);
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
