import { DEPLOYMENT_OUTCOMES } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { ExitCode, exitCodeFor } from "./exit-codes.ts";

describe("exit codes", () => {
  it.each([
    ["running", undefined, ExitCode.Ok],
    ["deployed", undefined, ExitCode.Ok],
    ["rolled-back", "AlarmTriggered", ExitCode.RolledBack],
    ["rejected", "ApprovalRejected", ExitCode.Rejected],
    ["rejected", "ApprovalTimedOut", ExitCode.Rejected],
    ["failed", "RollbackFailed", ExitCode.Failed],
    ["failed", "PreprodNotValidated", ExitCode.Failed],
    ["failed", "InvalidInput", ExitCode.Usage],
    ["failed", "CleanupFailed", ExitCode.Failed],
    ["failed", "LockDamaged", ExitCode.Failed],
    ["aborted", "StoppedByOperator", ExitCode.Failed],
    ["timed-out", undefined, ExitCode.Failed],
  ] as const)("%s (%s) exits %i", (outcome, error, code) => {
    expect(exitCodeFor(outcome, error)).toBe(code);
  });

  it("has a code for every outcome", () => {
    for (const outcome of DEPLOYMENT_OUTCOMES) {
      expect(Object.values(ExitCode)).toContain(exitCodeFor(outcome));
    }
  });

  it("keeps the documented numbers", () => {
    expect(ExitCode).toMatchObject({ Ok: 0, Usage: 2, RolledBack: 3, Rejected: 4, Failed: 5 });
  });
});
