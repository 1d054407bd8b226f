/**
 * A Finish or a Rollback that fails for good, on the real ASL: the execution ends as the ASL
 * says, then the reconcile (what the EventBridge rule runs in AWS) makes the records true.
 */
import { describe, expect, it } from "vitest";
import { GOOD_V2, WorkflowHarness } from "../support/workflow-harness.ts";

/** Preprod ran and validated the artifact; alice approves prod through her emailed link. */
async function readyForProd() {
  const world = new WorkflowHarness();
  const request = world.publish("3f2a9c1e0b7d", GOOD_V2, "octocat");
  const preprod = await world.run("preprod", request);
  expect(preprod.status).toBe("SUCCEEDED");
  world.validate(request);
  world.approveAs = "alice@example.com";
  return { world, request };
}

describe("a Finish that fails for good after a clean bake", () => {
  it("ends SUCCEEDED; the reconcile records the deployment as deployed and releases the lock", async () => {
    const { world, request } = await readyForProd();
    world.failing.Finish = (event) => event.includes('"result":"succeeded"');
    const run = await world.run("prod", request);

    expect(run.status).toBe("SUCCEEDED");
    expect(run.states.slice(-2)).toEqual(["Finish", "Deployed"]);
    expect(run.output).toMatchObject({ cleanupFailure: { Error: "InjectedFault" } });
    // What the workflow alone leaves: the lock held, nothing recorded.
    expect(world.lock("prod")).toBeDefined();
    expect(world.deploymentRecords("prod")).toHaveLength(0);

    const result = await world.reconcile("prod", run);
    expect(result?.rollback).toBeUndefined();
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "2",
      weights: {},
    });
    expect(world.lock("prod")).toBeUndefined();
    const records = world.deploymentRecords("prod");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      version: request.version,
      release: { newVersion: "2", previousVersion: "1" },
      outcome: { status: "deployed", version: "2" },
    });
    expect(records[0].outcome.note).toContain("InjectedFault");

    // Delivered twice: still one record, the same alias.
    await world.reconcile("prod", run);
    expect(world.deploymentRecords("prod")).toHaveLength(1);
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "2",
      weights: {},
    });
  });
});

describe("a Rollback that fails for good", () => {
  it("ends FAILED RollbackFailed; the reconcile rolls back once more and records it", async () => {
    const { world, request } = await readyForProd();
    // At the second traffic step an alarm fires; the Rollback function then fails every time.
    world.functions.onAliasChange((fn, alias) => {
      if (fn === "hello-prod" && alias.weights["2"] === 0.25)
        world.alarms.set("hello-prod-errors", "ALARM", "5xx rate 9%");
    });
    world.failing.Rollback = () => true;
    const run = await world.run("prod", request);

    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("RollbackFailed");
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "1",
      weights: { "2": 0.25 },
    });
    expect(world.lock("prod")).toBeUndefined();
    expect(world.deploymentRecords("prod")[0]?.outcome).toMatchObject({ error: "RollbackFailed" });
    const alarm = { name: "RollbackFailed", value: 1 };
    expect(world.metrics.published.filter((m) => m.name === alarm.name)).toMatchObject([alarm]);

    const result = await world.reconcile("prod", run);
    expect(result?.rollback).toMatchObject({ restoredVersion: "1", removedVersion: "2" });
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "1",
      weights: {},
    });
    expect(world.lock("prod")).toBeUndefined();
    const records = world.deploymentRecords("prod");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      rollback: { restoredVersion: "1" },
      outcome: { status: "rolled-back", error: "AlarmTriggered" },
    });
    expect(records[0].outcome.note).toContain("reconcile rolled back to version 1");
    // The alarm was raised once, by FinishAfterFailure; the reconcile publishes nothing more.
    expect(world.metrics.published.filter((m) => m.name === alarm.name)).toHaveLength(1);

    // Delivered twice: one record, the alias not moved again.
    const changes = world.functions.aliasHistory.length;
    await world.reconcile("prod", run);
    expect(world.deploymentRecords("prod")).toHaveLength(1);
    expect(world.functions.aliasHistory).toHaveLength(changes);
  });
});
