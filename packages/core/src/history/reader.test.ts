import { describe, expect, it } from "vitest";
import { T0 as FIXTURE_T0 } from "../testing/fixtures.ts";
import { verifiedTrigger } from "../testing/id-tokens.ts";
import { regressedHistory, regressedVerdict, testVerdict } from "../testing/verdicts.ts";
import { eventTime, type HistoryEventLike, readableCause } from "./events.ts";
import { RECORDED, type RecordedName, recorded } from "./fixtures/recorded.ts";
import { type DeploymentUpdate, HistoryReader, readDeployment } from "./reader.ts";

/** Reads a history in pages of `size`, each page repeating the last `overlap` events of the one before. */
function readInPages(events: readonly HistoryEventLike[], size: number, overlap = 0) {
  const reader = new HistoryReader();
  const updates: DeploymentUpdate[] = [];
  for (let start = 0; start < events.length; start += size) {
    updates.push(...reader.apply(events.slice(Math.max(0, start - overlap), start + size)));
  }
  return { progress: reader.progress, updates };
}

const traffic = (updates: readonly DeploymentUpdate[]) =>
  updates.flatMap((u) => (u.kind === "traffic" ? [`${u.traffic.weight}:${u.traffic.phase}`] : []));

describe("HistoryReader over recorded histories", () => {
  it.each(RECORDED)("%s: status, error and times are the execution's", (name) => {
    const { description, events } = recorded(name);
    const progress = readDeployment(events);
    expect(progress.status).toBe(description.status);
    expect(progress.error).toBe(description.error);
    expect(progress.cause).toBe(description.cause && readableCause(description.cause));
    expect(progress.startedAt).toBe(eventTime(events[0] as HistoryEventLike));
    expect(progress.finishedAt).toBe(eventTime(events.at(-1) as HistoryEventLike));
    expect(Math.abs((progress.finishedAt ?? 0) - description.stopDate.getTime())).toBeLessThan(5);
    expect(progress.current).toBeUndefined();
    expect(progress.lastEventId).toBe(events.length);
    // One visit per state entered, each closed.
    expect(progress.visits.map((v) => v.name)).toEqual(
      events.flatMap((e) =>
        e.type?.endsWith("StateEntered") ? [e.stateEnteredEventDetails?.name] : [],
      ),
    );
    for (const visit of progress.visits) {
      expect(visit.status, visit.name).not.toBe("running");
      expect(visit.exitedAt, visit.name).toBeGreaterThanOrEqual(visit.enteredAt);
    }
    expect(progress.request).toEqual(
      JSON.parse(events[0]?.executionStartedEventDetails?.input ?? "null"),
    );
  });

  it.each<[RecordedName, string, string | undefined]>([
    ["preprod-deployed", "deployed", "deployed"],
    ["prod-deployed", "deployed", "deployed"],
    ["prod-rolled-back", "rolled-back", "rolled-back"],
    ["preprod-canary-failed", "rolled-back", "rolled-back"],
    ["prod-rejected", "rejected", "rejected"],
    ["prod-approval-timed-out", "rejected", "rejected"],
    ["prod-approval-not-verified", "failed", "failed"],
    ["prod-preprod-not-validated", "failed", "failed"],
    ["prod-invalid-input", "failed", "failed"],
    ["prod-stopped", "aborted", undefined],
  ])("%s ended %s (the workflow recorded %s)", (name, outcome, recordedStatus) => {
    const progress = readDeployment(recorded(name).events);
    expect(progress.outcome).toBe(outcome);
    expect(progress.recordedOutcome?.status).toBe(recordedStatus);
  });

  it("prod-deployed: approved by email and verified; traffic stepped up, promoted and baked", () => {
    const { events } = recorded("prod-deployed");
    const reader = new HistoryReader();
    const updates = reader.apply(events);
    const progress = reader.progress;
    expect(progress.stage).toBe("prod");
    expect(progress.request).toMatchObject({
      service: "hello-service",
      trigger: { actor: "octocat" },
    });
    expect(updates.filter((u) => u.kind === "approval")).toEqual([
      expect.objectContaining({
        approval: { status: "waiting", approvers: ["alice@example.com", "bob@example.com"] },
      }),
      expect.objectContaining({
        approval: {
          status: "approved",
          approvers: ["alice@example.com", "bob@example.com"],
          by: "alice@example.com",
          how: "approver",
          decidedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      }),
    ]);
    expect(traffic(updates)).toEqual([
      "0:steps",
      "10:steps",
      "25:steps",
      "50:steps",
      "100:bake",
      "100:baked",
    ]);
    expect(progress.traffic).toEqual({
      weight: 100,
      phase: "baked",
      newVersion: "2",
      previousVersion: "1",
    });
    expect(progress.rollback).toBeUndefined();
    expect(progress.recordedOutcome).toMatchObject({
      status: "deployed",
      version: "2",
      lockReleased: true,
    });
    expect(progress.visits.every((v) => v.status === "succeeded" && v.error === undefined)).toBe(
      true,
    );
    // The loops show as repeated visits; Wait states say when they end.
    expect(progress.visits.filter((v) => v.name === "CheckAlarms").length).toBeGreaterThan(1);
    const wait = updates.find((u) => u.kind === "state-entered" && u.type === "Wait");
    expect(wait).toMatchObject({ state: "HoldTrafficStep", until: expect.any(Number) });
    expect(updates.at(-1)).toMatchObject({ kind: "finished", status: "SUCCEEDED" });
  });

  it("a hold (a Task waiting for its token) says when it ends and which alarms it watches", () => {
    const T = Date.UTC(2026, 11, 1, 10, 0, 0);
    const input = {
      plan: { stage: "prod", alarms: ["hello-prod-errors", 7, "hello-prod-latency"] },
      rollout: { holdEndsAt: new Date(T + 60_000).toISOString(), nextCheckAt: "ignored" },
    };
    const updates = new HistoryReader().apply([
      {
        id: 1,
        type: "TaskStateEntered",
        timestamp: new Date(T),
        stateEnteredEventDetails: { name: "HoldTrafficStep", input: JSON.stringify(input) },
      },
    ]);
    expect(updates.find((u) => u.kind === "state-entered")).toEqual({
      kind: "state-entered",
      at: T,
      state: "HoldTrafficStep",
      type: "Task",
      until: T + 60_000,
      watching: ["hello-prod-errors", "hello-prod-latency"],
    });
  });

  it("preprod-deployed: no approval is required in preprod", () => {
    const progress = readDeployment(recorded("preprod-deployed").events);
    expect(progress.stage).toBe("preprod");
    expect(progress.approval).toMatchObject({ status: "not-required", how: "not-required" });
  });

  it("prod-rolled-back: approved at a terminal, the alarm caught in CheckAlarms, rolled back", () => {
    const { events, description } = recorded("prod-rolled-back");
    const reader = new HistoryReader();
    const updates = reader.apply(events);
    const progress = reader.progress;
    expect(progress.approval).toMatchObject({
      status: "approved",
      by: "alice@example.com",
      how: "operator",
      comment: "ship it",
    });
    // Which step the alarm caught depends on the recording's timing: some step, then back to 0.
    const shifts = traffic(updates);
    expect(shifts.slice(0, 2)).toEqual(["0:steps", "10:steps"]);
    expect(shifts.slice(2, -1).every((shift) => /^\d+:steps$/.test(shift))).toBe(true);
    expect(shifts.at(-1)).toBe("0:rolled-back");
    expect(progress.traffic).toMatchObject({
      weight: 0,
      phase: "rolled-back",
      previousVersion: "2",
    });
    expect(progress.rollback).toMatchObject({
      status: "done",
      reason: { error: "AlarmTriggered" },
      restoredVersion: "2",
      removedVersion: "3",
    });
    const told = updates.map((u) =>
      u.kind === "state-entered" || u.kind === "state-exited" ? `${u.kind}:${u.state}` : u.kind,
    );
    expect(told.slice(told.lastIndexOf("state-entered:CheckAlarms"))).toEqual([
      "state-entered:CheckAlarms",
      "state-exited:CheckAlarms",
      "state-entered:Rollback",
      "rollback",
      "state-exited:Rollback",
      "traffic",
      "rollback",
      "state-entered:FinishAfterFailure",
      "state-exited:FinishAfterFailure",
      "state-entered:ReportFailure",
      "state-exited:ReportFailure",
      "state-entered:AlarmTriggered",
      "finished",
    ]);
    expect(updates.filter((u) => u.kind === "rollback").map((u) => u.rollback.status)).toEqual([
      "running",
      "done",
    ]);
    expect(updates.find((u) => u.kind === "state-exited" && u.error)).toMatchObject({
      state: "CheckAlarms",
      error: "AlarmTriggered",
      cause: expect.stringContaining("in ALARM"),
    });
    const check = progress.visits.findLast((v) => v.name === "CheckAlarms");
    expect(check).toMatchObject({ status: "caught", error: "AlarmTriggered" });
    expect(check?.cause).toContain("in ALARM");
    expect(progress.visits.find((v) => v.name === "Rollback")?.status).toBe("succeeded");
    expect(progress.visits.at(-1)).toMatchObject({
      name: "AlarmTriggered",
      type: "Fail",
      status: "failed",
    });
    expect(progress.visits.at(-1)?.error).toBeUndefined();
    expect(progress.cause).toBe(description.cause);
  });

  it("preprod-canary-failed: the canary's failure is caught and rolled back with nothing to undo traffic-wise", () => {
    const progress = readDeployment(recorded("preprod-canary-failed").events);
    expect(progress.visits.find((v) => v.name === "Canary")).toMatchObject({
      status: "caught",
      error: "CanaryFailed",
    });
    expect(progress.rollback).toMatchObject({ status: "done", reason: { error: "CanaryFailed" } });
    expect(progress.traffic).toMatchObject({ weight: 0, phase: "rolled-back" });
  });

  it("prod-rejected: the approval task failed with ApprovalRejected", () => {
    const progress = readDeployment(recorded("prod-rejected").events);
    expect(progress.approval).toMatchObject({ status: "rejected" });
    expect(progress.approval?.cause).toContain("rejected by bob@example.com");
    expect(progress.approval?.cause).toContain("not during the freeze");
    expect(progress.visits.find((v) => v.name === "ApprovalGate")).toMatchObject({
      status: "caught",
      error: "ApprovalRejected",
    });
    expect(progress.visits.some((v) => v.name === "CopyArtifact")).toBe(false);
  });

  it("prod-approval-not-verified: a completed task is not a decision; VerifyApproval refused it", () => {
    const progress = readDeployment(recorded("prod-approval-not-verified").events);
    expect(progress.approval).toMatchObject({ status: "not-verified" });
    expect(progress.approval?.cause).toContain("no decision record");
    expect(progress.visits.find((v) => v.name === "ApprovalGate")?.status).toBe("succeeded");
    expect(progress.visits.find((v) => v.name === "VerifyApproval")).toMatchObject({
      status: "caught",
      error: "ApprovalNotVerified",
    });
  });

  it("prod-approval-timed-out: the gate's own timeout", () => {
    const progress = readDeployment(recorded("prod-approval-timed-out").events);
    expect(progress.approval).toMatchObject({ status: "timed-out" });
    expect(progress.visits.find((v) => v.name === "ApprovalGate")).toMatchObject({
      status: "caught",
      error: "States.Timeout",
    });
  });

  it("prod-stopped: the state it was stopped in failed with the stop's error", () => {
    const progress = readDeployment(recorded("prod-stopped").events);
    expect(progress.visits.at(-1)).toMatchObject({
      name: "ApprovalGate",
      status: "failed",
      error: "StoppedByOperator",
      cause: "wrong version",
    });
    expect(progress.approval?.status).toBe("waiting");
    expect(progress.cause).toBe("wrong version");
  });

  it("prod-invalid-input: refused before anything, with no stage and no approval", () => {
    const progress = readDeployment(recorded("prod-invalid-input").events);
    expect(progress.stage).toBeUndefined();
    expect(progress.approval).toBeUndefined();
    expect(progress.visits.map((v) => v.name)).toEqual([
      "ValidateInput",
      "DiscardRawInput",
      "FinishAfterFailure",
      "ReportFailure",
      "InvalidInput",
    ]);
    expect(progress.visits[0]).toMatchObject({ status: "caught", error: "InvalidInput" });
  });

  describe("read incrementally", () => {
    it.each(RECORDED)("%s: pages of any size, overlapping or not, read as the whole", (name) => {
      const { events } = recorded(name);
      const whole = new HistoryReader();
      const all = whole.apply(events);
      for (const [size, overlap] of [
        [1, 0],
        [7, 0],
        [7, 3],
        [25, 25],
        [100, 1],
      ] as const) {
        const paged = readInPages(events, size, overlap);
        expect(paged.updates, `${size}/${overlap}`).toEqual(all);
        expect(paged.progress, `${size}/${overlap}`).toEqual(whole.progress);
      }
    });

    it("running until the end event, then the outcome; a state being run is the current one", () => {
      const { events } = recorded("prod-rolled-back");
      const reader = new HistoryReader();
      for (const event of events.slice(0, -1)) {
        reader.apply([event]);
        expect(reader.progress.outcome).toBe("running");
        expect(reader.progress.status).toBe("RUNNING");
      }
      const gate = events.findIndex((e) => e.stateEnteredEventDetails?.name === "ApprovalGate");
      const halfway = new HistoryReader();
      halfway.apply(events.slice(0, gate + 2));
      expect(halfway.progress.current).toMatchObject({ name: "ApprovalGate", status: "running" });
      expect(halfway.progress.approval?.status).toBe("waiting");
      reader.apply(events.slice(-1));
      expect(reader.progress.outcome).toBe("rolled-back");
      // Pages already read change nothing.
      expect(reader.apply(events)).toEqual([]);
    });
  });
});

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

const plan = {
  stage: "prod",
  approval: { required: true, approvers: ["alice@example.com", "bob@example.com"] },
};
const rollout = (weight: number, phase: string) => ({
  rollout: { newVersion: "7", previousVersion: "6", weight, phase },
});

describe("HistoryReader on what the recordings do not show", () => {
  it("reports a retried attempt, keeps it on the visit, and the visit still succeeds", () => {
    const h = history()
      .started(0, {})
      .entered("CopyArtifact", "Task", 3)
      .add("LambdaFunctionScheduled", 3)
      .add("LambdaFunctionFailed", 4, {
        lambdaFunctionFailedEventDetails: {
          error: "TransientError",
          cause: JSON.stringify({ errorType: "TransientError", errorMessage: "slow down" }),
        },
      })
      .add("LambdaFunctionScheduled", 6)
      .add("LambdaFunctionSucceeded", 7)
      .exited("CopyArtifact", "Task", 7);
    const reader = new HistoryReader();
    const updates = reader.apply(h.events);
    expect(updates.filter((u) => u.kind === "retry")).toEqual([
      {
        kind: "retry",
        at: T0 + 6,
        state: "CopyArtifact",
        error: "TransientError",
        cause: "slow down",
      },
    ]);
    const visit = reader.progress.visits[0];
    expect(visit).toMatchObject({
      status: "succeeded",
      retries: [{ at: T0 + 4, error: "TransientError" }],
    });
    expect(visit?.error).toBeUndefined();
    expect(updates.find((u) => u.kind === "state-exited")).not.toHaveProperty("error");
  });

  it("shows the decision VerifyApproval verified, not what completed the task", () => {
    const h = history()
      .started(0, {})
      .entered("ApprovalGate", "Task", 1, { plan })
      .add("TaskSucceeded", 2, {
        taskSucceededEventDetails: {
          output: JSON.stringify({ how: "approver", by: "mallory@example.com" }),
        },
      })
      .exited("ApprovalGate", "Task", 2)
      .entered("VerifyApproval", "Task", 2)
      .exited("VerifyApproval", "Task", 2, {
        approval: { how: "approver", by: "bob@example.com", verified: true },
      });
    expect(readDeployment(h.events).approval).toMatchObject({
      status: "approved",
      by: "bob@example.com",
    });
  });

  it("tells a traffic change only when people would see one", () => {
    const h = history()
      .started(0, {})
      .entered("CheckAlarms", "Task", 8)
      .exited("CheckAlarms", "Task", 9, rollout(50, "steps"))
      .entered("CheckAlarms", "Task", 10)
      .exited("CheckAlarms", "Task", 11, rollout(50, "promote"))
      .entered("Promote", "Task", 12)
      .exited("Promote", "Task", 13, rollout(100, "bake"))
      .entered("CheckBakeAlarms", "Task", 14)
      .exited("CheckBakeAlarms", "Task", 15, rollout(100, "baked"));
    expect(traffic(new HistoryReader().apply(h.events))).toEqual([
      "50:steps",
      "100:bake",
      "100:baked",
    ]);
  });

  it("a failed rollback: the rollback failed, and so did the deployment", () => {
    const failure = { Error: "AlarmTriggered", Cause: "errors in ALARM" };
    const h = history()
      .started(0, {})
      .entered("Rollback", "Task", 1, { ...rollout(10, "steps"), failure })
      .exited("Rollback", "Task", 2, {
        ...rollout(10, "steps"),
        failure,
        rollbackFailure: { Error: "TransientError", Cause: "throttled" },
      })
      .entered("FinishAfterFailure", "Task", 3)
      .exited("FinishAfterFailure", "Task", 4, {
        outcome: { status: "failed", error: "RollbackFailed", cause: "rollback failed" },
      })
      .add("ExecutionFailed", 5, {
        executionFailedEventDetails: { error: "RollbackFailed", cause: "rollback failed" },
      });
    const progress = readDeployment(h.events);
    expect(progress.rollback).toEqual({
      status: "failed",
      reason: { error: "AlarmTriggered", cause: "errors in ALARM" },
      failure: { error: "TransientError", cause: "throttled" },
    });
    expect(progress.outcome).toBe("failed");
  });

  it("rolled back even when recording the outcome failed (CleanupFailed)", () => {
    const h = history()
      .started(0, {})
      .entered("Rollback", "Task", 1, { failure: { Error: "CanaryFailed" } })
      .exited("Rollback", "Task", 2, { rollback: { restoredVersion: "6" } })
      .entered("FinishAfterFailure", "Task", 3)
      .add("LambdaFunctionFailed", 4, {
        lambdaFunctionFailedEventDetails: { error: "States.TaskFailed" },
      })
      .exited("FinishAfterFailure", "Task", 5, {
        cleanupFailure: { Error: "States.TaskFailed" },
      })
      .add("ExecutionFailed", 6, { executionFailedEventDetails: { error: "CleanupFailed" } });
    const progress = readDeployment(h.events);
    expect(progress.recordedOutcome).toBeUndefined();
    expect(progress.outcome).toBe("rolled-back");
  });

  it("reads a succeeded execution's outcome from its output, and times as Dates, numbers or strings", () => {
    const progress = readDeployment([
      { id: 1, type: "ExecutionStarted", timestamp: T0 },
      {
        id: 2,
        type: "ExecutionSucceeded",
        timestamp: new Date(T0 + 10).toISOString(),
        executionSucceededEventDetails: {
          output: JSON.stringify({ outcome: { status: "deployed", version: "7" } }),
        },
      },
    ]);
    expect(progress).toMatchObject({
      status: "SUCCEEDED",
      outcome: "deployed",
      recordedOutcome: { version: "7" },
      startedAt: T0,
      finishedAt: T0 + 10,
    });
  });
});

describe("readableCause", () => {
  it("keeps a Lambda error's message and plain causes as they are", () => {
    expect(readableCause(JSON.stringify({ errorType: "X", errorMessage: "boom", trace: [] }))).toBe(
      "boom",
    );
    expect(readableCause("{not json")).toBe("{not json");
    expect(readableCause("plain")).toBe("plain");
    expect(readableCause("")).toBe("");
  });
});

describe("HistoryReader and the trigger", () => {
  const sha = "3f2a9c1e0b12aabbccddeeff0011223344556677";
  // Shaped like a JWT; the reader must never hand it on.
  const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";
  const verified = verifiedTrigger({
    sha,
    workflowRef: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
    runId: "42",
  });
  const input = {
    service: "hello-service",
    version: sha,
    artifact: { key: "hello-service/x.zip", sha256: "ab".repeat(32) },
    trigger: { actor: "octocat", idToken },
  };

  it("leaves the ID token out of the request, and reads the verified trigger from ValidateInput's output", () => {
    const h = history()
      .started(0, input)
      .entered("ValidateInput", "Task", 1, { input, execution: {} })
      .exited("ValidateInput", "Task", 2, {
        request: { ...input, trigger: { actor: "octocat", verified, extra: "ignored" } },
        plan,
      });
    const reader = new HistoryReader();
    const updates = reader.apply(h.events);
    const { progress } = reader;
    expect(progress.request?.trigger).toEqual({ actor: "octocat" });
    expect(progress.trigger).toEqual({ actor: "octocat", verified });
    expect(updates).toContainEqual({
      kind: "trigger",
      at: T0 + 2,
      trigger: { actor: "octocat", verified },
    });
    const shown = JSON.stringify({ updates, request: progress.request, trigger: progress.trigger });
    expect(shown).not.toContain(idToken);
    expect(shown).not.toContain("idToken");
  });

  it("an accepted request without a token has an unverified trigger; a refused one has none", () => {
    const claimed = { ...input, trigger: { actor: "dependabot[bot]" } };
    const accepted = history()
      .started(0, claimed)
      .entered("ValidateInput", "Task", 1)
      .exited("ValidateInput", "Task", 2, { request: claimed, plan });
    expect(readDeployment(accepted.events).trigger).toEqual({ actor: "dependabot[bot]" });

    const refused = history()
      .started(0, input)
      .entered("ValidateInput", "Task", 1)
      .add("LambdaFunctionFailed", 2, {
        lambdaFunctionFailedEventDetails: { error: "InvalidInput", cause: "token expired" },
      })
      .exited("ValidateInput", "Task", 2, { ...input, failure: { Error: "InvalidInput" } });
    expect(readDeployment(refused.events).trigger).toBeUndefined();
  });

  it("does not take a malformed verified block for verified claims", () => {
    const h = history()
      .started(0, input)
      .entered("ValidateInput", "Task", 1)
      .exited("ValidateInput", "Task", 2, {
        request: { ...input, trigger: { actor: "octocat", verified: { actor: "octocat" } } },
      });
    expect(readDeployment(h.events).trigger).toEqual({ actor: "octocat" });
  });

  it("reads an automatic approval with the rule that matched", () => {
    const h = history()
      .started(0, {})
      .entered("ApprovalGate", "Task", 1, { plan })
      .exited("ApprovalGate", "Task", 2)
      .entered("VerifyApproval", "Task", 2)
      .exited("VerifyApproval", "Task", 3, {
        approval: {
          approved: true,
          how: "auto",
          by: "auto-approve rule 1",
          at: "2026-11-22T10:00:00.002Z",
          rule: { index: 0, matched: "actor dependabot[bot]" },
          verified: true,
        },
      });
    expect(readDeployment(h.events).approval).toEqual({
      status: "approved",
      approvers: ["alice@example.com", "bob@example.com"],
      by: "auto-approve rule 1",
      how: "auto",
      decidedAt: "2026-11-22T10:00:00.002Z",
      rule: { index: 0, matched: "actor dependabot[bot]" },
    });
  });
});

describe("HistoryReader: the version analysis's verdicts", () => {
  it("reads each check's verdict in order, and the one that stopped the deployment", () => {
    const reader = new HistoryReader();
    const updates = reader.apply(regressedHistory());
    const progress = reader.progress;
    expect(progress.verdicts).toEqual([
      { ...testVerdict(), state: "CheckAlarms" },
      { ...regressedVerdict({ weight: 25, stepIndex: 1 }), state: "CheckAlarms" },
    ]);
    // The second check's input carried the first verdict on: it is read once, from the output.
    const told = updates.map((u) =>
      u.kind === "analysis"
        ? `analysis:${u.verdict.weight}:${u.verdict.decision}`
        : u.kind === "state-exited"
          ? `exited:${u.state}`
          : u.kind,
    );
    expect(told.filter((t) => t.startsWith("analysis"))).toEqual([
      "analysis:10:pass",
      "analysis:25:fail",
    ]);
    // Each verdict is told right after the check that gave it ended, at that event's time.
    expect(told[told.indexOf("analysis:25:fail") - 1]).toBe("exited:CheckAlarms");
    expect(updates.find((u) => u.kind === "analysis")?.at).toBe(FIXTURE_T0 + 6000);
    expect(progress.analysisPolicy).toEqual({
      confidence: 0.95,
      maxErrorRateIncrease: 1,
      maxLatencyRatio: 1.2,
      minLatencyIncreaseMs: 5,
      minRequests: 100,
      whenInsufficient: "synthesize",
      maxSyntheticRequests: 200,
    });
    expect(progress.fixFor).toBeUndefined();
    // NoteAnalysisFailure named the failure; the rollback and the outcome read it as any other.
    expect(progress.rollback).toMatchObject({
      status: "done",
      reason: { error: "VersionRegressed", cause: expect.stringContaining("31 of 120") },
      restoredVersion: "1",
    });
    expect(progress.outcome).toBe("rolled-back");
    expect(progress.error).toBe("VersionRegressed");
    expect(progress.traffic).toMatchObject({ weight: 0, phase: "rolled-back" });
  });

  it("reads the verdicts the same, page by page, with pages that overlap", () => {
    const whole = readDeployment(regressedHistory()).verdicts;
    const { progress, updates } = readInPages(regressedHistory(), 4, 2);
    expect(progress.verdicts).toEqual(whole);
    expect(updates.filter((u) => u.kind === "analysis")).toHaveLength(2);
  });

  it("reads the bake's check too, and a fix's alarms from the plan", () => {
    const bake = testVerdict({ phase: "bake", weight: 100, stepIndex: 3 });
    const h = history()
      .started(0, {})
      .entered("CheckBakeAlarms", "Task", 1, { plan: { stage: "prod", fixFor: ["errs", 5] } })
      .exited("CheckBakeAlarms", "Task", 2, { rollout: { ...bake, analysis: bake } });
    const progress = readDeployment(h.events);
    expect(progress.verdicts).toEqual([{ ...bake, state: "CheckBakeAlarms" }]);
    expect(progress.fixFor).toEqual(["errs"]);
    expect(progress.analysisPolicy).toBeUndefined();
  });

  it("reads a new verdict of the same hold (an extension, then its end)", () => {
    const extend = testVerdict({
      decision: "extend",
      summary: "too few requests: holding once more",
    });
    const later = testVerdict({ at: new Date(T0 + 120_000).toISOString() });
    const h = history()
      .started(0, {})
      .exited("CheckAlarms", "Task", 1, { rollout: { analysis: extend } })
      .exited("CheckAlarms", "Task", 2, { rollout: { analysis: extend } })
      .exited("CheckAlarms", "Task", 3, { rollout: { analysis: later } });
    expect(readDeployment(h.events).verdicts.map((v) => v.decision)).toEqual(["extend", "pass"]);
  });

  it("ignores verdicts outside the checks, in a failed check, and in other shapes", () => {
    const h = history()
      .started(0, {})
      // Rollback's input and output carry $.rollout.analysis too: not a new verdict.
      .exited("Rollback", "Task", 1, { rollout: { analysis: regressedVerdict() } })
      .exited("CheckAlarms", "Task", 2, { rollout: { analysis: { decision: "pass" } } })
      .exited("CheckAlarms", "Task", 3, { rollout: { analysis: "pass" } })
      .exited("CheckAlarms", "Task", 4, { rollout: {} })
      .entered("CheckAlarms", "Task", 5)
      .add("LambdaFunctionFailed", 6, {
        lambdaFunctionFailedEventDetails: { error: "AlarmTriggered", cause: "in ALARM" },
      })
      .exited("CheckAlarms", "Task", 7, { rollout: { analysis: testVerdict() } });
    expect(readDeployment(h.events).verdicts).toEqual([]);
  });
});
