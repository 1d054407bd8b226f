/**
 * Version-aware canary analysis (issue 17), through the real ASL: at the end of every hold the new
 * version is judged by its own numbers against the previous version's. A failure diluted below
 * the alias's alarm is caught, too little data is never taken for health, and a fix deployed
 * during an incident must beat the version it replaces.
 */
import type { AnalysisPolicy, DeploymentState, VersionMetrics, VersionVerdict } from "@gantry/core";
import { describe, expect, it } from "vitest";
import {
  GOOD_V2,
  type RunReport,
  testRegistry,
  WorkflowHarness,
} from "../support/workflow-harness.ts";

const HEALTHY_V1: VersionMetrics = {
  invocations: 1080,
  errors: 2,
  throttles: 0,
  p99DurationMs: 40,
};
const HEALTHY_V2: VersionMetrics = { invocations: 120, errors: 0, throttles: 0, p99DurationMs: 41 };

/** Preprod passed; prod has the version analysis; alice approves prod. */
async function readyForProd(analysis: AnalysisPolicy = {}) {
  const world = new WorkflowHarness(testRegistry({ analysis }));
  const request = world.publish("3f2a9c1e0b7d", GOOD_V2);
  world.validate(request);
  const preprod = await world.run("preprod", request);
  expect(preprod.status).toBe("SUCCEEDED");
  world.approveAs = "alice@example.com";
  return { world, request };
}

/** Every verdict, in order: CheckAlarms' and CheckBakeAlarms' output as the history has it. */
const verdicts = (run: RunReport): VersionVerdict[] =>
  run.events.flatMap((e) => {
    if (e.type !== "StateExited") return [];
    if (e.state.name !== "CheckAlarms" && e.state.name !== "CheckBakeAlarms") return [];
    const analysis = (e.state.output as unknown as DeploymentState).rollout?.analysis;
    return analysis ? [analysis] : [];
  });

/** The state the execution was in when it entered `name` (the last time). */
const inputOf = (run: RunReport, name: string) => {
  const entered = run.events.findLast((e) => e.type === "StateEntered" && e.state.name === name);
  return entered?.type === "StateEntered"
    ? (entered.state.input as unknown as DeploymentState)
    : undefined;
};

const aliasOf = (world: WorkflowHarness) => world.functions.alias("hello-prod", "live");

const step = ["HoldTrafficStep", "CheckAlarms", "AllStepsHeld"];
const rolledBackBy = (error: string) => [
  "NoteAnalysisFailure",
  "Rollback",
  "FinishAfterFailure",
  "ReportFailure",
  error,
];

describe("version analysis: a failure diluted below the alias's alarm", () => {
  it("rolls back with VersionRegressed at the 10% step while the alarm stays OK", async () => {
    const { world, request } = await readyForProd();
    // Version 2 fails everything it serves: at 10% the alias sees a 10% error rate, under its alarm.
    world.versionMetrics.set("hello-prod", "2", { ...HEALTHY_V2, errors: 120 });
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    const run = await world.run("prod", request);

    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("VersionRegressed");
    expect(world.alarms.states.get("hello-prod-errors")?.state).toBe("OK");
    // Judged at the end of the first hold: never a second step.
    expect(run.states.slice(run.states.indexOf("Canary"))).toEqual([
      "Canary",
      ...step,
      ...rolledBackBy("VersionRegressed"),
    ]);
    const [verdict, ...more] = verdicts(run);
    expect(more).toEqual([]);
    expect(verdict).toMatchObject({
      decision: "fail",
      failure: "VersionRegressed",
      phase: "steps",
      stepIndex: 0,
      weight: 10,
      newVersion: { version: "2", requests: 120, failures: 120, synthetic: 0 },
      previousVersion: { version: "1", requests: 1080, failures: 2 },
      errorRate: { regressed: true, alpha: 0.05 },
      latency: { judged: true, regressed: false },
    });
    expect(verdict?.summary).toMatch(
      /^version 2 failed 120 of 120 requests \(100\.0%\), version 1 2 of 1080 \(0\.2%\): \+99\.8 points > \+1 at 95% \(Fisher p = \d\.\de-\d+\); p99 41 ms vs 40 ms \(1\.02x <= 1\.2x\)$/,
    );
    // The same verdict in $.rollout.analysis, and as the failure the rollback reports.
    const noted = inputOf(run, "Rollback");
    expect(noted?.rollout?.analysis).toEqual(verdict);
    expect(noted?.rollout?.phase).toBe("halted");
    expect(noted?.failure).toEqual({ Error: "VersionRegressed", Cause: verdict?.summary });
    expect(run.cause).toContain(verdict?.summary);
    // Both versions over the same window, through the alias.
    const [forNew, forOld] = world.versionMetrics.queries;
    expect(forNew).toMatchObject({ functionName: "hello-prod", alias: "live", version: "2" });
    expect(forOld).toEqual({ ...forNew, version: "1" });
    expect(aliasOf(world)).toMatchObject({ version: "1", weights: {} });
    expect(world.lock("prod")).toBeUndefined();
  });
});

