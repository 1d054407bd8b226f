/**
 * Event-driven holds (docs/architecture.md, "Event-driven holds"): an alarm's state-change event
 * ends a hold at once; lost, duplicate, late and unrelated events never make a bad version look
 * good, and a lost schedule ends in the Task's timeout and the end-of-hold check.
 */
import type { HoldEndEvent, HoldScheduler } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { GOOD_V2, type RunReport, WorkflowHarness } from "../support/workflow-harness.ts";

async function readyForProd() {
  const world = new WorkflowHarness();
  const request = world.publish("3f2a9c1e0b7d", GOOD_V2);
  world.validate(request);
  await world.run("preprod", request);
  world.approveAs = "alice@example.com";
  return { world, request };
}

/** The Task states that failed, in order (caught; the final Fail state named after the error is left out). */
const failedStates = (run: RunReport) =>
  run.events.flatMap((e) =>
    e.type === "StateFailed" && e.state.name !== run.error ? [e.state.name] : [],
  );

/** Sets the alarm once the alias gives the new version `weight` (a fraction). */
function alarmAtWeight(world: WorkflowHarness, weight: number, alarm = "hello-prod-errors") {
  world.functions.onAliasChange((fn, alias) => {
    if (fn === "hello-prod" && alias.weights["2"] === weight)
      // After the hold has started watching: the change event is what must end it.
      setTimeout(() => world.alarms.set(alarm, "ALARM", "5xx rate 9%"), 5);
  });
}

const rolledBack = (world: WorkflowHarness) =>
  expect(world.functions.alias("hello-prod", "live")).toEqual(
    expect.objectContaining({ version: "1", weights: {} }),
  );

describe("event-driven holds", () => {
  it("an alarm entering ALARM ends the traffic step's hold at once: the hold itself fails, no poll runs", async () => {
    const { world, request } = await readyForProd();
    alarmAtWeight(world, 0.25);
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    expect(run.cause).toMatch(
      /hello-prod-errors in ALARM since .* \(5xx rate 9%\) while version 2 had 25% of traffic/,
    );
    // The hold's Task failed (the event), not CheckAlarms (a poll at the hold's end).
    expect(failedStates(run)).toEqual(["HoldTrafficStep"]);
    expect(run.states.filter((s) => s === "CheckAlarms")).toHaveLength(1);
    rolledBack(world);
    expect(world.lock("prod")).toBeUndefined();
    // The watch is gone with the hold.
    expect([...world.records.prod.data.keys()].filter((k) => k.startsWith("holds/"))).toEqual([]);
  });

  it("an alarm during the bake ends it at once too", async () => {
    const { world, request } = await readyForProd();
    world.functions.onAliasChange((fn, alias) => {
      if (fn === "hello-prod" && alias.version === "2")
        setTimeout(() => world.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms"), 5);
    });
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    expect(run.cause).toContain("100% of traffic");
    expect(failedStates(run)).toEqual(["Bake"]);
    expect(run.states).not.toContain("CheckBakeAlarms");
    rolledBack(world);
  });

  it("a lost alarm event: the hold runs to its end and CheckAlarms rolls back", async () => {
    const { world, request } = await readyForProd();
    world.alarmEvents = "lost";
    alarmAtWeight(world, 0.25);
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    expect(failedStates(run)).toEqual(["CheckAlarms"]);
    expect(run.states).not.toContain("Promote");
    rolledBack(world);
  });

  it("a duplicated alarm event rolls back once; the second finds no watch", async () => {
    const { world, request } = await readyForProd();
    world.alarmEvents = "duplicated";
    alarmAtWeight(world, 0.1);
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    expect(run.states.filter((s) => s === "Rollback")).toHaveLength(1);
    const again = await world.sendAlarmEvent({
      name: "hello-prod-errors",
      state: "ALARM",
      reason: "again",
      updatedAt: new Date().toISOString(),
    });
    expect(again.flatMap((r) => r.ended)).toEqual([]);
    rolledBack(world);
  });

  it("an alarm nobody's deployment watches changes nothing", async () => {
    const { world, request } = await readyForProd();
    world.alarms.set("someone-elses-alarm", "OK");
    world.functions.onAliasChange((fn, alias) => {
      if (fn === "hello-prod" && alias.weights["2"] === 0.25)
        setTimeout(() => world.alarms.set("someone-elses-alarm", "ALARM", "not ours"), 5);
    });
    const run = await world.run("prod", request);

    expect(run.status).toBe("SUCCEEDED");
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "2",
      weights: {},
    });
  });

  it("a schedule that fires after its hold ended (the execution too) does nothing", async () => {
    const { world, request } = await readyForProd();
    const fired: HoldEndEvent[] = [];
    const real = world.schedulers.prod;
    const original = real.scheduleHoldEnd.bind(real);
    real.scheduleHoldEnd = async (name, at, event) => {
      fired.push(event);
      return original(name, at, event);
    };
    const run = await world.run("prod", request);
    expect(run.status).toBe("SUCCEEDED");
    expect(fired).toHaveLength(4); // three traffic steps and the bake

    for (const event of fired) {
      const late = await world.holdEvents.prod(event);
      expect(late).toEqual({ ended: [], ignored: "the hold had already ended" });
    }
  });

  it("a lost schedule: the hold's Task times out after the grace period and the deployment goes on", async () => {
    const world = new WorkflowHarness();
    const request = world.publish("3f2a9c1e0b7d", GOOD_V2);
    world.validate(request);
    await world.run("preprod", request);
    world.approveAs = "alice@example.com";
    // The prod schedules never fire (an EventBridge Scheduler outage).
    const lost: HoldScheduler = {
      scheduleHoldEnd: async () => undefined,
      cancel: async () => undefined,
    };
    Object.assign(world.schedulers.prod, lost);
    const run = await world.run("prod", request);

    expect(run.status).toBe("SUCCEEDED");
    // Every hold ended by its Task's timeout, caught into the end-of-hold check.
    expect(failedStates(run)).toEqual([
      "HoldTrafficStep",
      "HoldTrafficStep",
      "HoldTrafficStep",
      "Bake",
    ]);
    expect(run.states.filter((s) => s === "CheckAlarms")).toHaveLength(3);
    expect(run.states.filter((s) => s === "CheckBakeAlarms")).toHaveLength(1);
  }, 30_000);

  it("an alarm event for a hold whose execution was stopped finds its token spent and removes the watch", async () => {
    const { world, request } = await readyForProd();
    const execution = world.start("prod", request);
    // Stop it while it holds the first traffic step.
    await new Promise<void>((resolve) => {
      world.functions.onAliasChange((fn, alias) => {
        if (fn === "hello-prod" && alias.weights["2"] === 0.1) setTimeout(resolve, 20);
      });
    });
    world.alarmEvents = "lost";
    execution.stop("stopped by the test");
    await execution.done;
    expect([...world.records.prod.data.keys()].some((k) => k.startsWith("holds/"))).toBe(true);

    const results = await world.sendAlarmEvent({
      name: "hello-prod-errors",
      state: "ALARM",
      reason: "after the end",
      updatedAt: new Date().toISOString(),
    });
    expect(results.flatMap((r) => r.ended).map((e) => e.how)).toEqual(["already-ended"]);
    expect([...world.records.prod.data.keys()].filter((k) => k.startsWith("holds/"))).toEqual([]);
  });
});
