import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../ports.ts";
import type { DeploymentState } from "../state.ts";
import { recordKeys } from "../state.ts";
import {
  fixedClock,
  T0,
  testExecution,
  testPlan,
  testRequest,
  testRollout,
} from "../testing/fixtures.ts";
import { verifiedTrigger } from "../testing/id-tokens.ts";
import { MemoryMetrics, MemoryRecords } from "../testing/memory-world.ts";
import { regressedVerdict, testVerdict } from "../testing/verdicts.ts";
import { acquireLock, type LockRecord } from "./acquire-lock.ts";
import {
  amendmentKey,
  causeText,
  currentRecordKeys,
  type DeploymentRecord,
  describeOutcome,
  finish,
  readDeploymentRecord,
  releaseLock,
} from "./finish.ts";
import { ROLLBACK_FAILED_METRIC } from "./metrics.ts";

const base = (): DeploymentState => ({
  request: testRequest(),
  execution: testExecution(),
  plan: testPlan(),
});
/** A Log that keeps every entry as [level, message, extra]. */
function recordingLog() {
  const entries: [string, string, ...Record<string, unknown>[]][] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      entries.push([level, message, ...extra]);
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, "    at x"] });

describe("describeOutcome", () => {
  it("reports a success as deployed with the new version", () => {
    expect(
      describeOutcome({ ...base(), rollout: testRollout({ newVersion: "5" }) }, "succeeded"),
    ).toEqual({
      status: "deployed",
      version: "5",
    });
  });

  it("reports a success without a rollout as deployed with no version", () => {
    expect(describeOutcome(base(), "succeeded")).toEqual({ status: "deployed" });
  });

  it("keeps a named failure's name and its cause", () => {
    const state = {
      ...base(),
      failure: { Error: "CanaryFailed", Cause: "GET /hello returned 500" },
    };
    expect(describeOutcome(state, "failed")).toEqual({
      status: "failed",
      error: "CanaryFailed",
      cause: "GET /hello returned 500",
    });
  });

  it.each(["Lambda.Unknown", "States.Timeout", "States.TaskFailed", "TransientError", "TypeError"])(
    "turns the unnamed error %s into DeploymentFailed, keeping the original name in the cause",
    (name) => {
      const state = { ...base(), failure: { Error: name, Cause: "something broke" } };
      expect(describeOutcome(state, "failed")).toEqual({
        status: "failed",
        error: "DeploymentFailed",
        cause: `${name}: something broke`,
      });
    },
  );

  it("reports a failure with no recorded error as DeploymentFailed", () => {
    expect(describeOutcome(base(), "failed")).toEqual({
      status: "failed",
      error: "DeploymentFailed",
      cause: "no failure was recorded",
    });
  });

  it("lets a failed rollback outrank the original error, keeping both in the cause", () => {
    const state = {
      ...base(),
      failure: { Error: "AlarmTriggered", Cause: "hello-prod-errors in ALARM" },
      rollback: { restoredVersion: "1", verifiedAt: new Date(T0).toISOString() },
      rollbackFailure: {
        Error: "RollbackFailed",
        Cause: lambdaCause("RollbackFailed", "alias moved"),
      },
    };
    expect(describeOutcome(state, "failed")).toEqual({
      status: "failed",
      error: "RollbackFailed",
      cause: "rollback failed (alias moved) after AlarmTriggered: hello-prod-errors in ALARM",
    });
  });

  it("reports a rolled-back deployment with the version it went back to", () => {
    const state = {
      ...base(),
      failure: { Error: "AlarmTriggered", Cause: "hello-prod-errors in ALARM" },
      rollback: {
        restoredVersion: "4",
        removedVersion: "5",
        verifiedAt: new Date(T0).toISOString(),
      },
    };
    expect(describeOutcome(state, "failed")).toEqual({
      status: "rolled-back",
      error: "AlarmTriggered",
      cause: "hello-prod-errors in ALARM; rolled back to version 4",
    });
  });

  it("says nothing had been changed when the rollback restored nothing", () => {
    const state = {
      ...base(),
      failure: { Error: "TargetNotFound", Cause: "no alias" },
      rollback: { restoredVersion: null, verifiedAt: new Date(T0).toISOString() },
    };
    expect(describeOutcome(state, "failed")).toEqual({
      status: "rolled-back",
      error: "TargetNotFound",
      cause: "no alias; nothing had been changed",
    });
  });

  it("rolls an unnamed error into DeploymentFailed even after a rollback", () => {
    const state = {
      ...base(),
      failure: { Error: "States.Timeout", Cause: "Task timed out" },
      rollback: { restoredVersion: "4", verifiedAt: new Date(T0).toISOString() },
    };
    expect(describeOutcome(state, "failed")).toEqual({
      status: "rolled-back",
      error: "DeploymentFailed",
      cause: "States.Timeout: Task timed out; rolled back to version 4",
    });
  });

  it.each(["ApprovalRejected", "ApprovalTimedOut"])("reports %s as rejected", (name) => {
    const state = { ...base(), failure: { Error: name, Cause: "by alice@example.com" } };
    expect(describeOutcome(state, "failed")).toEqual({
      status: "rejected",
      error: name,
      cause: "by alice@example.com",
    });
  });

  it("reduces a Lambda error's JSON cause to its message", () => {
    const state = {
      ...base(),
      failure: { Error: "ArtifactConflict", Cause: lambdaCause("ArtifactConflict", "other bytes") },
    };
    expect(describeOutcome(state, "failed").cause).toBe("other bytes");
  });

  it("clips a long cause to 2000 characters and an ellipsis", () => {
    const state = { ...base(), failure: { Error: "CanaryFailed", Cause: "x".repeat(5000) } };
    const cause = describeOutcome(state, "failed").cause ?? "";
    expect(cause).toBe(`${"x".repeat(2000)}…`);
  });

  it("does not clip a cause of exactly 2000 characters", () => {
    const state = { ...base(), failure: { Error: "CanaryFailed", Cause: "x".repeat(2000) } };
    expect(describeOutcome(state, "failed").cause).toBe("x".repeat(2000));
  });
});

