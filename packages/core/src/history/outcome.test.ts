import { describe, expect, it } from "vitest";
import { deploymentOutcome } from "./outcome.ts";

describe("deploymentOutcome", () => {
  it.each([
    [{ status: "SUCCEEDED" }, "deployed"],
    [{ status: "RUNNING" }, "running"],
    [{ status: "PENDING_REDRIVE" }, "running"],
    [{ status: undefined }, "running"],
    [{ status: "FAILED", error: "AlarmTriggered", recordedStatus: "rolled-back" }, "rolled-back"],
    [{ status: "FAILED", error: "CanaryFailed", rolledBack: true }, "rolled-back"],
    // The version analysis's failures roll back like an alarm's (NoteAnalysisFailure -> Rollback).
    [{ status: "FAILED", error: "VersionRegressed", recordedStatus: "rolled-back" }, "rolled-back"],
    [{ status: "FAILED", error: "InsufficientData", rolledBack: true }, "rolled-back"],
    // Not a rejection, even with no rollback recorded (the record could not be written).
    [{ status: "FAILED", error: "VersionRegressed" }, "failed"],
    [{ status: "FAILED", error: "InsufficientData", recordedStatus: "failed" }, "failed"],
    [{ status: "FAILED", error: "ApprovalRejected", recordedStatus: "rejected" }, "rejected"],
    [{ status: "FAILED", error: "ApprovalTimedOut" }, "rejected"],
    [
      { status: "FAILED", error: "RollbackFailed", recordedStatus: "failed", rolledBack: false },
      "failed",
    ],
    [{ status: "FAILED", error: "RollbackFailed", rolledBack: true }, "failed"],
    [{ status: "FAILED", error: "PreprodNotValidated", recordedStatus: "failed" }, "failed"],
    [{ status: "FAILED", error: "InvalidInput", recordedStatus: "failed" }, "failed"],
    [{ status: "FAILED", error: "CleanupFailed" }, "failed"],
    [{ status: "ABORTED", error: "StoppedByOperator" }, "aborted"],
    [{ status: "TIMED_OUT" }, "timed-out"],
  ] as const)("%j is %s", (facts, outcome) => {
    expect(deploymentOutcome(facts)).toBe(outcome);
  });
});
