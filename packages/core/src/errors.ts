/**
 * Every failure Gantry raises on purpose is a named class. The class's `name` is the error name
 * Step Functions sees (Lambda reports it as `errorType`), so the workflow's Retry and Catch
 * rules and its `Fail` states match on these strings.
 *
 * @example
 * ```ts
 * import { CanaryFailed, isGantryError } from "@gantry/core";
 * const error = new CanaryFailed("GET /hello returned 500");
 * isGantryError(error); // true
 * error.name; // "CanaryFailed"
 * ```
 */
export abstract class GantryError extends Error {
  abstract override readonly name: GantryErrorName;
}

/** One problem found in a request: the dotted field path and why it was refused. */
export interface FieldIssue {
  readonly field: string;
  readonly reason: string;
}

/** The deployment request (StartExecution input) was malformed, oversized or named an unknown service. */
export class InvalidInput extends GantryError {
  override readonly name = "InvalidInput";
  readonly issues: readonly FieldIssue[];
  constructor(issues: readonly FieldIssue[]) {
    super(issues.map((issue) => `${issue.field}: ${issue.reason}`).join("; "));
    this.issues = issues;
  }
}

/** Another execution holds the target's lock and is still running. */
export class DeploymentInProgress extends GantryError {
  override readonly name = "DeploymentInProgress";
}

/**
 * The target's lock object cannot be read as a lock (not JSON, or not the shape Gantry writes).
 * Nobody can tell whether a deployment holds it, so nothing takes it over or releases it by
 * itself: an operator breaks it with `gantry unlock` (docs/operations.md, "LockDamaged").
 */
export class LockDamaged extends GantryError {
  override readonly name = "LockDamaged";
}

/** The artifact was not proven in preprod: no validation record, other bytes, or preprod unhealthy. */
export class PreprodNotValidated extends GantryError {
  override readonly name = "PreprodNotValidated";
}

/** The artifact object does not exist where the request said it would be. */
export class ArtifactNotFound extends GantryError {
  override readonly name = "ArtifactNotFound";
}

/** Bytes changed somewhere between the build and the Lambda version: a SHA-256 did not match. */
export class ArtifactChecksumMismatch extends GantryError {
  override readonly name = "ArtifactChecksumMismatch";
}

/** The destination key already holds different bytes; promoted artifacts are immutable. */
export class ArtifactConflict extends GantryError {
  override readonly name = "ArtifactConflict";
}

/** An approver rejected the deployment. */
export class ApprovalRejected extends GantryError {
  override readonly name = "ApprovalRejected";
}

/** Nobody decided before the approval step's deadline. */
export class ApprovalTimedOut extends GantryError {
  override readonly name = "ApprovalTimedOut";
}

/**
 * The approval task was completed, but no decision record of this execution's approval proves
 * that a listed approver approved these bytes (a forged SendTaskSuccess, a tampered record,
 * a decision for something else). Nothing is copied or deployed; the approval is voided.
 */
export class ApprovalNotVerified extends GantryError {
  override readonly name = "ApprovalNotVerified";
}

/**
 * The target alias cannot be deployed safely: it points at `$LATEST` (which the new code
 * replaces, so there is no previous version to roll back to, and Lambda refuses weighted
 * routing with it) rather than a numbered version.
 */
export class InvalidTarget extends GantryError {
  override readonly name = "InvalidTarget";
}

/** The target function or its alias does not exist. */
export class TargetNotFound extends GantryError {
  override readonly name = "TargetNotFound";
}

/** The new version failed the service's canary expectations. */
export class CanaryFailed extends GantryError {
  override readonly name = "CanaryFailed";
}

/** One of the service's alarms is in ALARM while the new version takes traffic. */
export class AlarmTriggered extends GantryError {
  override readonly name = "AlarmTriggered";
}

/**
 * The version analysis found the new version worse than the previous one by its own numbers
 * (failure rate or p99 duration), or, for a fix, not better on the failing metric.
 */
export class VersionRegressed extends GantryError {
  override readonly name = "VersionRegressed";
}

/** A hold ended without enough requests for a verdict, and the registry says not to go on blind. */
export class InsufficientData extends GantryError {
  override readonly name = "InsufficientData";
}

/** The alias could not be restored to the previous version, or the restore could not be verified. */
export class RollbackFailed extends GantryError {
  override readonly name = "RollbackFailed";
}

/** Someone else changed the function while we deployed (RevisionId moved under us). */
export class ConcurrentModification extends GantryError {
  override readonly name = "ConcurrentModification";
}

/** Throttling, 5xx or a network fault: safe to retry with backoff. */
export class TransientError extends GantryError {
  override readonly name = "TransientError";
}

/** The function was deployed without a setting it needs (an environment variable, a secret). */
export class ConfigurationError extends GantryError {
  override readonly name = "ConfigurationError";
}

/** Catch-all for failures that have no more specific name. */
export class DeploymentFailed extends GantryError {
  override readonly name = "DeploymentFailed";
}

/** The names the workflow's `ReportFailure` choice routes to a `Fail` state of the same name. */
export const FAILURE_NAMES = [
  "InvalidInput",
  "DeploymentInProgress",
  "LockDamaged",
  "PreprodNotValidated",
  "ArtifactNotFound",
  "ArtifactChecksumMismatch",
  "ArtifactConflict",
  "ApprovalRejected",
  "ApprovalTimedOut",
  "ApprovalNotVerified",
  "TargetNotFound",
  "InvalidTarget",
  "CanaryFailed",
  "AlarmTriggered",
  "VersionRegressed",
  "InsufficientData",
  "RollbackFailed",
  "ConcurrentModification",
  "DeploymentFailed",
] as const;

export type FailureName = (typeof FAILURE_NAMES)[number];
export type GantryErrorName = FailureName | "TransientError" | "ConfigurationError";

const failureNames: ReadonlySet<string> = new Set(FAILURE_NAMES);

/** True for the names that have their own `Fail` state. */
export function isFailureName(name: string): name is FailureName {
  return failureNames.has(name);
}

/** True when `error` is one of Gantry's named errors. */
export function isGantryError(error: unknown): error is GantryError {
  return error instanceof GantryError;
}

/**
 * Longest error message a function reports, and how many stack frames go with it. Lambda turns a
 * thrown error into the Task's cause (message plus stack trace), and a Catch stores that cause
 * in the execution's state, which Step Functions caps at 256 KB; bounded here, three caught
 * errors cost a few KiB instead of up to 96 KiB.
 */
export const MAX_ERROR_MESSAGE_LENGTH = 4000;
export const MAX_ERROR_STACK_FRAMES = 5;

/**
 * The same error, its message and stack trace cut to the bounds above (name kept: Retry and
 * Catch match on it).
 *
 * @example
 * ```ts
 * throw boundedError(new InvalidInput(issues));
 * ```
 */
export function boundedError<E extends Error>(error: E): E {
  if (error.message.length > MAX_ERROR_MESSAGE_LENGTH)
    error.message = `${error.message.slice(0, MAX_ERROR_MESSAGE_LENGTH)}…`;
  const frames = (error.stack ?? "")
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_ERROR_STACK_FRAMES)
    .map((line) => (line.length > 200 ? `${line.slice(0, 200)}…` : line));
  error.stack = [`${error.name}: ${error.message}`, ...frames].join("\n");
  return error;
}
