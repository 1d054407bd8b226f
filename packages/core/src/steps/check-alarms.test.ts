import { describe, expect, it } from "vitest";
import { AlarmTriggered, ConcurrentModification, ConfigurationError } from "../errors.ts";
import { ANALYSIS_DEFAULTS } from "../registry.ts";
import type { Rollout } from "../state.ts";
import { fixedClock, T0, testPlan, testRollout } from "../testing/fixtures.ts";
import { MemoryAlarms, MemoryVersionMetrics } from "../testing/memory-world.ts";
import { prodWithTwoVersions } from "../testing/world.ts";
import { checkAlarms } from "./check-alarms.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const plan = testPlan();

/** Prod at the rollout's weight (version 1 alone at 0%), all alarms OK, the clock at `now`. */
async function world(rollout: Rollout, now = T0) {
  const { functions } = await prodWithTwoVersions();
  if ((rollout.phase === "steps" || rollout.phase === "promote") && rollout.weight > 0) {
    await functions.updateAlias("hello-prod", "live", {
      version: "1",
      weights: { "2": rollout.weight / 100 },
    });
  }
  const alarms = new MemoryAlarms();
  alarms.set("hello-prod-errors", "OK");
  alarms.set("hello-prod-latency", "OK");
  const versionMetrics = new MemoryVersionMetrics();
  const deps = { alarms, functions, versionMetrics, clock: fixedClock(now) };
  return { functions, alarms, versionMetrics, deps };
}

const atStep = (stepIndex: number, holdEndsAt: number, extra: Partial<Rollout> = {}) =>
  testRollout({
    stepIndex,
    weight: [10, 25, 50][stepIndex] ?? 0,
    holdEndsAt: iso(holdEndsAt),
    nextCheckAt: iso(T0),
    checks: 4,
    ...extra,
  });

