import type { DeploymentRequest } from "./request.ts";

/**
 * The execution name for a request: the same service, version and artifact always give the same
 * name, so a retried CI job finds its first execution instead of deploying twice (Step Functions
 * returns the running execution for the same name and input, and refuses a different input).
 * Names are at most 80 characters of `[A-Za-z0-9_-]`, as Step Functions requires.
 *
 * @example
 * ```ts
 * executionName({ service: "hello-service", version: "3f2a9c1e0b", artifact: { key, sha256: "ab12cd34…" }, trigger });
 * // "hello-service-3f2a9c1e0b-ab12cd34"
 * ```
 */
export function executionName(
  request: Pick<DeploymentRequest, "service" | "version" | "artifact">,
  attempt = 1,
): string {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > 999) {
    throw new RangeError("attempt must be an integer from 1 to 999");
  }
  const base = `${request.service}-${request.version.slice(0, 12)}-${request.artifact.sha256.slice(0, 8)}`;
  return attempt === 1 ? base : `${base}-r${attempt}`;
}