describe("version analysis: not enough data is not healthy", () => {
  const trickle: VersionMetrics = { invocations: 30, errors: 0, throttles: 0, p99DurationMs: 41 };

  it("synthesize: the canary's events make up each short hold, and it deploys", async () => {
    const { world, request } = await readyForProd();
    world.versionMetrics.set("hello-prod", "2", trickle);
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    const run = await world.run("prod", request);

    expect(run.status, `${run.error}: ${run.cause}`).toBe("SUCCEEDED");
    const all = verdicts(run);
    expect(all.map((v) => [v.phase, v.weight, v.decision])).toEqual([
      ["steps", 10, "pass"],
      ["steps", 25, "pass"],
      ["steps", 50, "pass"],
      ["bake", 100, "pass"],
    ]);
    for (const verdict of all) {
      expect(verdict.newVersion).toMatchObject({
        requests: 100,
        realRequests: 30,
        synthetic: 70,
        syntheticFailures: 0,
      });
      expect(verdict.summary).toContain("(0.0%; 70 synthetic, 0 of them failed)");
      // Latency is judged on real traffic only: 30 real requests are too few.
      expect(verdict.latency.judged).toBe(false);
    }
    // 70 direct invocations of version 2 per hold, none through the alias, none of version 1.
    const synthetic = world.functions.invocations.filter(
      (i) => i.functionName === "hello-prod" && i.qualifier === "2",
    );
    expect(synthetic.length).toBe(4 * 70 + 1); // and the canary's one check
    expect(
      world.functions.invocations.filter(
        (i) => i.functionName === "hello-prod" && i.qualifier === "1",
      ),
    ).toEqual([]);
    expect(aliasOf(world)).toMatchObject({ version: "2", weights: {} });
  });

  it("synthesize: a version that fails its synthetic requests is rolled back", async () => {
    const { world, request } = await readyForProd();
    world.versionMetrics.set("hello-prod", "2", trickle);
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    // After the canary passed, version 2 starts failing (its check expects a 200).
    world.functions.onAliasChange((fn, alias) => {
      if (fn === "hello-prod" && alias.weights["2"] === 0.1) world.functions.invoke = failing;
    });
    const real = world.functions.invoke.bind(world.functions);
    const failing: typeof real = async (fn, qualifier, event) =>
      fn === "hello-prod" && qualifier === "2"
        ? { executedVersion: "2", payload: { statusCode: 503, body: "unavailable" } }
        : real(fn, qualifier, event);
    const run = await world.run("prod", request);

    expect(run.error).toBe("VersionRegressed");
    const [verdict] = verdicts(run);
    expect(verdict?.newVersion).toMatchObject({
      requests: 100,
      failures: 70,
      synthetic: 70,
      syntheticFailures: 70,
    });
    expect(aliasOf(world)).toMatchObject({ version: "1", weights: {} });
  });

  it("synthesize with a bound below the shortfall: nothing sent, InsufficientData", async () => {
    const { world, request } = await readyForProd({ maxSyntheticRequests: 50 });
    world.versionMetrics.set("hello-prod", "2", trickle);
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    const run = await world.run("prod", request);

    expect(run.error).toBe("InsufficientData");
    expect(run.states.slice(run.states.indexOf("Canary"))).toEqual([
      "Canary",
      ...step,
      ...rolledBackBy("InsufficientData"),
    ]);
    const [verdict] = verdicts(run);
    expect(verdict).toMatchObject({ decision: "insufficient", failure: "InsufficientData" });
    expect(verdict?.summary).toBe(
      "too few requests for a verdict: version 2 served 30, version 1 1080, of the 100 each needs; " +
        "making up 70 requests would take more than maxSyntheticRequests (50): none sent",
    );
    // Only the canary's own check reached version 2 directly.
    expect(
      world.functions.invocations.filter(
        (i) => i.functionName === "hello-prod" && i.qualifier === "2",
      ),
    ).toHaveLength(1);
    expect(aliasOf(world)).toMatchObject({ version: "1", weights: {} });
  });

  it("extend: holds the step once more, then fails InsufficientData", async () => {
    const { world, request } = await readyForProd({ whenInsufficient: "extend" });
    world.versionMetrics.set("hello-prod", "2", trickle);
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    const run = await world.run("prod", request);

    expect(run.error).toBe("InsufficientData");
    expect(run.states.slice(run.states.indexOf("Canary"))).toEqual([
      "Canary",
      ...step,
      ...step,
      ...rolledBackBy("InsufficientData"),
    ]);
    const [extended, last] = verdicts(run);
    expect(extended).toMatchObject({ decision: "extend", stepIndex: 0 });
    expect(last).toMatchObject({ decision: "insufficient", stepIndex: 0 });
    expect(last?.summary).toMatch(/; the hold was already extended once for more data$/);
    // The second window starts where the first did and is longer.
    expect(last?.window.from).toBe(extended?.window.from);
    expect(Date.parse(last?.window.to ?? "")).toBeGreaterThan(
      Date.parse(extended?.window.to ?? ""),
    );
    expect(aliasOf(world)).toMatchObject({ version: "1", weights: {} });
  });

  it("extend: data that arrives during the extension lets it go on", async () => {
    const { world, request } = await readyForProd({ whenInsufficient: "extend" });
    let reads = 0;
    // The first hold saw a trickle; by the end of its extension enough traffic came.
    world.versionMetrics.set("hello-prod", "2", () => (++reads === 1 ? trickle : HEALTHY_V2));
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    const run = await world.run("prod", request);

    expect(run.status, `${run.error}: ${run.cause}`).toBe("SUCCEEDED");
    expect(verdicts(run).map((v) => `${v.phase}:${v.stepIndex}:${v.decision}`)).toEqual([
      "steps:0:extend",
      "steps:0:pass",
      "steps:1:pass",
      "steps:2:pass",
      "bake:2:pass",
    ]);
    expect(aliasOf(world)).toMatchObject({ version: "2", weights: {} });
  });

  it("fail: InsufficientData at the end of the first hold", async () => {
    const { world, request } = await readyForProd({ whenInsufficient: "fail" });
    world.versionMetrics.set("hello-prod", "2", trickle);
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    const run = await world.run("prod", request);

    expect(run.error).toBe("InsufficientData");
    expect(run.states.filter((s) => s === "CheckAlarms")).toHaveLength(1);
    expect(verdicts(run)[0]?.summary).toMatch(
      /; the registry says to fail \(whenInsufficient: fail\)$/,
    );
    expect(
      world.functions.invocations.filter(
        (i) => i.functionName === "hello-prod" && i.qualifier === "2",
      ),
    ).toHaveLength(1);
  });
});