describe("checkAlarms", () => {
  it("keeps the step while its hold lasts, counting the check and setting the next one", async () => {
    const rollout = atStep(0, T0 + 60_000);
    const w = await world(rollout);
    const next = await checkAlarms({ plan, rollout }, w.deps);
    // The hold Task that follows waits out the 60 s left plus the 60 s grace.
    expect(next).toEqual({
      ...rollout,
      checks: 5,
      nextCheckAt: iso(T0 + 10_000),
      holdTimeoutSeconds: 120,
    });
    expect(w.functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.1 });
  });

  it("sets the next check no later than the end of the hold", async () => {
    const rollout = atStep(0, T0 + 4_000);
    const w = await world(rollout);
    const next = await checkAlarms({ plan, rollout }, w.deps);
    expect(next.nextCheckAt).toBe(iso(T0 + 4_000));
    expect(next.holdTimeoutSeconds).toBe(4 + 60);
  });

  it("throws AlarmTriggered naming the alarm, since when it fires, its reason and the traffic weight", async () => {
    const rollout = atStep(1, T0 + 60_000);
    const w = await world(rollout);
    w.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms");
    const since = w.alarms.states.get("hello-prod-latency")?.updatedAt;
    await expect(checkAlarms({ plan, rollout }, w.deps)).rejects.toThrow(
      new AlarmTriggered(
        `hello-prod-latency in ALARM since ${since} (p99 above 800 ms) while version 2 had 25% of traffic`,
      ),
    );
  });

  it("names every alarm that is firing", async () => {
    const rollout = atStep(0, T0 + 60_000);
    const w = await world(rollout);
    w.alarms.set("hello-prod-errors", "ALARM", "errors");
    w.alarms.set("hello-prod-latency", "ALARM", "slow");
    const since = (name: string) => w.alarms.states.get(name)?.updatedAt;
    await expect(checkAlarms({ plan, rollout }, w.deps)).rejects.toThrow(
      `hello-prod-errors in ALARM since ${since("hello-prod-errors")} (errors); ` +
        `hello-prod-latency in ALARM since ${since("hello-prod-latency")} (slow) while version 2 had 10% of traffic`,
    );
  });

  it("checks alarms before moving on: an alarm at the end of a hold stops the shift", async () => {
    const rollout = atStep(0, T0);
    const w = await world(rollout);
    w.alarms.set("hello-prod-errors", "ALARM");
    await expect(checkAlarms({ plan, rollout }, w.deps)).rejects.toThrow(AlarmTriggered);
    expect(w.functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.1 });
  });

  it("does not treat INSUFFICIENT_DATA as firing", async () => {
    const rollout = atStep(0, T0 + 60_000);
    const w = await world(rollout);
    w.alarms.set("hello-prod-errors", "INSUFFICIENT_DATA");
    expect((await checkAlarms({ plan, rollout }, w.deps)).checks).toBe(5);
  });

  it("throws ConfigurationError when an alarm the registry names does not exist", async () => {
    const rollout = atStep(0, T0 + 60_000);
    const w = await world(rollout);
    w.alarms.states.delete("hello-prod-latency");
    await expect(checkAlarms({ plan, rollout }, w.deps)).rejects.toThrow(
      new ConfigurationError("alarms not found: hello-prod-latency"),
    );
  });

  it("names every missing alarm", async () => {
    const rollout = atStep(0, T0 + 60_000);
    const w = await world(rollout);
    w.alarms.states.clear();
    await expect(checkAlarms({ plan, rollout }, w.deps)).rejects.toThrow(
      new ConfigurationError("alarms not found: hello-prod-errors, hello-prod-latency"),
    );
  });

  it("shifts to the next traffic step when the hold is over", async () => {
    const rollout = atStep(0, T0);
    const w = await world(rollout, T0 + 100);
    const next = await checkAlarms({ plan, rollout }, w.deps);
    expect(next).toEqual({
      ...rollout,
      phase: "steps",
      stepIndex: 1,
      weight: 25,
      checks: 5,
      holdStartedAt: iso(T0 + 100),
      holdEndsAt: iso(T0 + 100 + 60_000),
      // Step Functions reads whole seconds: the check is due at the next whole second after.
      nextCheckAt: iso(T0 + 11_000),
      // The new step's 60 s hold plus the 60 s grace.
      holdTimeoutSeconds: 120,
    });
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({
      version: "1",
      weights: { "2": 0.25 },
    });
  });

  it("moves on within the slack before the hold's end (2% of a 10 s poll)", async () => {
    const rollout = atStep(0, T0 + 150);
    const w = await world(rollout, T0);
    expect((await checkAlarms({ plan, rollout }, w.deps)).stepIndex).toBe(1);
  });

  it("goes to promote after the last traffic step's hold, without touching the alias", async () => {
    const rollout = atStep(2, T0);
    const w = await world(rollout);
    const next = await checkAlarms({ plan, rollout }, w.deps);
    expect(next).toEqual({ ...rollout, phase: "promote", checks: 5 });
    expect(w.functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.5 });
  });

  it("stays in promote (no shift) when checked again in that phase", async () => {
    const rollout = atStep(2, T0, { phase: "promote" });
    const w = await world(rollout, T0 + 5_000);
    const changes = w.functions.aliasHistory.length;
    const next = await checkAlarms({ plan, rollout }, w.deps);
    // The hold is over: the shortest timeout (one second) plus the grace.
    expect(next).toEqual({ ...rollout, checks: 5, nextCheckAt: iso(T0), holdTimeoutSeconds: 61 });
    expect(w.functions.aliasHistory).toHaveLength(changes);
  });

  // Phases past the traffic steps never shift traffic, even with the hold over and steps left
  // to take: a redeploy of the live version (Deploy's promote at stepIndex -1) would route weight
  // to the primary version itself, which Lambda rejects; a baked rollout is done.
  it.each([
    [
      "a redeploy of the live version",
      testRollout({ newVersion: "1", phase: "promote", stepIndex: -1, weight: 0 }),
    ],
    ["a baked rollout", testRollout({ phase: "baked", weight: 100 })],
  ])("leaves the alias alone for %s whose hold is over", async (_, rollout) => {
    const w = await world(rollout, T0 + 5_000);
    const changes = w.functions.aliasHistory.length;
    const next = await checkAlarms({ plan, rollout }, w.deps);
    expect(next).toEqual({ ...rollout, checks: 1, nextCheckAt: iso(T0), holdTimeoutSeconds: 61 });
    expect(w.functions.aliasHistory).toHaveLength(changes);
  });

  it("keeps baking while the bake lasts", async () => {
    const rollout = testRollout({ phase: "bake", weight: 100, holdEndsAt: iso(T0 + 600_000) });
    const w = await world(rollout);
    const next = await checkAlarms({ plan, rollout }, w.deps);
    // The bake Task that follows waits out the 600 s left plus the 60 s grace.
    expect(next).toEqual({
      ...rollout,
      checks: 1,
      nextCheckAt: iso(T0 + 10_000),
      holdTimeoutSeconds: 660,
    });
  });

  it("reports baked when the bake is over", async () => {
    const rollout = testRollout({ phase: "bake", weight: 100, holdEndsAt: iso(T0) });
    const w = await world(rollout);
    expect(await checkAlarms({ plan, rollout }, w.deps)).toEqual({
      ...rollout,
      phase: "baked",
      checks: 1,
    });
  });

  it("still watches the alarms during the bake", async () => {
    const rollout = testRollout({ phase: "bake", weight: 100, holdEndsAt: iso(T0 + 600_000) });
    const w = await world(rollout);
    w.alarms.set("hello-prod-errors", "ALARM", "errors");
    const since = w.alarms.states.get("hello-prod-errors")?.updatedAt;
    await expect(checkAlarms({ plan, rollout }, w.deps)).rejects.toThrow(
      `hello-prod-errors in ALARM since ${since} (errors) while version 2 had 100% of traffic`,
    );
  });

  it("refuses to shift an alias someone else changed (ConcurrentModification)", async () => {
    const rollout = atStep(0, T0);
    const w = await world(rollout);
    await w.functions.updateAlias("hello-prod", "live", { version: "2", weights: {} });
    await expect(checkAlarms({ plan, rollout }, w.deps)).rejects.toThrow(ConcurrentModification);
  });

  it("needs the rollout Deploy wrote", async () => {
    const w = await world(atStep(0, T0));
    await expect(checkAlarms({ plan }, w.deps)).rejects.toThrow(
      new TypeError("checkAlarms needs $.rollout (Deploy runs first)"),
    );
  });
});

