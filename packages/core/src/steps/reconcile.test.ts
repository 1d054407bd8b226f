import { describe, expect, it } from "vitest";
import type { FunctionControl, Log } from "../ports.ts";
import { type DeploymentState, type ExecutionRef, recordKeys } from "../state.ts";
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
import { currentRecordKeys, type DeploymentRecord } from "./finish.ts";
import { reconcileAbandoned, unrecordedSuccess } from "./reconcile.ts";

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
  const deps = { functions, records, metrics, clock: fixedClock(T0) };
  // What operators read in the reconcile's logs; `withLog` records it, `deps` logs nothing.
  const logged: [level: string, message: string, fields: unknown][] = [];
  const log: Log = {
    debug: () => {},
    info: (message, fields) => logged.push(["info", message, fields]),
    warn: (message, fields) => logged.push(["warn", message, fields]),
    error: (message, fields) => logged.push(["error", message, fields]),
  };
  return { functions, records, metrics, deps, logged, withLog: { ...deps, log } };
}

/** The current record of each execution (its newest amendment, else its first record). */
function deploymentRecords(records: MemoryRecords) {
  const keys = [...records.data.keys()].filter((key) => key.startsWith("deployments/"));
  return currentRecordKeys(keys).map(
    (key) => JSON.parse(records.data.get(key)?.json ?? "") as DeploymentRecord,
  );
}

/** Every object under deployments/ (records are append-only: none is ever replaced). */
function deploymentObjects(records: MemoryRecords) {
  return [...records.data.entries()]
    .filter(([key]) => key.startsWith("deployments/"))
    .map(([key, item]) => [key, JSON.parse(item.json)] as const);
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
    const { functions, records, metrics, deps, logged, withLog } = worldWithAlias("2", {});
    await records.create(recordKeys.lock("hello-service"), lockOf(execution));
    const state = {
      ...baked,
      cleanupFailure: { Error: "InjectedFault", Cause: "the Finish function failed" },
    };
    const result = await reconcileAbandoned(state, "", "", withLog);
    const note =
      "the deployment had completed (promoted and baked) when its Finish step failed " +
      "(InjectedFault: the Finish function failed); " +
      "the reconcile recorded it as deployed and released the lock if still held";

    expect(result.rollback).toBeUndefined();
    expect(result.outcome).toMatchObject({ status: "deployed", version: "2", lockReleased: true });
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "2", weights: {} });
    expect(functions.aliasHistory).toEqual([]);
    expect(records.data.has(recordKeys.lock("hello-service"))).toBe(false);
    const written = deploymentRecords(records);
    expect(written).toHaveLength(1);
    expect(written[0]?.outcome).toMatchObject({ status: "deployed", version: "2" });
    expect(written[0]?.outcome.note).toBe(note);
    expect(metrics.published).toEqual([]);
    expect(logged).toEqual([
      ["warn", "recording a completed deployment the workflow did not record", { note }],
      ["info", "deployment finished", { ...written[0]?.outcome, lockReleased: true }],
    ]);

    // Delivered twice (EventBridge is at-least-once): one current record, the same alias; the
    // first record stays as it was, the second finish is an amendment beside it.
    const [first] = deploymentObjects(records);
    await reconcileAbandoned(state, "", "", deps);
    expect(deploymentRecords(records)).toHaveLength(1);
    expect(deploymentObjects(records)).toHaveLength(2);
    expect(deploymentObjects(records)).toContainEqual(first);
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
    expect(written[0]?.outcome.note).toBe(
      "the deployment had completed (promoted and baked) when the execution ended " +
        "(ControlPlaneRestarted: the local control plane stopped while this execution was " +
        "running) before its Finish step completed; " +
        "the reconcile recorded it as deployed and released the lock if still held",
    );
    expect(written[0]?.rollback).toBeUndefined();
  });

  // A baked rollout with a failure, a rollback or a failed rollback on record did not complete
  // (the workflow never produces one): it is recorded as the failure it says, never as deployed,
  // and never rolled back (a baked version is not taken out of service by the reconcile).
  it.each([
    {
      on: "a failure",
      extra: { failure: { Error: "AlarmTriggered", Cause: "hello-prod-errors is in ALARM" } },
      outcome: { status: "failed", error: "DeploymentFailed" },
    },
    {
      on: "a rollback",
      extra: { rollback: { restoredVersion: "1", removedVersion: "2", verifiedAt: "x" } },
      outcome: { status: "rolled-back", error: "DeploymentFailed" },
    },
    {
      on: "a failed rollback",
      extra: { rollbackFailure: { Error: "RollbackFailed", Cause: "could not restore" } },
      outcome: { status: "failed", error: "RollbackFailed" },
    },
  ])(
    "records a baked rollout with $on on record as failed, never as deployed, and leaves the alias",
    async ({ extra, outcome }) => {
      const { functions, records, deps } = worldWithAlias("2", {});
      const result = await reconcileAbandoned(
        { ...baked, ...extra },
        "ExecutionAborted",
        "stopped by alice",
        deps,
      );

      expect(result.rollback).toBeUndefined();
      expect(result.outcome).toMatchObject(outcome);
      expect(functions.aliasHistory).toEqual([]);
      expect(deploymentRecords(records)[0]?.outcome).toMatchObject(outcome);
    },
  );
});

