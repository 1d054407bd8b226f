import type { Stage } from "@gantry/core";

/**
 * Physical names of what Gantry creates. They are fixed (not generated) because other things
 * point at them before they exist: the functions' own policies name this state machine's
 * executions, and the preprod account trusts the prod functions' roles by name.
 *
 * One stage per account, whatever the region: IAM role names are global to an account (not
 * per region), so a second deployment of the same stage in another region of that account
 * would collide on them (`gantry-<stage>-<function>`, `gantry-<stage>-state-machine`).
 */

/** `gantry-preprod` / `gantry-prod`: the same names the local control plane uses. */
export function stateMachineName(stage: Stage): string {
  return `gantry-${stage}`;
}

/**
 * A function's name, e.g. `gantry-prod-acquire-lock`.
 *
 * @example
 * ```ts
 * functionName("prod", "acquire-lock"); // "gantry-prod-acquire-lock"
 * ```
 */
export function functionName(stage: Stage, fn: string): string {
  return `gantry-${stage}-${fn}`;
}

/** A function's execution role, named like the function. */
export function functionRoleName(stage: Stage, fn: string): string {
  return functionName(stage, fn);
}

/** The state machine's role. */
export function stateMachineRoleName(stage: Stage): string {
  return `gantry-${stage}-state-machine`;
}

/** The role in the preprod account that the prod VerifyPreprod assumes (read-only). */
export const PREPROD_READ_ROLE_NAME = "gantry-preprod-verify-read";

/** The state machine's execution log group. */
export function stateMachineLogGroupName(stage: Stage): string {
  return `/aws/vendedlogs/states/gantry-${stage}`;
}

/**
 * The state bucket (locks, approvals, task tokens, deployment records) unless
 * GANTRY_STATE_BUCKET names one: account and region make the global name unique.
 */
export function defaultStateBucketName(stage: Stage, accountId: string, region: string): string {
  return `gantry-state-${stage}-${accountId}-${region}`;
}

/** The SNS topic that receives deployment outcomes and alarms. */
export function topicName(stage: Stage): string {
  return `gantry-${stage}-notifications`;
}

/** The two key sets a stage keeps in Secrets Manager (see `approval.ts`). */
export type KeySet = "links" | "decisions";

/**
 * The Secrets Manager secret holding one key set: `gantry-<stage>-link-keys` (approval link
 * signing keys) or `gantry-<stage>-decision-keys` (decision record keys). Fixed, so the
 * functions' policies can name it before it exists (AWS appends `-` and six random characters
 * to its ARN).
 *
 * @example
 * ```ts
 * keySecretName("prod", "decisions"); // "gantry-prod-decision-keys"
 * ```
 */
export function keySecretName(stage: Stage, keys: KeySet): string {
  return `gantry-${stage}-${keys === "links" ? "link" : "decision"}-keys`;
}

/**
 * The stage's EventBridge Scheduler group for holds' one-time schedules: the functions' policies
 * name its schedules (`schedule/<group>/*`) and nothing else.
 *
 * @example
 * ```ts
 * holdScheduleGroupName("prod"); // "gantry-prod-holds"
 * ```
 */
export function holdScheduleGroupName(stage: Stage): string {
  return `gantry-${stage}-holds`;
}

/** The role EventBridge Scheduler assumes to deliver a hold's end to the hold-events function. */
export function holdSchedulerRoleName(stage: Stage): string {
  return `gantry-${stage}-hold-scheduler`;
}

/** The EventBridge rule(s) sending the registry's alarms entering ALARM to hold-events. */
export function holdAlarmRuleName(stage: Stage, index: number): string {
  return index === 0 ? `gantry-${stage}-hold-alarms` : `gantry-${stage}-hold-alarms-${index + 1}`;
}
