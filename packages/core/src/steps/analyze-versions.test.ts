import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.ts";
import type { Plan } from "../plan.ts";
import type { InvocationResult, VersionMetrics } from "../ports.ts";
import { ANALYSIS_DEFAULTS, type ResolvedAnalysisPolicy } from "../registry.ts";
import type { Rollout } from "../state.ts";
import { fixedClock, T0, testPlan, testRollout } from "../testing/fixtures.ts";
import { MemoryAlarms, MemoryVersionMetrics } from "../testing/memory-world.ts";
import {
  analysisWindows,
  analyzeVersions,
  extendedHoldEnd,
  extendedHoldKey,
  holdLengthMs,
  SYNTHETIC_CONCURRENCY,
} from "./analyze-versions.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const NOW = T0 + 60_000;

const planWith = (analysis: Partial<ResolvedAnalysisPolicy> = {}, extra: Partial<Plan> = {}) => ({
  ...testPlan(),
  analysis: { ...ANALYSIS_DEFAULTS, ...analysis },
  ...extra,
});

/** Version 2 at 10% since T0, its hold over at T0 + 60 s. */
const step = (extra: Partial<Rollout> = {}) =>
  testRollout({ holdStartedAt: iso(T0), holdEndsAt: iso(NOW), ...extra });

const healthy: VersionMetrics = { invocations: 120, errors: 0, throttles: 0, p99DurationMs: 40 };
const previous: VersionMetrics = { invocations: 1080, errors: 2, throttles: 0, p99DurationMs: 40 };

/**
 * The functions as synthetic requests see them: each version answers what `answers` says,
 * every invocation is recorded, and the most requests in flight at once is kept.
 */
