/**
 * What the executions API decides from a request alone, with no execution at hand: its parameter
 * checks (AWS's ValidationException messages), StartExecution's idempotency comparison and
 * GetExecutionHistory's answer without data. Pure functions, apart from LocalStepFunctions, whose
 * methods then read as what they do with the executions.
 */
import { SfnApiError } from "./errors.ts";
import { EXECUTION_STATUSES } from "./execution-store.ts";
import type { HistoryEvent } from "./history.ts";
import { validateMaxResults } from "./paging.ts";

/** ListExecutions' filters, checked as AWS checks them (with maxResults), or ValidationException. */
export function listExecutionsFilters(request: {
  statusFilter?: unknown;
  redriveFilter?: unknown;
  maxResults?: unknown;
}): { readonly status: string | undefined; readonly redrive: unknown } {
  const status = request.statusFilter;
  if (
    status !== undefined &&
    (typeof status !== "string" || !(EXECUTION_STATUSES as readonly string[]).includes(status))
  ) {
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(status)}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(", ")}]`,
    );
  }
  const redrive = request.redriveFilter;
  if (redrive !== undefined && redrive !== "REDRIVEN" && redrive !== "NOT_REDRIVEN") {
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(redrive)}' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]`,
    );
  }
  if (status !== undefined && redrive !== undefined)
    throw new SfnApiError(
      "ValidationException",
      "Cannot specify both statusFilter and redriveFilter",
    );
  validateMaxResults(request.maxResults);
  return { status, redrive };
}

/**
 * StopExecution's error and cause, cut to AWS's lengths. As in AWS: without an error or cause,
 * the execution has none (not a made-up one).
 */
export function stopDetails(request: { error?: unknown; cause?: unknown }): {
  readonly error?: string;
  readonly cause?: string;
} {
  const error = typeof request.error === "string" ? request.error.slice(0, 256) : undefined;
  const cause = typeof request.cause === "string" ? request.cause.slice(0, 32_768) : undefined;
  return {
    ...(error !== undefined ? { error } : {}),
    ...(cause !== undefined ? { cause } : {}),
  };
}

/** Whether two JSON texts hold the same document (StartExecution's "same input"). */
export function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** A history event without its input and output (GetExecutionHistory's includeExecutionData: false). */
export function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(copy)) {
    if (key.endsWith("EventDetails") && typeof value === "object" && value !== null) {
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      copy[key] = rest;
    }
  }
  return copy as HistoryEvent;
}