describe("checkAlarms with the version analysis", () => {
  const analysed = { ...plan, analysis: ANALYSIS_DEFAULTS };
  const good = { invocations: 500, errors: 0, throttles: 0, p99DurationMs: 40 };
  const bad = { invocations: 500, errors: 100, throttles: 0, p99DurationMs: 40 };
  /** Step 0 (10%) held from T0 - 60 s to T0. */
  const over = (extra: Partial<Rollout> = {}) =>
    atStep(0, T0, { holdStartedAt: iso(T0 - 60_000), ...extra });

  async function analysedWorld(rollout: Rollout, v2: object, now = T0) {
    const w = await world(rollout, now);
    w.versionMetrics.set("hello-prod", "2", v2 as typeof good);
    w.versionMetrics.set("hello-prod", "1", good);
    return w;
  }

  it("judges a step whose hold is over, then shifts as before with the verdict attached", async () => {
    const rollout = over();
    const w = await analysedWorld(rollout, good);
    const next = await checkAlarms({ plan: analysed, rollout }, w.deps);
    expect(next).toMatchObject({ phase: "steps", stepIndex: 1, weight: 25, checks: 5 });
    expect(next.analysis).toMatchObject({ decision: "pass", stepIndex: 0, weight: 10 });
    expect(next.analysis?.window).toEqual({ from: iso(T0 - 60_000), to: iso(T0) });
    expect(w.functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.25 });
  });

  it("halts the rollout on a failing verdict and leaves the alias for Rollback", async () => {
    const rollout = over();
    const w = await analysedWorld(rollout, bad);
    const next = await checkAlarms({ plan: analysed, rollout }, w.deps);
    expect(next).toEqual({
      ...rollout,
      checks: 5,
      phase: "halted",
      analysis: expect.objectContaining({ decision: "fail", failure: "VersionRegressed" }),
    });
    expect(w.functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.1 });
  });

  it("halts the rollout when there is too little data (InsufficientData)", async () => {
    const rollout = over();
    const w = await analysedWorld(rollout, { invocations: 3, errors: 0, throttles: 0 });
    const strict = {
      ...plan,
      analysis: { ...ANALYSIS_DEFAULTS, whenInsufficient: "fail" as const },
    };
    const next = await checkAlarms({ plan: strict, rollout }, w.deps);
    expect(next.phase).toBe("halted");
    expect(next.analysis).toMatchObject({ decision: "insufficient", failure: "InsufficientData" });
  });

  it("extends the hold once: same step, a later end, the window's start kept", async () => {
    const rollout = over();
    const w = await analysedWorld(rollout, { invocations: 3, errors: 0, throttles: 0 }, T0 + 200);
    const extend = {
      ...plan,
      analysis: { ...ANALYSIS_DEFAULTS, whenInsufficient: "extend" as const },
    };
    const next = await checkAlarms({ plan: extend, rollout }, w.deps);
    expect(next).toEqual({
      ...rollout,
      checks: 5,
      holdStartedAt: iso(T0 - 60_000),
      // One step's hold after now (the check came 200 ms after the planned end).
      holdEndsAt: iso(T0 + 200 + 60_000),
      nextCheckAt: iso(T0 + 11_000),
      holdTimeoutSeconds: 120,
      extendedHold: "steps:0",
      analysis: expect.objectContaining({ decision: "extend" }),
    });
    expect(w.functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.1 });
    // The second time round it is insufficient.
    const again = await checkAlarms(
      { plan: extend, rollout: { ...next, holdEndsAt: iso(T0) } },
      w.deps,
    );
    expect(again.phase).toBe("halted");
  });

  it("an extension in a state without holdStartedAt keeps the window's start as it was worked out", async () => {
    const { holdStartedAt: _, ...older } = over();
    const w = await analysedWorld(older, { invocations: 3, errors: 0, throttles: 0 });
    const extend = {
      ...plan,
      analysis: { ...ANALYSIS_DEFAULTS, whenInsufficient: "extend" as const },
    };
    const next = await checkAlarms({ plan: extend, rollout: older }, w.deps);
    expect(next.holdStartedAt).toBe(iso(T0 - 60_000));
  });

  it("judges the bake at its end and reports baked with the verdict", async () => {
    const rollout = testRollout({
      phase: "bake",
      weight: 100,
      startedAt: iso(T0 - 900_000),
      holdStartedAt: iso(T0 - 600_000),
      holdEndsAt: iso(T0),
    });
    const w = await analysedWorld(rollout, good);
    const next = await checkAlarms({ plan: analysed, rollout }, w.deps);
    expect(next.phase).toBe("baked");
    expect(next.analysis).toMatchObject({
      decision: "pass",
      phase: "bake",
      baseline: { from: iso(T0 - 1_500_000), to: iso(T0 - 900_000) },
    });
  });

  it("judges nothing while a hold lasts, in promote, or once halted", async () => {
    for (const rollout of [
      over({ holdEndsAt: iso(T0 + 60_000) }),
      over({ phase: "promote", stepIndex: 2, weight: 50 }),
      over({ phase: "halted" }),
    ]) {
      const w = await analysedWorld(rollout, bad);
      const next = await checkAlarms({ plan: analysed, rollout }, w.deps);
      expect(next.phase).toBe(rollout.phase);
      expect(next.analysis).toBeUndefined();
      expect(w.versionMetrics.queries).toEqual([]);
    }
  });

  it("a stage without analysis reads no version metrics", async () => {
    const rollout = over();
    const w = await analysedWorld(rollout, bad);
    const next = await checkAlarms({ plan, rollout }, w.deps);
    expect(next.stepIndex).toBe(1);
    expect(next.analysis).toBeUndefined();
    expect(w.versionMetrics.queries).toEqual([]);
  });

  it("a fix's alarm in ALARM does not stop it; any other alarm still does", async () => {
    const rollout = over();
    const w = await analysedWorld(rollout, good);
    w.versionMetrics.set("hello-prod", "1", bad);
    w.alarms.set("hello-prod-errors", "ALARM", "the incident");
    const fix = { ...analysed, fixFor: ["hello-prod-errors"] };
    const next = await checkAlarms({ plan: fix, rollout }, w.deps);
    expect(next.stepIndex).toBe(1);
    expect(next.analysis?.fix).toMatchObject({ metric: "errors", improved: true });

    w.alarms.set("hello-prod-latency", "ALARM", "slow");
    await expect(checkAlarms({ plan: fix, rollout: next }, w.deps)).rejects.toThrow(
      /^hello-prod-latency in ALARM since .* \(slow\) while version 2 had 25% of traffic$/,
    );
  });
});
