import { InvalidInput } from "./errors.ts";
import type { VersionMetricsQuery } from "./ports.ts";

/**
 * Refuses a per-version metrics query that no reader can answer (an empty name, alias or version;
 * a window that is not finite or ends before it starts) with {@link InvalidInput}, before any
 * read. Shared by every `VersionMetricsReader`, in AWS and locally.
 *
 * @example
 * ```ts
 * assertVersionMetricsQuery({ functionName: "hello-prod", alias: "live", version: "5", from: 0, to: 60_000 });
 * ```
 */
export function assertVersionMetricsQuery(query: VersionMetricsQuery): void {
  const issues: { field: string; reason: string }[] = [];
  for (const field of ["functionName", "alias", "version"] as const) {
    if (typeof query[field] !== "string" || query[field] === "")
      issues.push({ field, reason: "must be a non-empty string" });
  }
  if (!Number.isFinite(query.from) || !Number.isFinite(query.to) || query.to < query.from)
    issues.push({
      field: "to",
      reason: "the window [from, to) must be finite and not end before it starts",
    });
  if (issues.length > 0) throw new InvalidInput(issues);
}
