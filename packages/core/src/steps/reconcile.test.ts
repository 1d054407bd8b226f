import { describe, expect, it } from "vitest";
import type { FunctionControl } from "../ports.ts";
import { type ExecutionRef, recordKeys } from "../state.ts";
import {
  fixedClock,
  T0,
  testExecution,
  testPlan,
  testRequest,
  testRollout,
  VERSION,
} from "../testing/fixtures.ts";
import {
  MemoryArtifacts,
  MemoryFunctions,
  MemoryMetrics,
  MemoryRecords,
} from "../testing/memory-world.ts";
import type { DeploymentRecord } from "./finish.ts";
import { reconcileAbandoned } from "./reconcile.ts";

describe("reconcileAbandoned", () => {
  it("records a stopped execution's outcome and leaves a damaged lock exactly as it is", async () => {
    const records = new MemoryRecords();
    const key = recordKeys.lock("hello-service");
    records.data.set(key, { json: "\u0000{garbled", etag: '"garbled"' });
    const result = await reconcileAbandoned(
      { plan: testPlan(), request: testRequest(), execution: testExecution("a") },
      "ExecutionAborted",
      "stopped by an operator",
      {
        functions: {} as FunctionControl, // nothing was deployed: no rollback
        records,
        metrics: new MemoryMetrics(),
        clock: fixedClock(T0),
      },
    );
    expect(result.outcome).toMatchObject({ status: "failed", lockReleased: false });
    expect(records.data.get(key)).toEqual({ json: "\u0000{garbled", etag: '"garbled"' });
    expect(await records.list("deployments/")).toHaveLength(1);
  });
});

/** hello-prod (the test plan's target) with versions 1 and 2, its alias routed as given. */
function worldWithAlias(version: string, weights: Record<string, number>) {
  const artifacts = new MemoryArtifacts();
  const functions = new MemoryFunctions(artifacts);
  functions.create("hello-prod", "live", { statusCode: 200, body: "v1" });
  const fn = functions.fns.get("hello-prod");
  const v1 = fn?.versions.get("1");
  if (fn && v1) fn.versions.set("2", { ...v1 });
  const alias = fn?.aliases.get("live");
  if (alias) Object.assign(alias, { version, weights });
  const records = new MemoryRecords();
  const metrics = new MemoryMetrics();
  return {
    functions,
    records,
    metrics,
    deps: { functions, records, metrics, clock: fixedClock(T0) },
  };
}

function deploymentRecords(records: MemoryRecords) {
  return [...records.data.entries()]
    .filter(([key]) => key.startsWith("deployments/"))
    .map(([, item]) => JSON.parse(item.json) as DeploymentRecord);
}

function lockOf(execution: ExecutionRef) {
  return {
    owner: execution.id,
    service: "hello-service",
    version: VERSION,
    acquiredAt: new Date(T0).toISOString(),
  };
}

describe("reconcileAbandoned after a completed deployment", () => {
  const execution = testExecution("hello-service-3f2a9c1e0b7d-baked");
  const baked = {
    plan: testPlan(),
    request: testRequest(),
    execution,
    lock: { key: recordKeys.lock("hello-service"), owner: execution.id, acquiredAt: "x" },
    rollout: testRollout({ phase: "baked", weight: 100, stepIndex: 2 }),
  };

  it("records a deployment whose Finish failed for good as deployed, and releases the lock", async () => {
    const { functions, records, metrics, deps } = worldWithAlias("2", {});
    await records.create(recordKeys.lock("hello-service"), lockOf(execution));
    const state = {
      ...baked,
      cleanupFailure: { Error: "InjectedFault", Cause: "the Finish function failed" },
    };
    const result = await reconcileAbandoned(state, "", "", deps);

    expect(result.rollback).toBeUndefined();
    expect(result.outcome).toMatchObject({ status: "deployed", version: "2", lockReleased: true });
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "2", weights: {} });
    expect(functions.aliasHistory).toEqual([]);
    expect(records.data.has(recordKeys.lock("hello-service"))).toBe(false);
    const written = deploymentRecords(records);
    expect(written).toHaveLength(1);
    expect(written[0]?.outcome).toMatchObject({ status: "deployed", version: "2" });
    expect(written[0]?.outcome.note).toContain("Finish");
    expect(written[0]?.outcome.note).toContain("the Finish function failed");
    expect(metrics.published).toEqual([]);

    // Delivered twice (EventBridge is at-least-once): one record, the same alias.
    await reconcileAbandoned(state, "", "", deps);
    expect(deploymentRecords(records)).toHaveLength(1);
    expect(deploymentRecords(records)[0]?.outcome.status).toBe("deployed");
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "2", weights: {} });
  });

  it("records a completed deployment interrupted in Finish as deployed, never rolled back", async () => {
    const { functions, records, deps } = worldWithAlias("2", {});
    // Finish had written its record and released the lock when the control plane died.
    await records.put(recordKeys.deployment("hello-service", execution.startedAt, execution.name), {
      outcome: { status: "deployed", version: "2" },
    });
    const result = await reconcileAbandoned(
      baked,
      "ControlPlaneRestarted",
      "the local control plane stopped while this execution was running",
      deps,
    );

    expect(result.rollback).toBeUndefined();
    expect(result.outcome).toMatchObject({ status: "deployed", version: "2" });
    expect(result.outcome?.error).toBeUndefined();
    expect(functions.aliasHistory).toEqual([]);
    const written = deploymentRecords(records);
    expect(written).toHaveLength(1);
    expect(written[0]?.outcome).toMatchObject({ status: "deployed", version: "2" });
    expect(written[0]?.outcome.note).toContain("completed");
    expect(written[0]?.outcome.note).toContain("ControlPlaneRestarted");
    expect(written[0]?.rollback).toBeUndefined();
  });
});

