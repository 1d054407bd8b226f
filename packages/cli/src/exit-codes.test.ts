import { describe, expect, it } from "vitest";
import { deploymentResult, ExitCode, exitCodeFor } from "./exit-codes.ts";

describe("exit codes", () => {
  it.each([
    [{ status: "SUCCEEDED" }, "deployed", ExitCode.Ok],
    [{ status: "RUNNING" }, "running", ExitCode.Ok],
    [
      { status: "FAILED", error: "AlarmTriggered", outcomeStatus: "rolled-back" },
      "rolled-back",
      ExitCode.RolledBack,
    ],
    [
      { status: "FAILED", error: "CanaryFailed", rolledBack: true },
      "rolled-back",
      ExitCode.RolledBack,
    ],
    [
      { status: "FAILED", error: "ApprovalRejected", outcomeStatus: "rejected" },
      "rejected",
      ExitCode.Rejected,
    ],
    [{ status: "FAILED", error: "ApprovalTimedOut" }, "rejected", ExitCode.Rejected],
    [
      { status: "FAILED", error: "RollbackFailed", outcomeStatus: "failed", rolledBack: false },
      "failed",
      ExitCode.Failed,
    ],
    [{ status: "FAILED", error: "RollbackFailed", rolledBack: true }, "failed", ExitCode.Failed],
    [
      { status: "FAILED", error: "PreprodNotValidated", outcomeStatus: "failed" },
      "failed",
      ExitCode.Failed,
    ],
    [
      { status: "FAILED", error: "InvalidInput", outcomeStatus: "failed" },
      "failed",
      ExitCode.Usage,
    ],
    [{ status: "FAILED", error: "CleanupFailed" }, "failed", ExitCode.Failed],
    [{ status: "ABORTED", error: "StoppedByOperator" }, "aborted", ExitCode.Failed],
    [{ status: "TIMED_OUT" }, "timed-out", ExitCode.Failed],
  ] as const)("%j is %s, exit %i", (facts, result, code) => {
    expect(deploymentResult(facts)).toBe(result);
    expect(exitCodeFor(facts)).toBe(code);
  });

  it("keeps the documented numbers", () => {
    expect(ExitCode).toMatchObject({ Ok: 0, Usage: 2, RolledBack: 3, Rejected: 4, Failed: 5 });
  });
});