describe("version analysis: a fix deployed during an incident", () => {
  /** Version 1 is failing (the incident); the errors alarm is in ALARM. */
  async function incident(v2: VersionMetrics, fixFor = ["hello-prod-errors"]) {
    const { world, request } = await readyForProd();
    world.alarms.set("hello-prod-errors", "ALARM", "5xx rate 28%", "Errors");
    world.versionMetrics.set("hello-prod", "1", { ...HEALTHY_V1, errors: 300 });
    world.versionMetrics.set("hello-prod", "2", v2);
    return { world, request: { ...request, fixFor } };
  }

  it("deploys when the new version beats the old on errors; the alarm in ALARM does not stop it", async () => {
    const { world, request } = await incident(HEALTHY_V2);
    const run = await world.run("prod", request);

    expect(run.status, `${run.error}: ${run.cause}`).toBe("SUCCEEDED");
    const all = verdicts(run);
    expect(all).toHaveLength(4);
    for (const verdict of all) {
      expect(verdict.decision).toBe("pass");
      expect(verdict.fix).toMatchObject({
        alarms: ["hello-prod-errors"],
        metric: "errors",
        improved: true,
      });
      expect(verdict.summary).toMatch(
        /; fix for hello-prod-errors: fails less often than version 1 \(Fisher p = /,
      );
    }
    expect(all.at(-1)?.summary).toContain("version 1 before the rollout 300 of 1080");
    expect(aliasOf(world)).toMatchObject({ version: "2", weights: {} });
  });

  it("VersionRegressed when the fix does not do better than the version it replaces", async () => {
    // 33 of 120 (27.5%) against 300 of 1080 (27.8%): no worse, but no fix either.
    const { world, request } = await incident({ ...HEALTHY_V2, errors: 33 });
    const run = await world.run("prod", request);

    expect(run.error).toBe("VersionRegressed");
    const [verdict] = verdicts(run);
    expect(verdict?.errorRate?.regressed).toBe(false);
    expect(verdict?.fix).toMatchObject({ metric: "errors", improved: false });
    expect(verdict?.summary).toMatch(
      /; a fix for hello-prod-errors must beat version 1 on errors: it does not fail significantly less often \(Fisher p = 0\.\d+\)$/,
    );
    expect(aliasOf(world)).toMatchObject({ version: "1", weights: {} });
  });

  it("another alarm entering ALARM still rolls the fix back", async () => {
    const { world, request } = await incident(HEALTHY_V2);
    world.functions.onAliasChange((fn, alias) => {
      if (fn === "hello-prod" && alias.weights["2"] === 0.25)
        setTimeout(() => world.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms"), 5);
    });
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    expect(run.cause).toMatch(
      /^hello-prod-latency in ALARM since .* while version 2 had 25% of traffic/,
    );
    expect(run.cause).not.toContain("hello-prod-errors");
    expect(aliasOf(world)).toMatchObject({ version: "1", weights: {} });
  });

  it("a latency alarm's fix (metric Duration) must bring the p99 down", async () => {
    const slowV1 = { ...HEALTHY_V1, p99DurationMs: 900 };
    const { world, request } = await readyForProd();
    world.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms", "Duration");
    world.versionMetrics.set("hello-prod", "1", slowV1);
    world.versionMetrics.set("hello-prod", "2", { ...HEALTHY_V2, p99DurationMs: 120 });
    const fixed = await world.run("prod", { ...request, fixFor: ["hello-prod-latency"] });

    expect(fixed.status, `${fixed.error}: ${fixed.cause}`).toBe("SUCCEEDED");
    expect(verdicts(fixed)[0]?.fix).toEqual({
      alarms: ["hello-prod-latency"],
      metric: "latency",
      improved: true,
    });

    // The same incident, a version no faster: rolled back.
    const again = await readyForProd();
    again.world.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms", "Duration");
    again.world.versionMetrics.set("hello-prod", "1", slowV1);
    again.world.versionMetrics.set("hello-prod", "2", { ...HEALTHY_V2, p99DurationMs: 950 });
    const slow = await again.world.run("prod", {
      ...again.request,
      fixFor: ["hello-prod-latency"],
    });
    expect(slow.error).toBe("VersionRegressed");
    expect(verdicts(slow)[0]?.summary).toMatch(
      /must beat version 1 on latency: p99 950 ms is not below 900 ms$/,
    );
  });

  it("without --fix-for, a deployment during an incident is refused (AlarmTriggered)", async () => {
    const { world, request } = await incident(HEALTHY_V2);
    const { fixFor: _, ...unmarked } = request;
    const run = await world.run("prod", unmarked);
    // ApprovalGate refuses it before any email (issue 17), or, failing that, the first hold does.
    expect(run.error).toBe("AlarmTriggered");
    expect(run.states).not.toContain("CheckAlarms");
    expect(aliasOf(world)).toMatchObject({ version: "1", weights: {} });
  });
});

describe("version analysis: a healthy deployment", () => {
  it("passes every hold with the same 23 state transitions as without the analysis", async () => {
    const { world, request } = await readyForProd();
    world.versionMetrics.set("hello-prod", "2", HEALTHY_V2);
    world.versionMetrics.set("hello-prod", "1", HEALTHY_V1);
    const run = await world.run("prod", request);

    expect(run.status, `${run.error}: ${run.cause}`).toBe("SUCCEEDED");
    expect(run.states).toEqual([
      "ValidateInput",
      "AcquireLock",
      "VerifyPreprod",
      "ApprovalGate",
      "VerifyApproval",
      "CopyArtifact",
      "Deploy",
      "Canary",
      ...step,
      ...step,
      ...step,
      "Promote",
      "Bake",
      "CheckBakeAlarms",
      "BakeComplete",
      "Finish",
      "Deployed",
    ]);
    const all = verdicts(run);
    expect(all.map((v) => [v.phase, v.stepIndex, v.weight, v.decision])).toEqual([
      ["steps", 0, 10, "pass"],
      ["steps", 1, 25, "pass"],
      ["steps", 2, 50, "pass"],
      ["bake", 2, 100, "pass"],
    ]);
    // Each step's window is its own hold; the bake's baseline ends before the rollout began.
    const [first, second, , bake] = all;
    expect(Date.parse(second?.window.from ?? "")).toBeGreaterThanOrEqual(
      Date.parse(first?.window.to ?? ""),
    );
    const deployed = inputOf(run, "Canary")?.rollout?.startedAt;
    expect(bake?.baseline?.to).toBe(deployed);
    expect(all.every((v) => v.fix === undefined)).toBe(true);
    expect(aliasOf(world)).toMatchObject({ version: "2", weights: {} });
  });
});
