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

/** EventBridge's default limit on one rule's event pattern, in characters. */
export const EVENT_PATTERN_LIMIT = 2048;

/** The pattern of a CloudWatch alarm entering ALARM, for some alarms (by name). */
function alarmEntersAlarmPattern(alarmNames: readonly string[]): Record<string, unknown> {
  return {
    source: ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    detail: { alarmName: [...alarmNames], state: { value: ["ALARM"] } },
  };
}

/**
 * The EventBridge patterns that send the stage's registry alarms entering ALARM to hold-events:
 * one per rule, the names split so that none exceeds {@link EVENT_PATTERN_LIMIT}. By name, not
 * by `resources` (the alarm's ARN): the registry names alarms, and a composite alarm's event
 * names it the same way. No names, no pattern (a stage without alarms has nothing to watch).
 *
 * @example
 * ```ts
 * holdAlarmPatterns(["hello-prod-errors"]);
 * // [{ source: ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
 * //    detail: { alarmName: ["hello-prod-errors"], state: { value: ["ALARM"] } } }]
 * ```
 */
export function holdAlarmPatterns(alarmNames: readonly string[]): Record<string, unknown>[] {
  const names = [...new Set(alarmNames)].sort();
  const patterns: Record<string, unknown>[] = [];
  let batch: string[] = [];
  for (const name of names) {
    if (JSON.stringify(alarmEntersAlarmPattern([name])).length > EVENT_PATTERN_LIMIT)
      throw new Error(`alarm name too long for an event pattern: ${name}`);
    if (JSON.stringify(alarmEntersAlarmPattern([...batch, name])).length > EVENT_PATTERN_LIMIT) {
      patterns.push(alarmEntersAlarmPattern(batch));
      batch = [];
    }
    batch.push(name);
  }
  if (batch.length > 0) patterns.push(alarmEntersAlarmPattern(batch));
  return patterns;
}
