import type { DeploymentOutcome, FailureName } from "@gantry/core";

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

const INVALID_INPUT: FailureName = "InvalidInput";

/**
 * The exit code for how a deployment ended: 0 deployed (or still running, when not waiting),
 * 3 rolled back, 4 rejected or timed out waiting for approval, 2 when the state machine refused
 * the input (InvalidInput), 5 for everything else (aborted, timed out, RollbackFailed, ...).
 *
 * @example
 * ```ts
 * exitCodeFor("rejected"); // 4
 * exitCodeFor("failed", "InvalidInput"); // 2
 * ```
 */
export function exitCodeFor(outcome: DeploymentOutcome, error?: string): ExitCode {
  switch (outcome) {
    case "running":
    case "deployed":
      return ExitCode.Ok;
    case "rolled-back":
      return ExitCode.RolledBack;
    case "rejected":
      return ExitCode.Rejected;
    case "failed":
      return error === INVALID_INPUT ? ExitCode.Usage : ExitCode.Failed;
    default:
      return ExitCode.Failed;
  }
}