describe("causeText", () => {
  it("returns Lambda's errorMessage from a JSON cause", () => {
    expect(causeText({ Error: "X", Cause: lambdaCause("X", "the message") })).toBe("the message");
  });

  it("returns plain text causes as they are", () => {
    expect(causeText({ Error: "States.Timeout", Cause: "Task timed out after 60 s" })).toBe(
      "Task timed out after 60 s",
    );
  });

  it("returns a cause that starts with { but is not JSON as it is", () => {
    expect(causeText({ Error: "X", Cause: "{not json" })).toBe("{not json");
  });

  it("returns JSON without a string errorMessage as it is", () => {
    const cause = JSON.stringify({ errorType: "X", errorMessage: 42 });
    expect(causeText({ Error: "X", Cause: cause })).toBe(cause);
  });

  it("says when no cause was given", () => {
    expect(causeText({ Error: "X" })).toBe("(no cause given)");
    expect(causeText({ Error: "X", Cause: "" })).toBe("(no cause given)");
  });
});

describe("finish", () => {
  function world() {
    const records = new MemoryRecords();
    const metrics = new MemoryMetrics();
    const clock = fixedClock(T0 + 90_000);
    return { records, metrics, clock, deps: { records, metrics, clock } };
  }
  const deploymentKey = () =>
    recordKeys.deployment("hello-service", testExecution().startedAt, testExecution().name);

  it("writes the deployment record with provenance and the outcome", async () => {
    const w = world();
    const state: DeploymentState = {
      ...base(),
      preprod: { required: false },
      approval: {
        approved: true,
        how: "approver",
        by: "alice@example.com",
        at: new Date(T0).toISOString(),
        verified: true,
      },
      artifact: { bucket: "b", key: "k.zip", sha256: "a".repeat(64), size: 10, copied: true },
      rollout: testRollout({
        newVersion: "5",
        previousVersion: "4",
        phase: "baked",
        codeSha256: "c".repeat(64),
      }),
    };
    const outcome = await finish(state, "succeeded", w.deps);
    expect(outcome).toEqual({ status: "deployed", version: "5", lockReleased: false });
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value).toEqual({
      service: "hello-service",
      stage: "prod",
      version: state.request.version,
      sha256: state.request.artifact.sha256,
      repository: { url: "https://github.com/acme/hello-service", verified: false },
      trigger: state.request.trigger,
      execution: state.execution,
      artifact: state.artifact,
      preprod: state.preprod,
      approval: state.approval,
      release: { newVersion: "5", previousVersion: "4", codeSha256: "c".repeat(64) },
      outcome: { status: "deployed", version: "5" },
      finishedAt: new Date(T0 + 90_000).toISOString(),
    });
    expect(w.metrics.published).toEqual([]);
  });

  it("leaves the CodeSha256 out of the release when the rollout has none (an older state)", async () => {
    const w = world();
    const { codeSha256: _none, ...rollout } = testRollout({
      newVersion: "5",
      previousVersion: "4",
    });
    await finish({ ...base(), rollout }, "succeeded", w.deps);
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value.release).toEqual({ newVersion: "5", previousVersion: "4" });
  });

  const verified = verifiedTrigger({
    sha: testRequest().version,
    actor: "alice",
    issuedAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 300_000).toISOString(),
  });

  it.each<[string, Record<string, unknown>, Partial<DeploymentState["plan"]>, unknown]>([
    [
      "the verified repository, its id and the registry's URL",
      { repositoryId: "123456" },
      {},
      {
        name: "acme/hello-service",
        id: "123456",
        url: "https://github.com/acme/hello-service",
        verified: true,
      },
    ],
    [
      "the verified repository alone when there is no id or URL",
      {},
      { repositoryUrl: undefined },
      { name: "acme/hello-service", verified: true },
    ],
  ])("records %s", async (_label, claims, plan, expected) => {
    const w = world();
    const request = testRequest();
    const trigger = { actor: "alice", verified: { ...verified, ...claims } };
    const { repositoryUrl, ...rest } = { ...testPlan(), ...plan };
    await finish(
      {
        ...base(),
        request: { ...request, trigger },
        plan: { ...rest, ...(repositoryUrl ? { repositoryUrl } : {}) },
      },
      "succeeded",
      w.deps,
    );
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value.repository).toEqual(expected);
    expect(stored?.value.trigger).toEqual(trigger);
  });

  it("keeps the verdict that stopped the deployment and the alarms it was a fix for", async () => {
    const w = world();
    const verdict = regressedVerdict();
    const state: DeploymentState = {
      ...base(),
      plan: { ...testPlan(), fixFor: ["hello-prod-errors"] },
      rollout: testRollout({
        newVersion: "2",
        previousVersion: "1",
        phase: "halted",
        analysis: verdict,
      }),
      failure: { Error: "VersionRegressed", Cause: verdict.summary },
      rollback: {
        restoredVersion: "1",
        removedVersion: "2",
        verifiedAt: new Date(T0).toISOString(),
      },
    };
    const outcome = await finish(state, "failed", w.deps);
    expect(outcome).toMatchObject({ status: "rolled-back", error: "VersionRegressed" });
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value.fixFor).toEqual(["hello-prod-errors"]);
    expect(stored?.value.analysis).toEqual(verdict);
    expect(stored?.value.outcome.cause).toBe(`${verdict.summary}; rolled back to version 1`);
  });

  it("records the last verdict of a deployment that passed, and no fixFor for an ordinary one", async () => {
    const w = world();
    const verdict = testVerdict({ phase: "bake", weight: 100, stepIndex: 3 });
    await finish(
      { ...base(), rollout: testRollout({ phase: "baked", analysis: verdict }) },
      "succeeded",
      w.deps,
    );
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value.analysis).toEqual(verdict);
    expect(stored?.value).not.toHaveProperty("fixFor");
  });

  it("records neither without version analysis, also for a state an earlier Gantry wrote (no plan.fixFor)", async () => {
    const w = world();
    const { fixFor: _absent, ...plan } = { ...testPlan(), fixFor: [] as string[] };
    await finish(
      { ...base(), plan: plan as DeploymentState["plan"], rollout: testRollout() },
      "succeeded",
      w.deps,
    );
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value).toBeDefined();
    expect(stored?.value).not.toHaveProperty("fixFor");
    expect(stored?.value).not.toHaveProperty("analysis");
  });

  it("never keeps an ID token in the record, even one a state still carried", async () => {
    const w = world();
    const request = testRequest();
    const trigger = {
      actor: "alice",
      idToken: "eyJhbGciOiJSUzI1NiJ9.e30.sig",
      verified,
    };
    await finish({ ...base(), request: { ...request, trigger } }, "succeeded", w.deps);
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value.trigger).toEqual({ actor: "alice", verified });
    expect(JSON.stringify(stored?.value)).not.toContain("eyJ");
  });

  it("records no repository when the trigger is unverified and the registry names none", async () => {
    const w = world();
    const { repositoryUrl: _none, ...plan } = testPlan();
    await finish({ ...base(), plan }, "succeeded", w.deps);
    const stored = await w.records.get<DeploymentRecord>(deploymentKey());
    expect(stored?.value).not.toHaveProperty("repository");
  });

  it("never replaces a record: a second finish of the execution writes an amendment beside it", async () => {
    const w = world();
    const log = recordingLog();
    const deps = { ...w.deps, log };
    await finish({ ...base(), failure: { Error: "AlarmTriggered", Cause: "x" } }, "failed", deps);
    const first = await w.records.get<DeploymentRecord>(deploymentKey());
    w.clock.advance(60_000);
    await finish(
      {
        ...base(),
        rollback: { restoredVersion: "4", verifiedAt: "t" },
        failure: { Error: "AlarmTriggered", Cause: "x" },
      },
      "failed",
      deps,
    );
    expect(await w.records.get(deploymentKey())).toEqual(first);
    const finishedAt = new Date(T0 + 150_000).toISOString();
    const amendment = amendmentKey(deploymentKey(), finishedAt);
    const amended = await w.records.get<DeploymentRecord>(amendment);
    expect(amended?.value).toMatchObject({
      amends: deploymentKey(),
      finishedAt,
      outcome: { status: "rolled-back" },
    });
    expect(log.entries).toContainEqual([
      "info",
      "the execution's record already existed: amended it",
      { key: deploymentKey(), amendment },
    ]);
    expect(
      (await readDeploymentRecord(w.records, "hello-service", testExecution()))?.value,
    ).toEqual(amended?.value);
    // A third finish at the same millisecond leaves both as they are.
    await finish(base(), "succeeded", deps);
    expect(await w.records.get(amendment)).toEqual(amended);
    expect(await w.records.list("deployments/")).toHaveLength(2);
    expect(log.entries).toContainEqual([
      "warn",
      "an amendment written at this time already exists: left as it is",
      { key: amendment },
    ]);
    // Without a log too.
    await finish(base(), "succeeded", w.deps);
    expect(await w.records.list("deployments/")).toHaveLength(2);
  });

  it.each<[string, Partial<DeploymentState>]>([
    ["the raw input of a refused request", {}],
    ["a state without a plan", { request: testRequest(), execution: testExecution() }],
    ["a state without a request", { plan: testPlan(), execution: testExecution() }],
    ["a state without an execution", { plan: testPlan(), request: testRequest() }],
  ])("writes no record for %s, and still reports the outcome", async (_label, state) => {
    const w = world();
    const outcome = await finish(
      { ...state, failure: { Error: "InvalidInput", Cause: "service: is required" } },
      "failed",
      w.deps,
    );
    expect(outcome).toEqual({
      status: "failed",
      error: "InvalidInput",
      cause: "service: is required",
      lockReleased: false,
    });
    expect(w.records.data.size).toBe(0);
  });

  it("publishes the RollbackFailed metric when the rollback failed", async () => {
    const w = world();
    const state = {
      ...base(),
      failure: { Error: "AlarmTriggered", Cause: "alarm" },
      rollbackFailure: { Error: "RollbackFailed", Cause: "alias moved" },
    };
    const outcome = await finish(state, "failed", w.deps);
    expect(outcome.error).toBe("RollbackFailed");
    expect(w.metrics.published).toEqual([
      {
        name: ROLLBACK_FAILED_METRIC,
        value: 1,
        dimensions: { Service: "hello-service", Stage: "prod" },
      },
    ]);
  });

  it.each(["AlarmTriggered", "CanaryFailed", "DeploymentFailed", "States.Timeout"])(
    "publishes no metric for %s",
    async (name) => {
      const w = world();
      await finish({ ...base(), failure: { Error: name, Cause: "x" } }, "failed", w.deps);
      expect(w.metrics.published).toEqual([]);
    },
  );

  it("releases the lock this execution holds, and logs the outcome", async () => {
    const w = world();
    const state = base();
    await acquireLock(state, {
      records: w.records,
      clock: w.clock,
      workflows: { executionStatus: async () => undefined },
    });
    const log = recordingLog();
    const outcome = await finish(state, "succeeded", { ...w.deps, log });
    expect(outcome.lockReleased).toBe(true);
    expect(await w.records.get(recordKeys.lock("hello-service"))).toBeUndefined();
    expect(log.entries).toEqual([
      ["info", "deployment finished", { status: "deployed", lockReleased: true }],
    ]);
  });

  it("leaves a lock held by another execution in place", async () => {
    const w = world();
    const other = { ...base(), execution: testExecution("other-execution") };
    await acquireLock(other, {
      records: w.records,
      clock: w.clock,
      workflows: { executionStatus: async () => "RUNNING" },
    });
    const outcome = await finish(
      { ...base(), failure: { Error: "DeploymentInProgress", Cause: "busy" } },
      "failed",
      w.deps,
    );
    expect(outcome).toMatchObject({
      status: "failed",
      error: "DeploymentInProgress",
      lockReleased: false,
    });
    const lock = await w.records.get<{ owner: string }>(recordKeys.lock("hello-service"));
    expect(lock?.value.owner).toBe(other.execution.id);
  });
});

