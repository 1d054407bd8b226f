import { describe, expect, it } from "vitest";
import { type HistoryEventLike, ProgressTracker, readableCause } from "./progress.ts";

const T0 = Date.parse("2026-11-22T10:00:00.000Z");

/** A history in the making: events numbered from 1, `at` in ms after T0. */
function history() {
  const events: HistoryEventLike[] = [];
  const add = (type: string, at: number, details: Record<string, unknown> = {}) => {
    events.push({ id: events.length + 1, timestamp: new Date(T0 + at), type, ...details });
    return api;
  };
  const api = {
    events,
    add,
    started: (at: number, input: unknown) =>
      add("ExecutionStarted", at, {
        executionStartedEventDetails: { input: JSON.stringify(input) },
      }),
    entered: (name: string, type: string, at: number, input: unknown = {}) =>
      add(`${type}StateEntered`, at, {
        stateEnteredEventDetails: { name, input: JSON.stringify(input) },
      }),
    exited: (name: string, type: string, at: number, output: unknown = {}) =>
      add(`${type}StateExited`, at, {
        stateExitedEventDetails: { name, output: JSON.stringify(output) },
      }),
  };
  return api;
}

const request = {
  service: "hello-service",
  version: "3f2a9c1e0b12aa",
  artifact: { key: "hello-service/3f2a9c1e0b12aa/ab.zip", sha256: "ab".repeat(32) },
  trigger: { actor: "octocat" },
};
const plan = {
  stage: "prod",
  approval: {
    required: true,
    approvers: ["alice@example.com", "bob@example.com"],
    autoApproveActors: ["dependabot[bot]"],
  },
};
const rollout = (weight: number, phase: string) => ({
  rollout: { newVersion: "7", previousVersion: "6", weight, phase },
});
const failure = { Error: "AlarmTriggered", Cause: "errors in ALARM" };

