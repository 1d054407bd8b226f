/**
 * The exit codes CI branches on. They are part of the command's contract (docs/ci.md): never
 * renumber them.
 */
export const ExitCode = {
  /** Deployed (or, for other commands, done). */
  Ok: 0,
  /** Invalid input or usage: nothing was started. Fix the command line or the request. */
  Usage: 2,
  /** The deployment failed after traffic moved and was rolled back: prod serves the previous version. */
  RolledBack: 3,
  /** An approver rejected the deployment, or nobody decided in time. */
  Rejected: 4,
  /** Any other failure; the execution's error and cause are printed. */
  Failed: 5,
  /** Ctrl-C while following: the execution itself goes on. */
  Interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Step Functions execution statuses. */
export type ExecutionStatus =
  | "RUNNING"
  | "SUCCEEDED"
  | "FAILED"
  | "TIMED_OUT"
  | "ABORTED"
  | "PENDING_REDRIVE";

/** How a deployment ended, in one word (the JSON document's `result`, the composite action's `outcome`). */
export type DeploymentResult =
  | "running"
  | "deployed"
  | "rolled-back"
  | "rejected"
  | "failed"
  | "aborted"
  | "timed-out";

/** What decides the exit code: the execution's status and error, and what the history says. */
export interface ExitFacts {
  readonly status: string | undefined;
  /** The execution's error (its Fail state's name). */
  readonly error?: string | undefined;
  /** `$.outcome.status` from the last ReleaseLock task, when the history has one. */
  readonly outcomeStatus?: string | undefined;
  /** True when the Rollback state exited without a rollback failure. */
  readonly rolledBack?: boolean | undefined;
}

const REJECTIONS = new Set(["ApprovalRejected", "ApprovalTimedOut"]);

/**
 * One word for how an execution ended.
 *
 * @example
 * ```ts
 * deploymentResult({ status: "FAILED", error: "AlarmTriggered", outcomeStatus: "rolled-back" }); // "rolled-back"
 * ```
 */
export function deploymentResult(facts: ExitFacts): DeploymentResult {
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
  if (facts.error === "RollbackFailed") return "failed";
  if ((facts.error && REJECTIONS.has(facts.error)) || facts.outcomeStatus === "rejected") {
    return "rejected";
  }
  if (facts.outcomeStatus === "rolled-back" || facts.rolledBack) return "rolled-back";
  return "failed";
}

/**
 * The exit code for an execution: 0 deployed (or still running, when not waiting), 3 rolled
 * back, 4 rejected or timed out waiting for approval, 2 when the state machine refused the input
 * (InvalidInput), 5 for everything else (including ABORTED, TIMED_OUT and RollbackFailed).
 *
 * @example
 * ```ts
 * exitCodeFor({ status: "FAILED", error: "ApprovalRejected" }); // 4
 * ```
 */
export function exitCodeFor(facts: ExitFacts): ExitCode {
  switch (deploymentResult(facts)) {
    case "running":
    case "deployed":
      return ExitCode.Ok;
    case "rolled-back":
      return ExitCode.RolledBack;
    case "rejected":
      return ExitCode.Rejected;
    default:
      return facts.status === "FAILED" && facts.error === "InvalidInput"
        ? ExitCode.Usage
        : ExitCode.Failed;
  }
}