describe("releaseLock", () => {
  const KEY = recordKeys.lock("hello-service");
  const stateOf = (name: string) => ({
    plan: testPlan(),
    request: testRequest(),
    execution: testExecution(name),
  });
  function world(statuses: Record<string, ExecutionStatus> = {}) {
    const records = new MemoryRecords();
    const clock = fixedClock(T0);
    const workflows = { executionStatus: async (arn: string) => statuses[arn] };
    return { records, deps: { records, workflows, clock } };
  }
  const lockIn = (records: MemoryRecords) => records.get<LockRecord>(KEY);

  it("releases the lock its execution holds", async () => {
    const w = world();
    const a = stateOf("a");
    await acquireLock(a, w.deps);
    expect(await releaseLock(a, w.deps)).toBe(true);
    expect(await lockIn(w.records)).toBeUndefined();
  });

  it("leaves another execution's lock alone", async () => {
    const a = stateOf("a");
    const w = world({ [a.execution.id]: "RUNNING" });
    await acquireLock(a, w.deps);
    expect(await releaseLock(stateOf("b"), w.deps)).toBe(false);
    expect((await lockIn(w.records))?.value.owner).toBe(a.execution.id);
  });

  it("returns false when there is no lock", async () => {
    const w = world();
    expect(await releaseLock(stateOf("a"), w.deps)).toBe(false);
  });

  it("returns false for a state with no plan or no execution (input that failed validation)", async () => {
    const w = world();
    const a = stateOf("a");
    await acquireLock(a, w.deps);
    expect(await releaseLock({}, w.deps)).toBe(false);
    expect(await releaseLock({ execution: a.execution }, w.deps)).toBe(false);
    expect(await releaseLock({ plan: a.plan }, w.deps)).toBe(false);
    expect((await lockIn(w.records))?.value.owner).toBe(a.execution.id);
  });

  it("returns false and warns when the lock changes while it is being released", async () => {
    const w = world();
    const a = stateOf("a");
    await acquireLock(a, w.deps);
    w.records.delete = async () => false;
    const log = recordingLog();
    expect(await releaseLock(a, { records: w.records, log })).toBe(false);
    expect(log.entries).toEqual([["warn", "lock changed while releasing it", { key: KEY }]]);
    // The log is optional.
    expect(await releaseLock(a, { records: w.records })).toBe(false);
  });

  it("does not warn when the release succeeds", async () => {
    const w = world();
    const a = stateOf("a");
    await acquireLock(a, w.deps);
    const log = recordingLog();
    expect(await releaseLock(a, { records: w.records, log })).toBe(true);
    expect(log.entries).toEqual([]);
  });

  it("lets an error reading the lock through (the state machine retries it)", async () => {
    const w = world();
    const a = stateOf("a");
    await acquireLock(a, w.deps);
    const throttled = Object.assign(new Error("Slow Down"), { name: "SlowDown" });
    w.records.faults.fail("records.get", () => throttled);
    await expect(releaseLock(a, w.deps)).rejects.toBe(throttled);
    expect((await lockIn(w.records))?.value.owner).toBe(a.execution.id);
  });
});