describe("ProgressTracker", () => {
  it("reads an approved deployment that an alarm rolled back", () => {
    const h = history()
      .started(0, request)
      .entered("ValidateInput", "Task", 1, request)
      .add("LambdaFunctionScheduled", 1)
      .add("LambdaFunctionSucceeded", 5)
      .exited("ValidateInput", "Task", 5, { request, plan })
      .entered("ApprovalGate", "Task", 10, { request, plan })
      .add("TaskScheduled", 10)
      .add("TaskSucceeded", 5000, {
        taskSucceededEventDetails: {
          output: JSON.stringify({
            approved: true,
            how: "operator",
            by: "alice@example.com",
            comment: "ok",
          }),
        },
      })
      .exited("ApprovalGate", "Task", 5000)
      .entered("VerifyApproval", "Task", 5000)
      .exited("VerifyApproval", "Task", 5000, {
        approval: {
          approved: true,
          how: "operator",
          by: "alice@example.com",
          comment: "ok",
          verified: true,
        },
      })
      .entered("Deploy", "Task", 5001)
      .exited("Deploy", "Task", 5020, rollout(10, "steps"))
      .entered("HoldTrafficStep", "Wait", 5021, {
        rollout: { nextCheckAt: new Date(T0 + 5600).toISOString() },
      })
      .exited("HoldTrafficStep", "Wait", 5600)
      .entered("CheckAlarms", "Task", 5601)
      .add("LambdaFunctionScheduled", 5601)
      .add("LambdaFunctionFailed", 5605, {
        lambdaFunctionFailedEventDetails: {
          error: "AlarmTriggered",
          cause: JSON.stringify({ errorType: "AlarmTriggered", errorMessage: "errors in ALARM" }),
        },
      })
      .exited("CheckAlarms", "Task", 5606, { ...rollout(10, "steps"), failure })
      .entered("Rollback", "Task", 5607, { ...rollout(10, "steps"), failure })
      .exited("Rollback", "Task", 5620, {
        ...rollout(10, "steps"),
        failure,
        rollback: { restoredVersion: "6", removedVersion: "7" },
      })
      .entered("ReleaseLockAfterFailure", "Task", 5621)
      .exited("ReleaseLockAfterFailure", "Task", 5630, {
        outcome: {
          status: "rolled-back",
          error: "AlarmTriggered",
          cause: "errors in ALARM; rolled back to version 6",
        },
      })
      .entered("ReportFailure", "Choice", 5631)
      .exited("ReportFailure", "Choice", 5631)
      .entered("AlarmTriggered", "Fail", 5632)
      .add("ExecutionFailed", 5633, {
        executionFailedEventDetails: {
          error: "AlarmTriggered",
          cause: "errors in ALARM; rolled back to version 6",
        },
      });

    const tracker = new ProgressTracker();
    const updates = tracker.apply(h.events);
    const kinds = updates.map((u) =>
      u.kind.startsWith("state") ? `${u.kind}:${"state" in u ? u.state : ""}` : u.kind,
    );
    expect(kinds).toEqual([
      "started",
      "state-entered:ValidateInput",
      "state-exited:ValidateInput",
      "state-entered:ApprovalGate",
      "approval",
      "state-exited:ApprovalGate",
      "state-entered:VerifyApproval",
      "state-exited:VerifyApproval",
      "approval",
      "state-entered:Deploy",
      "state-exited:Deploy",
      "traffic",
      "state-entered:HoldTrafficStep",
      "state-exited:HoldTrafficStep",
      "state-entered:CheckAlarms",
      "state-exited:CheckAlarms",
      "state-entered:Rollback",
      "rollback",
      "state-exited:Rollback",
      "traffic",
      "rollback",
      "state-entered:ReleaseLockAfterFailure",
      "state-exited:ReleaseLockAfterFailure",
      "state-entered:ReportFailure",
      "state-exited:ReportFailure",
      "state-entered:AlarmTriggered",
      "finished",
    ]);
    expect(updates[4]).toMatchObject({
      kind: "approval",
      approval: { status: "waiting", approvers: ["alice@example.com", "bob@example.com"] },
    });
    expect(updates[13]).toMatchObject({ kind: "state-exited", durationMs: 579 });
    expect(updates[12]).toMatchObject({ kind: "state-entered", type: "Wait", until: T0 + 5600 });
    expect(updates[15]).toMatchObject({ error: "AlarmTriggered", cause: "errors in ALARM" });

    const p = tracker.progress;
    expect(p).toMatchObject({
      status: "FAILED",
      error: "AlarmTriggered",
      stage: "prod",
      request: { service: "hello-service", trigger: { actor: "octocat" } },
      approval: { status: "approved", by: "alice@example.com", how: "operator", comment: "ok" },
      rollback: { status: "done", restoredVersion: "6", reason: { error: "AlarmTriggered" } },
      traffic: { weight: 0, phase: "rolled-back", previousVersion: "6" },
      outcome: { status: "rolled-back" },
      startedAt: T0,
      finishedAt: T0 + 5633,
      lastEventId: h.events.length,
    });
    expect(p.current).toBeUndefined();
    expect(p.visits.map((v) => v.name)).toContain("AlarmTriggered");
    expect(p.visits.find((v) => v.name === "CheckAlarms")?.error).toBe("AlarmTriggered");
    // Events already seen (overlapping pages) change nothing.
    expect(tracker.apply(h.events)).toEqual([]);
  });

  it("reports a verified approval (not what completed the task), a retry, and a traffic change only when people would see one", () => {
    const h = history()
      .started(0, { ...request, trigger: { actor: "dependabot[bot]" } })
      .entered("ApprovalGate", "Task", 1, {
        request: { trigger: { actor: "dependabot[bot]" } },
        plan,
      })
      .add("TaskSucceeded", 2, {
        taskSucceededEventDetails: {
          output: JSON.stringify({ how: "approver", by: "mallory@example.com" }),
        },
      })
      .exited("ApprovalGate", "Task", 2)
      .entered("VerifyApproval", "Task", 2)
      .exited("VerifyApproval", "Task", 2, {
        approval: { how: "approver", by: "bob@example.com", verified: true },
      })
      .entered("CopyArtifact", "Task", 3)
      .add("LambdaFunctionScheduled", 3)
      .add("LambdaFunctionFailed", 4, {
        lambdaFunctionFailedEventDetails: { error: "TransientError", cause: "slow down" },
      })
      .add("LambdaFunctionScheduled", 6)
      .add("LambdaFunctionSucceeded", 7)
      .exited("CopyArtifact", "Task", 7)
      .entered("CheckAlarms", "Task", 8)
      .exited("CheckAlarms", "Task", 9, rollout(50, "steps"))
      .entered("CheckAlarms", "Task", 10)
      .exited("CheckAlarms", "Task", 11, rollout(50, "promote"))
      .entered("Promote", "Task", 12)
      .exited("Promote", "Task", 13, rollout(100, "bake"))
      .entered("CheckBakeAlarms", "Task", 14)
      .exited("CheckBakeAlarms", "Task", 15, rollout(100, "baked"));
    const tracker = new ProgressTracker();
    const updates = tracker.apply(h.events);
    expect(updates.filter((u) => u.kind === "approval")).toEqual([
      expect.objectContaining({ approval: expect.objectContaining({ status: "waiting" }) }),
      expect.objectContaining({
        approval: expect.objectContaining({ status: "approved", by: "bob@example.com" }),
      }),
    ]);
    expect(updates.filter((u) => u.kind === "retry")).toEqual([
      expect.objectContaining({
        state: "CopyArtifact",
        error: "TransientError",
        cause: "slow down",
      }),
    ]);
    expect(
      updates.find((u) => u.kind === "state-exited" && u.state === "CopyArtifact"),
    ).not.toHaveProperty("error");
    expect(
      updates.flatMap((u) =>
        u.kind === "traffic" ? [`${u.traffic.weight}:${u.traffic.phase}`] : [],
      ),
    ).toEqual(["50:steps", "100:bake", "100:baked"]);
    expect(tracker.progress.status).toBe("RUNNING");
  });

  it("reads a rejection from the approval task's failure", () => {
    const h = history()
      .started(0, request)
      .entered("ApprovalGate", "Task", 1, { request, plan })
      .add("TaskFailed", 900, {
        taskFailedEventDetails: { error: "ApprovalRejected", cause: "rejected by bob@example.com" },
      })
      .exited("ApprovalGate", "Task", 901, { failure: { Error: "ApprovalRejected" } });
    const tracker = new ProgressTracker();
    tracker.apply(h.events);
    expect(tracker.progress.approval).toEqual({
      status: "rejected",
      approvers: ["alice@example.com", "bob@example.com"],
      cause: "rejected by bob@example.com",
    });
  });

  it("reads a decision VerifyApproval refused as not verified", () => {
    const h = history()
      .started(0, request)
      .entered("ApprovalGate", "Task", 1, { request, plan })
      .add("TaskSucceeded", 2, { taskSucceededEventDetails: { output: "{}" } })
      .exited("ApprovalGate", "Task", 2)
      .entered("VerifyApproval", "Task", 3)
      .add("LambdaFunctionScheduled", 3)
      .add("LambdaFunctionFailed", 4, {
        lambdaFunctionFailedEventDetails: {
          error: "ApprovalNotVerified",
          cause: JSON.stringify({ errorMessage: "no decision record" }),
        },
      })
      .exited("VerifyApproval", "Task", 5, { failure: { Error: "ApprovalNotVerified" } });
    const tracker = new ProgressTracker();
    tracker.apply(h.events);
    expect(tracker.progress.approval).toEqual({
      status: "not-verified",
      approvers: ["alice@example.com", "bob@example.com"],
      cause: "no decision record",
    });
  });

  it("keeps a Lambda error's message and plain causes as they are", () => {
    expect(readableCause(JSON.stringify({ errorType: "X", errorMessage: "boom", trace: [] }))).toBe(
      "boom",
    );
    expect(readableCause("{not json")).toBe("{not json");
    expect(readableCause("plain")).toBe("plain");
  });
});