describe("reconcileAbandoned after a failed rollback", () => {
  const execution = testExecution("hello-service-3f2a9c1e0b7d-split");
  const rollbackFailed = {
    plan: testPlan(),
    request: testRequest(),
    execution,
    rollout: testRollout({ phase: "steps", weight: 50, stepIndex: 2 }),
    failure: { Error: "AlarmTriggered", Cause: "hello-prod-errors is in ALARM" },
    rollbackFailure: { Error: "RollbackFailed", Cause: "could not restore hello-prod:live" },
    outcome: {
      status: "failed" as const,
      error: "RollbackFailed" as const,
      cause: "rollback failed (could not restore hello-prod:live) after AlarmTriggered: …",
      lockReleased: true,
    },
  };
  const key = recordKeys.deployment("hello-service", execution.startedAt, execution.name);

  it("tries the rollback once more and records that the reconcile rolled back", async () => {
    const { functions, records, metrics, deps } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: rollbackFailed.outcome });
    const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps);

    expect(result.rollback).toMatchObject({ restoredVersion: "1", removedVersion: "2" });
    expect(result.outcome).toMatchObject({ status: "rolled-back", error: "AlarmTriggered" });
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    const written = deploymentRecords(records);
    expect(written).toHaveLength(1);
    expect(written[0]?.outcome).toMatchObject({ status: "rolled-back", error: "AlarmTriggered" });
    expect(written[0]?.outcome.cause).toContain("rolled back to version 1");
    expect(written[0]?.outcome.note).toContain("reconcile");
    expect(written[0]?.outcome.note).toContain("could not restore hello-prod:live");
    expect(written[0]?.rollback).toMatchObject({ restoredVersion: "1" });
    // The alarm was raised by FinishAfterFailure; nothing more is published.
    expect(metrics.published).toEqual([]);

    // Delivered twice: one record, the same alias, nothing moved again.
    const changes = functions.aliasHistory.length;
    await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps);
    expect(deploymentRecords(records)).toHaveLength(1);
    expect(deploymentRecords(records)[0]?.outcome.status).toBe("rolled-back");
    expect(functions.aliasHistory).toHaveLength(changes);
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  });

  it("leaves RollbackFailed as it is when the second rollback fails too", async () => {
    const { functions, records, metrics, deps } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: rollbackFailed.outcome });
    functions.faults.fail(
      "functions.updateAlias",
      () => Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }),
      9,
    );
    const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps);

    expect(result.rollbackError).toContain("AccessDeniedException");
    expect(result.outcome).toBeUndefined();
    expect(functions.alias("hello-prod", "live")).toMatchObject({
      version: "1",
      weights: { "2": 0.5 },
    });
    expect(deploymentRecords(records)[0]?.outcome).toMatchObject({ error: "RollbackFailed" });
    expect(metrics.published).toEqual([]);
  });

  it("does not touch an alias another deployment has locked since", async () => {
    const { functions, records, deps } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: rollbackFailed.outcome });
    await records.create(recordKeys.lock("hello-service"), lockOf(testExecution("next-one")));
    const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps);

    expect(result.rollbackError).toContain("next-one");
    expect(functions.aliasHistory).toEqual([]);
    expect(deploymentRecords(records)[0]?.outcome).toMatchObject({ error: "RollbackFailed" });
  });
});