describe("finish with a damaged lock", () => {
  const KEY = recordKeys.lock("hello-service");
  it.each([
    ["bytes that are not JSON", "{garbled"],
    ["JSON that is not a lock", JSON.stringify({ hello: "world" })],
  ])(
    "records the outcome, names the failure and leaves the lock as it is (%s)",
    async (_w, json) => {
      const records = new MemoryRecords();
      const metrics = new MemoryMetrics();
      records.data.set(KEY, { json, etag: '"garbled"' });
      const state: DeploymentState = {
        ...base(),
        failure: {
          Error: "LockDamaged",
          Cause: `the lock ${KEY} of hello-service (prod) is damaged`,
        },
      };
      const log = recordingLog();
      const deps = { records, metrics, clock: fixedClock(T0), log };
      const outcome = await finish(state, "failed", deps);
      expect(outcome).toMatchObject({
        status: "failed",
        error: "LockDamaged",
        lockReleased: false,
      });
      expect(log.entries).toContainEqual([
        "warn",
        "the lock is damaged: left for an operator (gantry unlock)",
        { key: KEY },
      ]);
      expect(outcome.cause).toContain(KEY);
      expect(records.data.get(KEY)).toEqual({ json, etag: '"garbled"' });
      expect(await records.list("deployments/")).toHaveLength(1);
    },
  );
});

