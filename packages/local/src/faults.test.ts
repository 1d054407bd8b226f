import type { WorkflowFunctionKey } from "@gantry/core";
import { describe, expect, it } from "vitest";
import type { TaskHandler } from "./engine/workflow-engine.ts";
import { faultPlanFromEnv, injectFaults } from "./faults.ts";

function handlers(calls: string[]): Record<WorkflowFunctionKey, TaskHandler> {
  const handler = (key: string) => async (event: unknown) => {
    calls.push(key);
    return { key, event };
  };
  return Object.fromEntries(
    [
      "ValidateInput",
      "AcquireLock",
      "VerifyPreprod",
      "ApprovalGate",
      "VerifyApproval",
      "CopyArtifact",
      "Deploy",
      "Canary",
      "CheckAlarms",
      "Promote",
      "Rollback",
      "Finish",
    ].map((key) => [key, handler(key)]),
  ) as Record<WorkflowFunctionKey, TaskHandler>;
}

describe("injectFaults", () => {
  it("returns the handlers untouched without a plan", () => {
    const given = handlers([]);
    expect(injectFaults(given, "prod", undefined)).toBe(given);
    expect(faultPlanFromEnv({})).toBeUndefined();
  });

  it("throttles twice with an error the ASL retries, then runs the real handler", async () => {
    const calls: string[] = [];
    const wrapped = injectFaults(handlers(calls), "prod", { Deploy: { kind: "throttle" } });
    for (let i = 0; i < 2; i++)
      await expect(wrapped.Deploy({})).rejects.toMatchObject({
        name: "Lambda.TooManyRequestsException",
      });
    await expect(wrapped.Deploy({ a: 1 })).resolves.toEqual({ key: "Deploy", event: { a: 1 } });
    expect(calls).toEqual(["Deploy"]);
  });

  it("fails permanently, times out, and honours stage, match and skip", async () => {
    const calls: string[] = [];
    const wrapped = injectFaults(handlers(calls), "preprod", {
      Canary: { kind: "error" },
      Promote: { kind: "timeout", timeoutMs: 5 },
      Rollback: { kind: "error", stage: "prod" },
      Finish: { kind: "error", match: '"result":"failed"', skip: 1 },
    });
    await expect(wrapped.Canary({})).rejects.toMatchObject({ name: "InjectedFault" });
    await expect(wrapped.Canary({})).rejects.toMatchObject({ name: "InjectedFault" });
    await expect(wrapped.Promote({})).rejects.toMatchObject({ name: "States.Timeout" });
    await wrapped.Rollback({});
    await wrapped.Finish({ result: "succeeded" });
    await wrapped.Finish({ result: "failed" });
    await expect(wrapped.Finish({ result: "failed" })).rejects.toMatchObject({
      name: "InjectedFault",
    });
    expect(calls).toEqual(["Rollback", "Finish", "Finish"]);
  });

  it("reads GANTRY_FAULTS and refuses an unknown kind", () => {
    expect(faultPlanFromEnv({ GANTRY_FAULTS: '{"Deploy":{"kind":"crash-after"}}' })).toEqual({
      Deploy: { kind: "crash-after" },
    });
    expect(() => faultPlanFromEnv({ GANTRY_FAULTS: '{"Deploy":{"kind":"meteor"}}' })).toThrow(
      /unknown fault/,
    );
  });
});