describe("reconcileAbandoned after an execution ended without its failure path", () => {
  const execution = testExecution("hello-service-3f2a9c1e0b7d-stopped");
  const artifact = {
    bucket: "acme-prod-artifacts",
    key: `hello-service/${VERSION}.zip`,
    sha256: "a".repeat(64),
    size: 1234,
    copied: true,
  };
  const base = { plan: testPlan(), request: testRequest(), execution };
  const split = testRollout({ phase: "steps", weight: 50, stepIndex: 1 });
  const at = new Date(T0).toISOString();

  // Deploy started = the artifact was copied (Deploy may have moved the alias before it
  // recorded the rollout) or a rollout exists: the alias is put back on the previous version.
  it.each([
    {
      when: "in Deploy (artifact copied, no rollout yet): it keeps the primary version",
      extra: { artifact },
      rollback: { restoredVersion: "1", verifiedAt: at },
    },
    {
      when: "during the traffic steps",
      extra: { artifact, rollout: split },
      rollback: { restoredVersion: "1", removedVersion: "2", verifiedAt: at },
    },
    {
      when: "with a rollout, even without the artifact",
      extra: { rollout: split },
      rollback: { restoredVersion: "1", removedVersion: "2", verifiedAt: at },
    },
    {
      when: "while promoting",
      extra: { artifact, rollout: testRollout({ phase: "bake", weight: 100, stepIndex: 2 }) },
      rollback: { restoredVersion: "1", removedVersion: "2", verifiedAt: at },
    },
  ])(
    "rolls back an execution stopped $when, records it and releases the lock",
    async ({ extra, rollback }) => {
      const { functions, records, metrics, deps } = worldWithAlias("1", { "2": 0.5 });
      await records.create(recordKeys.lock("hello-service"), lockOf(execution));
      const result = await reconcileAbandoned(
        { ...base, ...extra },
        "ExecutionAborted",
        "stopped by alice",
        deps,
      );

      const outcome = {
        status: "rolled-back",
        error: "DeploymentFailed",
        cause: "ExecutionAborted: stopped by alice; rolled back to version 1",
      };
      expect(result).toEqual({ rollback, outcome: { ...outcome, lockReleased: true } });
      expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
      expect(deploymentRecords(records)).toMatchObject([{ outcome, rollback }]);
      expect(records.data.has(recordKeys.lock("hello-service"))).toBe(false);
      expect(metrics.published).toEqual([]);
    },
  );

  // Nothing to roll back: before Deploy, without a plan to name the alias, or when the rollback
  // already ran (the execution stopped in FinishAfterFailure). The alias routes to version 2 so
  // any rollback would show.
  it.each([
    {
      when: "before Deploy",
      state: {
        ...base,
        lock: { key: recordKeys.lock("hello-service"), owner: execution.id, acquiredAt: at },
      },
      outcome: {
        status: "failed",
        error: "DeploymentFailed",
        cause: "ExecutionAborted: stopped by alice",
      },
    },
    {
      when: "without a plan",
      state: { request: testRequest(), execution, artifact, rollout: split },
      outcome: {
        status: "failed",
        error: "DeploymentFailed",
        cause: "ExecutionAborted: stopped by alice",
      },
    },
    {
      when: "after its rollback",
      state: {
        ...base,
        artifact,
        rollout: split,
        failure: { Error: "AlarmTriggered", Cause: "hello-prod-errors is in ALARM" },
        rollback: { restoredVersion: "1", removedVersion: "2", verifiedAt: at },
      },
      outcome: {
        status: "rolled-back",
        error: "DeploymentFailed",
        cause: "ExecutionAborted: stopped by alice; rolled back to version 1",
      },
    },
  ])(
    "records an execution stopped $when without touching the alias",
    async ({ state, outcome }) => {
      const { functions, records, metrics, deps } = worldWithAlias("1", { "2": 0.5 });
      const result = await reconcileAbandoned(
        state as Partial<DeploymentState>,
        "ExecutionAborted",
        "stopped by alice",
        deps,
      );

      expect(result).toEqual({ outcome: { ...outcome, lockReleased: false } });
      expect(functions.aliasHistory).toEqual([]);
      expect(metrics.published).toEqual([]);
      // Without a plan there is no record to write (no service to file it under).
      const expected = "plan" in state ? [outcome] : [];
      expect(deploymentRecords(records).map((record) => record.outcome)).toEqual(expected);
    },
  );

  it("reports a rollback that fails as RollbackFailed, which raises the alarm, and still releases the lock", async () => {
    const { functions, records, metrics, deps, logged, withLog } = worldWithAlias("1", {
      "2": 0.5,
    });
    await records.create(recordKeys.lock("hello-service"), lockOf(execution));
    functions.faults.fail(
      "functions.updateAlias",
      () => Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }),
      9,
    );
    const state = { ...base, artifact, rollout: split };
    const result = await reconcileAbandoned(state, "ExecutionAborted", "stopped by alice", withLog);

    const rollbackError =
      "RollbackFailed: could not restore hello-prod:live: AccessDeniedException: not authorized";
    const outcome = {
      status: "failed",
      error: "RollbackFailed",
      cause: `rollback failed (${rollbackError}) after ExecutionAborted: stopped by alice`,
    };
    expect(result).toEqual({ rollbackError, outcome: { ...outcome, lockReleased: true } });
    expect(functions.alias("hello-prod", "live")).toMatchObject({ weights: { "2": 0.5 } });
    expect(deploymentRecords(records)).toMatchObject([{ outcome }]);
    expect(deploymentRecords(records)[0]?.rollback).toBeUndefined();
    expect(metrics.published).toEqual([
      { name: "RollbackFailed", value: 1, dimensions: { Service: "hello-service", Stage: "prod" } },
    ]);
    expect(logged[0]).toEqual([
      "error",
      "rollback of an abandoned deployment failed",
      { error: rollbackError },
    ]);

    // Delivered twice: it tries once more and fails the same way; still one record.
    const again = await reconcileAbandoned(state, "ExecutionAborted", "stopped by alice", deps);
    expect(again).toEqual({ rollbackError, outcome: { ...outcome, lockReleased: false } });
    expect(deploymentRecords(records)).toHaveLength(1);
  });
});

