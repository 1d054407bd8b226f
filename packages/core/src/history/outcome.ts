import type { FailureName } from "../errors.ts";
import type { OutcomeStatus } from "../state.ts";

/**
 * How a deployment ended, in one word: the workflow's own {@link OutcomeStatus} (`deployed`,
 * `rolled-back`, `rejected`, `failed`), `running` until it ends, and `aborted` or `timed-out`
 * for an execution that was stopped or ran out of time before it could say. The CLI's JSON
 * `result` and exit code, the composite action's `outcome` output and the console's outcome
 * badge all use these words.
 */
export type DeploymentOutcome = OutcomeStatus | "running" | "aborted" | "timed-out";

export const DEPLOYMENT_OUTCOMES: readonly DeploymentOutcome[] = [
  "running",
  "deployed",
  "rolled-back",
  "rejected",
  "failed",
  "aborted",
  "timed-out",
];

/** What decides a deployment's outcome. */
export interface OutcomeFacts {
  /** The execution's Step Functions status (RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT). */
  readonly status: string | undefined;
  /** The execution's error: the name of the Fail state it ended in. */
  readonly error?: string | undefined;
  /** `$.outcome.status`, as the finishing state recorded it, when the history has it. */
  readonly recordedStatus?: string | undefined;
  /** True when the Rollback state put the previous version back. */
  readonly rolledBack?: boolean | undefined;
}

const REJECTIONS: ReadonlySet<string> = new Set<FailureName>([
  "ApprovalRejected",
  "ApprovalTimedOut",
]);
const ROLLBACK_FAILED: FailureName = "RollbackFailed";

/**
 * One word for how a deployment ended. A failure after traffic moved (AlarmTriggered, and the
 * version analysis's VersionRegressed and InsufficientData) reads `rolled-back` once the
 * rollback put the previous version back; only the approval's endings read `rejected`.
 *
 * @example
 * ```ts
 * deploymentOutcome({ status: "FAILED", error: "AlarmTriggered", recordedStatus: "rolled-back" }); // "rolled-back"
 * deploymentOutcome({ status: "FAILED", error: "ApprovalTimedOut" }); // "rejected"
 * // The version analysis failed the new version: rolled back, as for an alarm.
 * deploymentOutcome({ status: "FAILED", error: "VersionRegressed", rolledBack: true }); // "rolled-back"
 * ```
 */
export function deploymentOutcome(facts: OutcomeFacts): DeploymentOutcome {
  switch (facts.status) {
    case "RUNNING":
    case "PENDING_REDRIVE":
    case undefined:
      return "running";
    case "SUCCEEDED":
      return "deployed";
    case "ABORTED":
      return "aborted";
    case "TIMED_OUT":
      return "timed-out";
    default:
      break;
  }
  if (facts.error === ROLLBACK_FAILED) return "failed";
  if ((facts.error && REJECTIONS.has(facts.error)) || facts.recordedStatus === "rejected") {
    return "rejected";
  }
  if (facts.recordedStatus === "rolled-back" || facts.rolledBack) return "rolled-back";
  return "failed";
}