function fakeFunctions(answers: Record<string, (event: unknown) => InvocationResult | Error>) {
  const calls: { qualifier: string; event: unknown }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    calls,
    maxInFlight: () => maxInFlight,
    async invoke(_fn: string, qualifier: string, event: unknown): Promise<InvocationResult> {
      calls.push({ qualifier, event });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      const answer = answers[qualifier]?.(event) ?? new Error(`no version ${qualifier}`);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}
const ok = (version: string) => () => ({
  executedVersion: version,
  payload: { statusCode: 200, body: `hello from v${version}` },
});

function world(
  metrics: { new?: VersionMetrics; previous?: VersionMetrics } = {},
  answers: Record<string, (event: unknown) => InvocationResult | Error> = {
    "1": ok("1"),
    "2": ok("2"),
  },
) {
  const versionMetrics = new MemoryVersionMetrics();
  if (metrics.new) versionMetrics.set("hello-prod", "2", metrics.new);
  if (metrics.previous) versionMetrics.set("hello-prod", "1", metrics.previous);
  const alarms = new MemoryAlarms();
  alarms.set("hello-prod-errors", "ALARM", "the incident", "Errors");
  alarms.set("hello-prod-latency", "OK", "fine", "Duration");
  const functions = fakeFunctions(answers);
  return { versionMetrics, alarms, functions, clock: fixedClock(NOW) };
}

describe("analysisWindows", () => {
  it("a traffic step: both versions from the hold's start to now", () => {
    expect(analysisWindows(testPlan(), step(), NOW + 5)).toEqual({ from: T0, to: NOW + 5 });
  });

  it("a state without holdStartedAt: one hold length back from its end", () => {
    const rollout = testRollout({ holdEndsAt: iso(NOW + 2_000) });
    expect(analysisWindows(testPlan(), rollout, NOW)).toEqual({ from: T0 + 2_000, to: NOW });
    const bake = testRollout({ phase: "bake", holdEndsAt: iso(T0 + 600_000), startedAt: iso(T0) });
    expect(analysisWindows(testPlan(), bake, T0 + 600_000).from).toBe(T0);
  });

  it("the bake: the previous version over as long a window, ending when Deploy ran", () => {
    const bake = testRollout({
      phase: "bake",
      holdStartedAt: iso(T0 + 300_000),
      holdEndsAt: iso(T0 + 900_000),
      startedAt: iso(T0),
    });
    expect(analysisWindows(testPlan(), bake, T0 + 900_000)).toEqual({
      from: T0 + 300_000,
      to: T0 + 900_000,
      baseline: { from: T0 - 600_000, to: T0 },
    });
    // Without startedAt (an earlier Gantry's state), the baseline ends where the bake began.
    const { startedAt: _, ...older } = bake;
    expect(analysisWindows(testPlan(), older, T0 + 900_000).baseline).toEqual({
      from: T0 - 300_000,
      to: T0 + 300_000,
    });
  });

  it("hold lengths, extension keys and ends", () => {
    expect(holdLengthMs(testPlan(), { phase: "steps" })).toBe(60_000);
    expect(holdLengthMs(testPlan(), { phase: "bake" })).toBe(600_000);
    expect(extendedHoldKey({ phase: "steps", stepIndex: 2 })).toBe("steps:2");
    expect(extendedHoldKey({ phase: "bake", stepIndex: 2 })).toBe("bake:2");
    // One hold after its planned end, or after now when the check came later.
    expect(extendedHoldEnd(testPlan(), step(), NOW - 10)).toBe(NOW + 60_000);
    expect(extendedHoldEnd(testPlan(), step(), NOW + 10)).toBe(NOW + 60_010);
  });
});

describe("analyzeVersions", () => {
  it("reads both versions over the hold's window through the alias and passes a healthy version", async () => {
    const w = world({ new: healthy, previous });
    const verdict = await analyzeVersions({ plan: planWith(), rollout: step() }, w);
    expect(w.versionMetrics.queries).toEqual([
      { functionName: "hello-prod", alias: "live", version: "2", from: T0, to: NOW },
      { functionName: "hello-prod", alias: "live", version: "1", from: T0, to: NOW },
    ]);
    expect(verdict).toMatchObject({
      at: iso(NOW),
      phase: "steps",
      stepIndex: 0,
      weight: 10,
      window: { from: iso(T0), to: iso(NOW) },
      newVersion: { version: "2", requests: 120, failures: 0, realRequests: 120, p99Ms: 40 },
      previousVersion: { version: "1", requests: 1080, failures: 2 },
      decision: "pass",
      summary:
        "version 2 failed 0 of 120 requests (0.0%), version 1 2 of 1080 (0.2%): " +
        "-0.2 points <= +1 (Fisher p = 1); p99 40 ms vs 40 ms (1.00x <= 1.2x)",
    });
    expect(verdict.baseline).toBeUndefined();
    expect(verdict.failure).toBeUndefined();
    expect(w.functions.calls).toEqual([]);
  });

  it("logs the decision, and the synthetic requests it sent", async () => {
    const lines: [string, Record<string, unknown> | undefined][] = [];
    const record = (message: string, extra?: Record<string, unknown>) => {
      lines.push([message, extra]);
    };
    const log = { debug: record, info: record, warn: record, error: record };
    const w = world({ new: { ...healthy, invocations: 95 }, previous });
    const verdict = await analyzeVersions({ plan: planWith(), rollout: step() }, { ...w, log });
    expect(lines).toEqual([
      ["synthetic requests sent", { version: "2", requests: 5, failures: 0 }],
      ["version analysis", { decision: "pass", stepIndex: 0, summary: verdict.summary }],
    ]);
  });

  it("fails a version that fails what it serves (VersionRegressed)", async () => {
    const w = world({ new: { ...healthy, errors: 120 }, previous });
    const verdict = await analyzeVersions({ plan: planWith(), rollout: step() }, w);
    expect(verdict.decision).toBe("fail");
    expect(verdict.failure).toBe("VersionRegressed");
    expect(verdict.summary).toMatch(
      /^version 2 failed 120 of 120 requests \(100\.0%\), version 1 2 of 1080 \(0\.2%\): \+99\.8 points > \+1 at 95%/,
    );
  });

  it("the bake: the previous version's numbers come from before the rollout", async () => {
    const w = world({ new: healthy, previous });
    const rollout = testRollout({
      phase: "bake",
      weight: 100,
      startedAt: iso(T0 - 30_000),
      holdStartedAt: iso(T0),
      holdEndsAt: iso(NOW),
    });
    const verdict = await analyzeVersions({ plan: planWith(), rollout }, w);
    expect(w.versionMetrics.queries.map((q) => [q.version, q.from, q.to])).toEqual([
      ["2", T0, NOW],
      ["1", T0 - 90_000, T0 - 30_000],
    ]);
    expect(verdict.baseline).toEqual({ from: iso(T0 - 90_000), to: iso(T0 - 30_000) });
    expect(verdict.phase).toBe("bake");
    expect(verdict.summary).toContain("version 1 before the rollout 2 of 1080");
  });

  it("a redeploy of the live version is skipped: nothing read, nothing sent", async () => {
    const w = world({ new: healthy, previous });
    const rollout = step({ newVersion: "1", phase: "bake" });
    const verdict = await analyzeVersions({ plan: planWith(), rollout }, w);
    expect(verdict).toMatchObject({
      decision: "skipped",
      latency: { judged: false, reason: "nothing to compare" },
      newVersion: { version: "1", requests: 0 },
      previousVersion: { version: "1", requests: 0 },
      summary: "version 1 is the version already live: nothing to compare",
    });
    expect(verdict.errorRate).toBeUndefined();
    expect(w.versionMetrics.queries).toEqual([]);
  });

  it.each([
    [{ plan: planWith() }, "analyzeVersions needs $.rollout (Deploy runs first)"],
    [
      { plan: testPlan(), rollout: step() },
      "analyzeVersions needs plan.analysis (the stage's registry)",
    ],
    [
      { plan: planWith(), rollout: step({ phase: "promote" }) },
      "analyzeVersions judges a traffic step or the bake, not promote",
    ],
  ])("refuses what it cannot judge before reading anything (%#)", async (state, message) => {
    const w = world({ new: healthy, previous });
    await expect(analyzeVersions(state, w)).rejects.toThrow(new TypeError(message));
    expect(w.versionMetrics.queries).toEqual([]);
  });

  describe("too few requests", () => {
    const short: VersionMetrics = { invocations: 28, errors: 0, throttles: 2, p99DurationMs: 40 };

    it("synthesize: sends the canary's events straight to the short version, cycling the checks", async () => {
      const checks = [
        { name: "a", event: { rawPath: "/a" }, expect: { statusCode: 200 } },
        { name: "b", event: { rawPath: "/b" }, expect: { bodyIncludes: "hello" } },
      ];
      const plan = planWith({}, { canary: { checks } });
      const w = world({ new: short, previous: { ...previous, errors: 20 } });
      const verdict = await analyzeVersions({ plan, rollout: step() }, w);
      // 30 real requests (28 + 2 throttled): 70 short of 100, all to version 2, none to version 1.
      expect(w.functions.calls).toHaveLength(70);
      expect(new Set(w.functions.calls.map((c) => c.qualifier))).toEqual(new Set(["2"]));
      expect(w.functions.calls.slice(0, 3).map((c) => c.event)).toEqual([
        { rawPath: "/a" },
        { rawPath: "/b" },
        { rawPath: "/a" },
      ]);
      expect(w.functions.maxInFlight()).toBe(SYNTHETIC_CONCURRENCY);
      expect(verdict.newVersion).toEqual({
        version: "2",
        requests: 100,
        failures: 2,
        realRequests: 30,
        throttles: 2,
        synthetic: 70,
        syntheticFailures: 0,
        p99Ms: 40,
      });
      expect(verdict.previousVersion.synthetic).toBe(0);
      expect(verdict.decision).toBe("pass");
      expect(verdict.latency.judged).toBe(false);
      expect(verdict.summary).toMatch(
        /^version 2 failed 2 of 100 requests \(2\.0%; 70 synthetic, 0 of them failed\), version 1 20 of 1080/,
      );
    });

    it("synthesize: a synthetic request fails on a function error, a missed expectation or a failed invoke", async () => {
      let n = 0;
      const answers = {
        "1": ok("1"),
        "2": () => {
          n++;
          if (n % 3 === 0) return new Error("throttled");
          if (n % 3 === 1)
            return {
              executedVersion: "2",
              functionError: "Unhandled",
              payload: { errorType: "Boom" },
            };
          return { executedVersion: "2", payload: { statusCode: 200, body: "hello" } };
        },
      };
      const w = world({ new: { ...short, invocations: 88, throttles: 0 }, previous }, answers);
      const verdict = await analyzeVersions({ plan: planWith(), rollout: step() }, w);
      // 12 sent: 4 function errors, 4 failed invokes, 4 answers that pass the check.
      expect(verdict.newVersion).toMatchObject({
        requests: 100,
        synthetic: 12,
        syntheticFailures: 8,
      });
      expect(verdict.newVersion.failures).toBe(8);
    });

    it("synthesize: each short version gets its own shortfall", async () => {
      const w = world({ new: short, previous: { ...previous, invocations: 95 } });
      const verdict = await analyzeVersions({ plan: planWith(), rollout: step() }, w);
      const to = (q: string) => w.functions.calls.filter((c) => c.qualifier === q).length;
      expect([to("2"), to("1")]).toEqual([70, 5]);
      expect(verdict.previousVersion).toMatchObject({
        requests: 100,
        realRequests: 95,
        synthetic: 5,
      });
    });

    it("synthesize: a shortfall above maxSyntheticRequests sends nothing and is insufficient", async () => {
      const w = world({ new: short, previous });
      const verdict = await analyzeVersions(
        { plan: planWith({ maxSyntheticRequests: 69 }), rollout: step() },
        w,
      );
      expect(w.functions.calls).toEqual([]);
      expect(verdict).toMatchObject({
        decision: "insufficient",
        failure: "InsufficientData",
        newVersion: { requests: 30, synthetic: 0 },
        latency: { judged: false, reason: "too few requests for a verdict" },
        summary:
          "too few requests for a verdict: version 2 served 30, version 1 1080, of the 100 each needs; " +
          "making up 70 requests would take more than maxSyntheticRequests (69): none sent",
      });
      expect(verdict.errorRate).toBeUndefined();
      // Exactly at the bound, it sends them.
      const atBound = world({ new: short, previous });
      await analyzeVersions(
        { plan: planWith({ maxSyntheticRequests: 70 }), rollout: step() },
        atBound,
      );
      expect(atBound.functions.calls).toHaveLength(70);
    });

    it("extend: asks for the hold once more, then is insufficient", async () => {
      const w = world({ new: short, previous });
      const plan = planWith({ whenInsufficient: "extend" });
      const first = await analyzeVersions({ plan, rollout: step() }, w);
      expect(first).toMatchObject({
        decision: "extend",
        latency: { judged: false, reason: "too few requests for a verdict" },
        summary: `too few requests for a verdict: version 2 served 30, version 1 1080, of the 100 each needs; holding once more, until ${iso(NOW + 60_000)}`,
      });
      expect(first.failure).toBeUndefined();
      const again = await analyzeVersions({ plan, rollout: step({ extendedHold: "steps:0" }) }, w);
      expect(again).toMatchObject({
        decision: "insufficient",
        failure: "InsufficientData",
        summary: expect.stringMatching(/; the hold was already extended once for more data$/),
      });
      // An extension of an earlier step does not count for this one.
      const other = await analyzeVersions({ plan, rollout: step({ extendedHold: "steps:1" }) }, w);
      expect(other.decision).toBe("extend");
      expect(w.functions.calls).toEqual([]);
    });

    it.each(["fail", "extend"] as const)(
      "%s: enough data is judged as usual, with nothing sent or extended",
      async (whenInsufficient) => {
        const w = world({ new: healthy, previous });
        const verdict = await analyzeVersions(
          { plan: planWith({ whenInsufficient }), rollout: step() },
          w,
        );
        expect(verdict.decision).toBe("pass");
        expect(w.functions.calls).toEqual([]);
      },
    );

    it("fail: insufficient at once", async () => {
      const w = world({ new: healthy, previous: { ...previous, invocations: 99 } });
      const verdict = await analyzeVersions(
        { plan: planWith({ whenInsufficient: "fail" }), rollout: step() },
        w,
      );
      expect(verdict).toMatchObject({
        decision: "insufficient",
        failure: "InsufficientData",
        summary:
          "too few requests for a verdict: version 2 served 120, version 1 99, of the 100 each needs; " +
          "the registry says to fail (whenInsufficient: fail)",
      });
      expect(w.functions.calls).toEqual([]);
    });
  });

  describe("a fix", () => {
    it("judges an errors alarm's fix on the failure rate", async () => {
      const w = world({
        new: { ...healthy, invocations: 200 },
        previous: { ...previous, errors: 60, invocations: 1000 },
      });
      const plan = planWith({}, { fixFor: ["hello-prod-errors"] });
      const verdict = await analyzeVersions({ plan, rollout: step() }, w);
      expect(verdict.fix).toMatchObject({
        alarms: ["hello-prod-errors"],
        metric: "errors",
        improved: true,
      });
      expect(verdict.decision).toBe("pass");
    });

    it("judges the fix on latency when one of its alarms watches Duration", async () => {
      const w = world({ new: { ...healthy, p99DurationMs: 45 }, previous });
      const plan = planWith({}, { fixFor: ["hello-prod-errors", "hello-prod-latency"] });
      const verdict = await analyzeVersions({ plan, rollout: step() }, w);
      expect(verdict.fix).toEqual({
        alarms: ["hello-prod-errors", "hello-prod-latency"],
        metric: "latency",
        improved: false,
      });
      expect(verdict.decision).toBe("fail");
      expect(verdict.failure).toBe("VersionRegressed");
    });

    it("an unknown fix alarm is a ConfigurationError naming each one missing", async () => {
      const w = world({ new: healthy, previous });
      w.alarms.states.delete("hello-prod-errors");
      const plan = planWith({}, { fixFor: ["hello-prod-errors"] });
      await expect(analyzeVersions({ plan, rollout: step() }, w)).rejects.toThrow(
        new ConfigurationError("alarms not found: hello-prod-errors"),
      );
      const both = planWith(
        {},
        { fixFor: ["hello-prod-errors", "gone", "hello-prod-latency", "lost"] },
      );
      await expect(analyzeVersions({ plan: both, rollout: step() }, w)).rejects.toThrow(
        new ConfigurationError("alarms not found: hello-prod-errors, gone, lost"),
      );
    });

    it("an ordinary deployment reads no alarm (and a state without fixFor is one)", async () => {
      const w = world({ new: healthy, previous });
      let described = 0;
      const alarms = {
        describe: async () => {
          described++;
          return [];
        },
      };
      const { fixFor: _, ...older } = planWith();
      const verdict = await analyzeVersions(
        { plan: older as Plan, rollout: step() },
        { ...w, alarms },
      );
      expect(described).toBe(0);
      expect(verdict.fix).toBeUndefined();
    });
  });
});
