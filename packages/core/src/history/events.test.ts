import { describe, expect, it } from "vitest";
import { attemptFailure, errorDetailsOf, eventTime, isExecutionEnd } from "./events.ts";

describe("history events", () => {
  it("reads a time from a Date, epoch milliseconds or an ISO string", () => {
    const at = Date.parse("2026-11-30T14:45:54.669Z");
    expect(eventTime({ timestamp: new Date(at) })).toBe(at);
    expect(eventTime({ timestamp: at })).toBe(at);
    expect(eventTime({ timestamp: "2026-11-30T14:45:54.669Z" })).toBe(at);
    expect(eventTime({})).toBeNaN();
  });

  it("knows the events that end an execution", () => {
    for (const type of [
      "ExecutionSucceeded",
      "ExecutionFailed",
      "ExecutionAborted",
      "ExecutionTimedOut",
    ])
      expect(isExecutionEnd({ type }), type).toBe(true);
    for (const type of ["ExecutionStarted", "TaskStateExited", "toString", undefined])
      expect(isExecutionEnd({ type }), String(type)).toBe(false);
  });

  it("finds the error an event carries, as recorded", () => {
    expect(
      errorDetailsOf({
        type: "ExecutionAborted",
        executionAbortedEventDetails: { error: "StoppedByOperator", cause: "wrong version" },
      }),
    ).toEqual({ error: "StoppedByOperator", cause: "wrong version" });
    expect(
      errorDetailsOf({ type: "TaskSubmitFailed", taskSubmitFailedEventDetails: { error: "X" } }),
    ).toEqual({ error: "X" });
    expect(errorDetailsOf({ type: "ExecutionAborted" })).toEqual({});
    expect(errorDetailsOf({ type: "TaskStateExited" })).toBeUndefined();
  });

  it("names a failed attempt, also when the event has no error name", () => {
    expect(
      attemptFailure({
        type: "LambdaFunctionFailed",
        lambdaFunctionFailedEventDetails: { error: "TransientError", cause: "slow down" },
      }),
    ).toEqual({ error: "TransientError", cause: "slow down" });
    expect(attemptFailure({ type: "TaskTimedOut" })).toEqual({ error: "States.Timeout" });
    expect(attemptFailure({ type: "LambdaFunctionStartFailed" })).toEqual({
      error: "LambdaFunctionStartFailed",
    });
    expect(attemptFailure({ type: "ExecutionFailed" })).toBeUndefined();
  });
});
