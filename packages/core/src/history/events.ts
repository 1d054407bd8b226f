import type { ExecutionStatus } from "../ports.ts";
import { causeText } from "../steps/finish.ts";

/** An error and its cause, as a history event's details carry them. */
export interface ErrorDetails {
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
}

/**
 * A Step Functions history event: the fields of the AWS API's `HistoryEvent` that reading a
 * deployment needs (the SDK's `HistoryEvent` fits, and so do the local control plane's events,
 * whose timestamps are epoch milliseconds).
 */
export interface HistoryEventLike {
  readonly id?: number | undefined;
  readonly previousEventId?: number | undefined;
  /** A Date (the SDK), epoch milliseconds (the local control plane) or an ISO 8601 string (JSON). */
  readonly timestamp?: Date | number | string | undefined;
  readonly type?: string | undefined;
  readonly executionStartedEventDetails?: { readonly input?: string | undefined } | undefined;
  readonly executionSucceededEventDetails?: { readonly output?: string | undefined } | undefined;
  readonly executionFailedEventDetails?: ErrorDetails | undefined;
  readonly executionAbortedEventDetails?: ErrorDetails | undefined;
  readonly executionTimedOutEventDetails?: ErrorDetails | undefined;
  readonly stateEnteredEventDetails?:
    | { readonly name?: string | undefined; readonly input?: string | undefined }
    | undefined;
  readonly stateExitedEventDetails?:
    | { readonly name?: string | undefined; readonly output?: string | undefined }
    | undefined;
  readonly lambdaFunctionFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionTimedOutEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionScheduleFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionStartFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionSucceededEventDetails?:
    | { readonly output?: string | undefined }
    | undefined;
  readonly taskFailedEventDetails?: ErrorDetails | undefined;
  readonly taskTimedOutEventDetails?: ErrorDetails | undefined;
  readonly taskStartFailedEventDetails?: ErrorDetails | undefined;
  readonly taskSubmitFailedEventDetails?: ErrorDetails | undefined;
  readonly taskSucceededEventDetails?: { readonly output?: string | undefined } | undefined;
}

/** The events that end an execution, and the status each one ends it with. */
export const EXECUTION_END_EVENTS: Readonly<Record<string, ExecutionStatus>> = {
  ExecutionSucceeded: "SUCCEEDED",
  ExecutionFailed: "FAILED",
  ExecutionAborted: "ABORTED",
  ExecutionTimedOut: "TIMED_OUT",
};

/** The events that say an attempt of a Task failed (a Retry or Catch then decides what next). */
const ATTEMPT_FAILED_EVENTS: Readonly<Record<string, keyof HistoryEventLike>> = {
  LambdaFunctionFailed: "lambdaFunctionFailedEventDetails",
  LambdaFunctionTimedOut: "lambdaFunctionTimedOutEventDetails",
  LambdaFunctionScheduleFailed: "lambdaFunctionScheduleFailedEventDetails",
  LambdaFunctionStartFailed: "lambdaFunctionStartFailedEventDetails",
  TaskFailed: "taskFailedEventDetails",
  TaskTimedOut: "taskTimedOutEventDetails",
  TaskStartFailed: "taskStartFailedEventDetails",
  TaskSubmitFailed: "taskSubmitFailedEventDetails",
};

/** Every event that carries an error: a failed attempt, or an execution's failing end. */
const ERROR_EVENTS: Readonly<Record<string, keyof HistoryEventLike>> = {
  ...ATTEMPT_FAILED_EVENTS,
  ExecutionFailed: "executionFailedEventDetails",
  ExecutionAborted: "executionAbortedEventDetails",
  ExecutionTimedOut: "executionTimedOutEventDetails",
};

function detailsIn(
  event: HistoryEventLike,
  keys: Readonly<Record<string, keyof HistoryEventLike>>,
): ErrorDetails | undefined {
  const type = event.type ?? "";
  const key = Object.hasOwn(keys, type) ? keys[type] : undefined;
  return key ? ((event[key] ?? {}) as ErrorDetails) : undefined;
}

/** True for the events that end an execution. */
export function isExecutionEnd(event: HistoryEventLike): boolean {
  return event.type !== undefined && Object.hasOwn(EXECUTION_END_EVENTS, event.type);
}

/**
 * The error and cause an event carries, as recorded: a Task attempt that failed, or an
 * execution that failed, was stopped or timed out. Undefined for any other event.
 */
export function errorDetailsOf(event: HistoryEventLike): ErrorDetails | undefined {
  return detailsIn(event, ERROR_EVENTS);
}

/**
 * The error of an event that says a Task's attempt failed, or undefined for any other event.
 * An event without an error name is named after what happened (`States.Timeout` for a timeout).
 */
export function attemptFailure(
  event: HistoryEventLike,
): { readonly error: string; readonly cause?: string } | undefined {
  const details = detailsIn(event, ATTEMPT_FAILED_EVENTS);
  if (!details) return undefined;
  const type = event.type ?? "";
  return {
    error: details.error ?? (type.endsWith("TimedOut") ? "States.Timeout" : type),
    ...(details.cause !== undefined ? { cause: details.cause } : {}),
  };
}

/** Milliseconds since the epoch from the SDK's Date (or a number, or an ISO string). */
export function eventTime(event: HistoryEventLike): number {
  const t = event.timestamp;
  if (t instanceof Date) return t.getTime();
  if (typeof t === "number") return t;
  if (typeof t === "string") return Date.parse(t);
  return Number.NaN;
}

/**
 * The readable part of a cause: Lambda reports a function's error as JSON
 * (`{"errorType","errorMessage","trace"}`), Step Functions' own errors as plain text.
 *
 * @example
 * ```ts
 * readableCause('{"errorType":"CanaryFailed","errorMessage":"GET / returned 500","trace":[]}'); // "GET / returned 500"
 * readableCause("States.Timeout"); // "States.Timeout"
 * ```
 */
export function readableCause(cause: string): string {
  return cause === "" ? cause : causeText({ Error: "", Cause: cause });
}