describe("reconcileAbandoned after an execution whose own Finish ran", () => {
  const execution = testExecution("hello-service-3f2a9c1e0b7d-recorded");
  const base = {
    plan: testPlan(),
    request: testRequest(),
    execution,
  };

  // The outcome is what Finish or FinishAfterFailure recorded: nothing moves, nothing is
  // rewritten, even when the state would otherwise call for a rollback or a deployed record.
  it.each([
    {
      what: "deployed after its bake",
      state: {
        ...base,
        rollout: testRollout({ phase: "baked", weight: 100, stepIndex: 2 }),
        outcome: { status: "deployed" as const, version: "2", lockReleased: true },
      },
    },
    {
      what: "rolled back",
      state: {
        ...base,
        rollout: testRollout({ phase: "steps", weight: 50, stepIndex: 1 }),
        failure: { Error: "AlarmTriggered", Cause: "hello-prod-errors is in ALARM" },
        rollback: { restoredVersion: "1", removedVersion: "2", verifiedAt: "x" },
        outcome: {
          status: "rolled-back" as const,
          error: "AlarmTriggered" as const,
          lockReleased: true,
        },
      },
    },
    {
      what: "failed with traffic still on the new version",
      state: {
        ...base,
        rollout: testRollout({ phase: "steps", weight: 50, stepIndex: 1 }),
        outcome: { status: "failed" as const, error: "CanaryFailed" as const, lockReleased: true },
      },
    },
  ])("does nothing for an execution whose outcome says $what", async ({ state }) => {
    const { functions, records, metrics, deps, logged, withLog } = worldWithAlias("1", {
      "2": 0.5,
    });
    await records.create(recordKeys.lock("hello-service"), lockOf(execution));

    expect(await reconcileAbandoned(state, "ExecutionAborted", "stopped", deps)).toEqual({});
    expect(await reconcileAbandoned(state, "ExecutionAborted", "stopped", withLog)).toEqual({});
    expect(functions.aliasHistory).toEqual([]);
    expect(deploymentRecords(records)).toEqual([]);
    expect(records.data.has(recordKeys.lock("hello-service"))).toBe(true);
    expect(metrics.published).toEqual([]);
    expect(logged).toEqual([
      [
        "info",
        "nothing to reconcile: the execution's own Finish ran",
        { status: state.outcome.status },
      ],
    ]);
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
    const { functions, records, metrics, logged, withLog } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: rollbackFailed.outcome });
    const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", withLog);
    const note =
      "the workflow's rollback failed (could not restore hello-prod:live); " +
      `the reconcile rolled back to version 1 and verified it at ${new Date(T0).toISOString()}`;

    expect(result.rollback).toMatchObject({ restoredVersion: "1", removedVersion: "2" });
    expect(result.outcome).toMatchObject({ status: "rolled-back", error: "AlarmTriggered" });
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    const written = deploymentRecords(records);
    expect(written).toHaveLength(1);
    expect(written[0]?.outcome).toMatchObject({ status: "rolled-back", error: "AlarmTriggered" });
    expect(written[0]?.outcome.cause).toContain("rolled back to version 1");
    expect(written[0]?.outcome.note).toBe(note);
    expect(written[0]?.rollback).toMatchObject({ restoredVersion: "1" });
    expect(written[0]?.amends).toBe(key);
    // The workflow's own record is kept as it was: the reconcile's is an amendment.
    expect((await records.get(key))?.value).toEqual({ outcome: rollbackFailed.outcome });
    // The alarm was raised by FinishAfterFailure; nothing more is published.
    expect(metrics.published).toEqual([]);
    expect(logged.at(-1)).toEqual([
      "warn",
      "a failed rollback was completed by the reconcile",
      { note },
    ]);

    // Delivered twice: one record, the same alias, nothing moved again.
    const changes = functions.aliasHistory.length;
    expect(await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", withLog)).toEqual({});
    expect(logged.at(-1)).toEqual([
      "info",
      "the failed rollback was already reconciled",
      { status: "rolled-back" },
    ]);
    expect(deploymentRecords(records)).toHaveLength(1);
    expect(deploymentRecords(records)[0]?.outcome.status).toBe("rolled-back");
    expect(functions.aliasHistory).toHaveLength(changes);
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  });

  it("leaves RollbackFailed as it is when the second rollback fails too", async () => {
    const { functions, records, metrics, logged, withLog } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: rollbackFailed.outcome });
    functions.faults.fail(
      "functions.updateAlias",
      () => Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }),
      9,
    );
    const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", withLog);

    const reason =
      "RollbackFailed: could not restore hello-prod:live: AccessDeniedException: not authorized";
    expect(result).toEqual({ rollbackError: reason });
    expect(logged).toEqual([
      ["error", "the failed rollback was not retried: it still needs a person", { reason }],
    ]);
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
  it.each([{ missing: "plan" }, { missing: "request" }, { missing: "execution" }] as const)(
    "leaves everything as it is without the $missing to find the record by",
    async ({ missing }) => {
      const { functions, records, deps } = worldWithAlias("1", { "2": 0.5 });
      await records.put(key, { outcome: rollbackFailed.outcome });
      const { [missing]: _dropped, ...state } = rollbackFailed;

      expect(await reconcileAbandoned(state, "RollbackFailed", "…", deps)).toEqual({});
      expect(functions.aliasHistory).toEqual([]);
      expect(deploymentRecords(records)[0]?.outcome).toMatchObject({ error: "RollbackFailed" });
    },
  );

  it("takes a record that does not say RollbackFailed, even one without an outcome, as reconciled", async () => {
    const { functions, records, deps, logged, withLog } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { service: "hello-service" });

    expect(await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps)).toEqual({});
    expect(await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", withLog)).toEqual({});
    expect(functions.aliasHistory).toEqual([]);
    expect(logged).toEqual([
      ["info", "the failed rollback was already reconciled", { status: undefined }],
    ]);
  });

  it("retries while this execution still holds the lock, and releases it", async () => {
    const { functions, records, deps } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: { ...rollbackFailed.outcome, lockReleased: false } });
    await records.create(recordKeys.lock("hello-service"), lockOf(execution));
    const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps);

    expect(result.outcome).toMatchObject({ status: "rolled-back", lockReleased: true });
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    expect(records.data.has(recordKeys.lock("hello-service"))).toBe(false);
  });

  it("leaves a damaged lock, the alias and the record alone", async () => {
    const { functions, records, deps } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: rollbackFailed.outcome });
    const lockKey = recordKeys.lock("hello-service");
    records.data.set(lockKey, { json: "\u0000{garbled", etag: '"garbled"' });
    const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps);

    expect(result.outcome).toBeUndefined();
    expect(result.rollbackError).toMatch(/^the lock locks\/hello-service\.json .* is damaged/);
    expect(functions.aliasHistory).toEqual([]);
    expect(records.data.get(lockKey)).toEqual({ json: "\u0000{garbled", etag: '"garbled"' });
    expect(deploymentRecords(records)[0]?.outcome).toMatchObject({ error: "RollbackFailed" });
  });

  it("rethrows a failure to read the lock that is not LockDamaged (the event is retried)", async () => {
    const { functions, records, deps } = worldWithAlias("1", { "2": 0.5 });
    await records.put(key, { outcome: rollbackFailed.outcome });
    const lockKey = recordKeys.lock("hello-service");
    const failing = Object.assign(Object.create(records) as MemoryRecords, {
      get: async <T>(k: string) => {
        if (k === lockKey) throw new Error("S3 is unreachable");
        return records.get<T>(k);
      },
    });

    await expect(
      reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", { ...deps, records: failing }),
    ).rejects.toThrow("S3 is unreachable");
    expect(functions.aliasHistory).toEqual([]);
  });

  it.each<{ routes: string; version: string; weights: Record<string, number> }>([
    { routes: "version 1 + 50% to 3", version: "1", weights: { "3": 0.5 } },
    { routes: "version 3", version: "3", weights: {} },
  ])(
    "does not touch an alias that routes to a version this deployment did not touch ($routes)",
    async ({ routes, version, weights }) => {
      const { functions, records, deps } = worldWithAlias(version, weights);
      await records.put(key, { outcome: rollbackFailed.outcome });
      const result = await reconcileAbandoned(rollbackFailed, "RollbackFailed", "…", deps);

      expect(result).toEqual({
        rollbackError: `hello-prod:live routes to ${routes}, not only to versions 1 and 2`,
      });
      expect(functions.aliasHistory).toEqual([]);
      expect(deploymentRecords(records)[0]?.outcome).toMatchObject({ error: "RollbackFailed" });
    },
  );

  // The note says what the reconcile found and did (docs/operations.md, "Rollback failed").
  it.each([
    {
      when: "without a rollout (Deploy failed before recording it): it keeps the primary version",
      setUp: () => worldWithAlias("1", { "2": 0.5 }),
      state: { ...rollbackFailed, rollout: undefined },
      rollback: { restoredVersion: "1" },
      note: "the workflow's rollback failed (could not restore hello-prod:live); the reconcile rolled back to version 1",
    },
    {
      when: "when the alias is gone: nothing to change",
      setUp: () => {
        const world = worldWithAlias("1", { "2": 0.5 });
        world.functions.fns.delete("hello-prod");
        return world;
      },
      state: rollbackFailed,
      rollback: { restoredVersion: null },
      note: "the workflow's rollback failed (could not restore hello-prod:live); the reconcile rolled back (nothing to change)",
    },
    {
      when: "when the state kept no cause for the first failure",
      setUp: () => worldWithAlias("1", { "2": 0.5 }),
      state: { ...rollbackFailed, rollbackFailure: undefined },
      rollback: { restoredVersion: "1", removedVersion: "2" },
      note: "the workflow's rollback failed (no cause given); the reconcile rolled back to version 1",
    },
  ])("completes the rollback $when", async ({ setUp, state, rollback, note }) => {
    const { records, deps } = setUp();
    await records.put(key, { outcome: rollbackFailed.outcome });
    const result = await reconcileAbandoned(state, "RollbackFailed", "…", deps);

    const full = `${note} and verified it at ${new Date(T0).toISOString()}`;
    expect(result.rollback).toEqual({ ...rollback, verifiedAt: new Date(T0).toISOString() });
    expect(result.outcome).toMatchObject({ status: "rolled-back", note: full });
    expect(deploymentRecords(records)).toMatchObject([{ outcome: { note: full } }]);
  });
});

describe("unrecordedSuccess", () => {
  const rollout = testRollout({ phase: "baked", weight: 100, stepIndex: 2 });
  const cleanupFailure = { Error: "States.Timeout", Cause: "the Finish function timed out" };

  it.each([
    { output: { rollout, cleanupFailure }, needed: true },
    { output: { rollout, cleanupFailure, outcome: { status: "deployed" } }, needed: false },
    { output: { rollout, outcome: { status: "deployed", lockReleased: true } }, needed: false },
    { output: { rollout }, needed: false },
    { output: null, needed: false },
    { output: undefined, needed: false },
    { output: "cleanupFailure", needed: false },
    { output: [{ cleanupFailure }], needed: false },
  ])("says $needed for the output $output", ({ output, needed }) => {
    expect(unrecordedSuccess(output)).toBe(needed);
  });
});
