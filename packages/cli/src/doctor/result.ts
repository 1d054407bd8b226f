/**
 * What every doctor check returns (one result per thing checked: `ok`, `warn` or `fail`, what
 * was found and what to do about a failure), and how an AWS error becomes a result's words. An
 * AWS error fails the check it happened in, never the others.
 */

export type CheckStatus = "ok" | "warn" | "fail";

/** What a check is about: a function role, an alarm, SES, a target alias, a bucket, a secret. */
export type CheckKind = "role" | "alarm" | "ses" | "alias" | "bucket" | "secret";

/** An action on a resource the role should allow (or, for a deny statement, refuse) and does not. */
export interface Denial {
  readonly action: string;
  /** The resource as the policy names it (it may hold `*` and `?`). */
  readonly resource: string;
  /** The concrete ARN simulated for it. */
  readonly probedAs: string;
  /** IAM's EvalDecision: `allowed`, `implicitDeny`, `explicitDeny` (or `missing`). */
  readonly decision: string;
  /** What the statement says should happen. */
  readonly expected: "allowed" | "denied";
  /** The statement of `stacks/policy.ts` that asks for it. */
  readonly sid: string;
  /** Why, when IAM says: a permissions boundary, a service control policy, a statement. */
  readonly why?: string;
}

export interface CheckResult {
  readonly check: CheckKind;
  /** The role, alarm, identity, alias, bucket or secret checked. */
  readonly subject: string;
  readonly status: CheckStatus;
  /** What was found, in one line. */
  readonly message: string;
  /** More lines (each denied action, each DKIM record...). */
  readonly details?: readonly string[];
  /** What to do about a failure or a warning. */
  readonly fix?: string;
  /** role checks: every pair IAM does not decide as `stacks/policy.ts` says. */
  readonly denied?: readonly Denial[];
}

/** What an SDK error may carry. */
interface ErrorShape {
  name?: unknown;
  message?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** An AWS error's name (its `name`, or the `Code` of an XML error), "Error" when it has none. */
export function errorName(error: unknown): string {
  const shape = (error ?? {}) as ErrorShape;
  if (typeof shape.name === "string" && shape.name !== "Error") return shape.name;
  return typeof shape.Code === "string" ? shape.Code : "Error";
}

/** The HTTP status an AWS error came with, if any. */
export function httpStatus(error: unknown): number | undefined {
  return ((error ?? {}) as ErrorShape).$metadata?.httpStatusCode;
}

/** An error in one line: its name and the first line of its message. */
export function describeError(error: unknown): string {
  const message = ((error ?? {}) as ErrorShape).message;
  const text = typeof message === "string" && message ? message : String(error);
  return `${errorName(error)}: ${text.trim().split("\n")[0]?.trim() ?? ""}`;
}

/** Whether AWS refused the caller (an AccessDenied error, or a 403). */
export function isAccessDenied(error: unknown): boolean {
  return /^AccessDenied/.test(errorName(error)) || httpStatus(error) === 403;
}

/** The fix for a check the caller was not allowed to make. */
export function callerNeeds(permission: string): string {
  return `the caller needs ${permission} to run this check (docs/deploy.md lists doctor's permissions)`;
}