describe("deployment record keys", () => {
  const first = "deployments/s/2026-11-30T10-00-00-000Z_x.json";

  it("puts an amendment beside the record, named by when it was written", () => {
    expect(amendmentKey(first, "2026-11-30T11:00:00.000Z")).toBe(
      "deployments/s/2026-11-30T10-00-00-000Z_x.amended-2026-11-30T11-00-00-000Z.json",
    );
  });

  it("takes each execution's newest amendment, else its first record, sorted by key", () => {
    const early = amendmentKey(first, "2026-11-30T11:00:00.000Z");
    const late = amendmentKey(first, "2026-11-30T12:00:00.000Z");
    const other = "deployments/s/2026-11-30T09-00-00-000Z_y.json";
    expect(currentRecordKeys([first])).toEqual([first]);
    expect(currentRecordKeys([late, first, early, other])).toEqual([other, late]);
    expect(currentRecordKeys([first, early, late])).toEqual([late]);
    expect(currentRecordKeys([early, first])).toEqual([early]);
    expect(currentRecordKeys([first, "deployments/s/notes.txt"])).toEqual([first]);
    // Only a last segment names an amendment.
    const nested = "deployments/s/t_x.amended-1.json/y.json";
    expect(currentRecordKeys([nested, "deployments/s/t_x.json/y.json"])).toEqual([
      nested,
      "deployments/s/t_x.json/y.json",
    ]);
  });

  it("reads an execution's current record, or nothing when none was written", async () => {
    const records = new MemoryRecords();
    const execution = testExecution();
    expect(await readDeploymentRecord(records, "hello-service", execution)).toBeUndefined();
    const key = recordKeys.deployment("hello-service", execution.startedAt, execution.name);
    await records.put(key, { version: "first" });
    await records.put(`${key.slice(0, -5)}2.json`, { version: "another execution" });
    await records.put(recordKeys.deployment("hello-service", "2026-10-01T00:00:00.000Z", "y"), {
      version: "an earlier execution",
    });
    expect((await readDeploymentRecord(records, "hello-service", execution))?.value).toEqual({
      version: "first",
    });
    await records.put(amendmentKey(key, "2026-11-01T13:00:00.000Z"), { version: "amended" });
    expect((await readDeploymentRecord(records, "hello-service", execution))?.value).toEqual({
      version: "amended",
    });
  });
});
