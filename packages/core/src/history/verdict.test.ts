import { describe, expect, it } from "vitest";
import { judgeVersions, versionSample } from "../analysis/verdict.ts";
import { ANALYSIS_DEFAULTS } from "../registry.ts";
import type { VersionVerdict } from "../state.ts";
import { regressedVerdict, testVerdict } from "../testing/verdicts.ts";
import { analysisPolicyOf, verdictOf, verdictPlace } from "./verdict.ts";

describe("verdictOf", () => {
  it("reads a verdict as CheckAlarms writes it, unchanged", () => {
    expect(verdictOf(testVerdict())).toEqual(testVerdict());
    expect(verdictOf(regressedVerdict())).toEqual(regressedVerdict());
  });

  it("reads back, unchanged, what the analysis itself writes: a pass, a fail, a fix", () => {
    const where = {
      at: "2026-11-01T12:01:00.000Z",
      phase: "steps",
      stepIndex: 0,
      weight: 10,
      window: { from: "2026-11-01T12:00:00.000Z", to: "2026-11-01T12:01:00.000Z" },
    } as const;
    const previous = versionSample("4", {
      invocations: 1080,
      errors: 2,
      throttles: 0,
      p99DurationMs: 40,
    });
    for (const [newVersion, fix] of [
      [
        versionSample("5", { invocations: 118, errors: 29, throttles: 2, p99DurationMs: 42 }),
        undefined,
      ],
      [
        versionSample(
          "5",
          { invocations: 60, errors: 0, throttles: 0, p99DurationMs: 41 },
          { requests: 60, failures: 0 },
        ),
        { alarms: ["hello-prod-errors"], metric: "errors" as const },
      ],
    ] as const) {
      const verdict: VersionVerdict = {
        ...where,
        newVersion,
        previousVersion: previous,
        ...judgeVersions({
          newVersion,
          previousVersion: previous,
          policy: ANALYSIS_DEFAULTS,
          ...(fix ? { fix } : {}),
        }),
      };
      expect(verdictOf(JSON.parse(JSON.stringify(verdict)))).toEqual(verdict);
    }
  });

  it("keeps the optional parts: the bake's baseline, a fix, synthetic requests, an unjudged latency", () => {
    const verdict = testVerdict({
      phase: "bake",
      weight: 100,
      baseline: { from: "2026-11-30T09:00:00.000Z", to: "2026-11-30T09:01:00.000Z" },
      fix: { alarms: ["hello-prod-errors"], metric: "errors", pValue: 0.001, improved: true },
      latency: { judged: false, reason: "version 2 has 40 real requests, fewer than 100" },
    });
    expect(verdictOf(verdict)).toEqual(verdict);
    const latencyFix = { alarms: ["slow"], metric: "latency", improved: false } as const;
    expect(verdictOf(testVerdict({ fix: latencyFix }))?.fix).toEqual(latencyFix);
  });

  it("leaves out unknown fields and parts in a shape it does not know", () => {
    const read = verdictOf({
      ...testVerdict(),
      extra: "<script>",
      errorRate: { test: "mann-whitney", pValue: 0.1 },
      fix: { alarms: [1], metric: "errors", improved: true },
      failure: "SomethingElse",
    });
    expect(read).toBeDefined();
    expect(read).not.toHaveProperty("extra");
    expect(read).not.toHaveProperty("errorRate");
    expect(read).not.toHaveProperty("fix");
    expect(read).not.toHaveProperty("failure");
    expect(read?.newVersion).toEqual(testVerdict().newVersion);
  });

  it("drops a sample's p99 that is not a number, keeping the sample", () => {
    const sample = { ...testVerdict().newVersion, p99Ms: "fast" };
    const read = verdictOf({ ...testVerdict(), newVersion: sample });
    expect(read?.newVersion).not.toHaveProperty("p99Ms");
    expect(read?.newVersion.requests).toBe(130);
  });

  it.each<[string, unknown]>([
    ["nothing", undefined],
    ["an array", [testVerdict()]],
    ["an unknown decision", { ...testVerdict(), decision: "maybe" }],
    ["no summary", { ...testVerdict(), summary: undefined }],
    ["an unknown phase", { ...testVerdict(), phase: "later" }],
    ["a weight that is not a number", { ...testVerdict(), weight: "10" }],
    ["an infinite step index", { ...testVerdict(), stepIndex: Number.POSITIVE_INFINITY }],
    ["no window", { ...testVerdict(), window: { from: "x" } }],
    ["a sample without a version", { ...testVerdict(), newVersion: { requests: 1 } }],
    [
      "a sample with a count that is not a number",
      { ...testVerdict(), previousVersion: { ...testVerdict().previousVersion, failures: null } },
    ],
    ["no latency", { ...testVerdict(), latency: undefined }],
    ["a judged latency without its ratio", { ...testVerdict(), latency: { judged: true } }],
    ["an unjudged latency without a reason", { ...testVerdict(), latency: { judged: false } }],
  ])("is no verdict for %s", (_label, value) => {
    expect(verdictOf(value)).toBeUndefined();
  });

  it("keeps an error-rate test only when every number and the decision are there", () => {
    const { errorRate } = regressedVerdict();
    expect(
      verdictOf({ ...testVerdict(), errorRate: { ...errorRate, regressed: "yes" } }),
    ).not.toHaveProperty("errorRate");
    expect(
      verdictOf({ ...testVerdict(), errorRate: { ...errorRate, alpha: undefined } }),
    ).not.toHaveProperty("errorRate");
    expect(verdictOf({ ...testVerdict(), errorRate })?.errorRate).toEqual(errorRate);
  });
});

describe("analysisPolicyOf", () => {
  const policy = {
    confidence: 0.99,
    maxErrorRateIncrease: 0.5,
    maxLatencyRatio: 1.5,
    minLatencyIncreaseMs: 5,
    minRequests: 50,
    whenInsufficient: "extend",
    maxSyntheticRequests: 10,
  };

  it("reads the plan's resolved policy", () => {
    expect(analysisPolicyOf({ ...policy, other: 1 })).toEqual(policy);
  });

  it.each<[string, unknown]>([
    ["no policy", undefined],
    ["a policy without defaults filled in", { confidence: 0.95 }],
    ["an unknown whenInsufficient", { ...policy, whenInsufficient: "hope" }],
  ])("is undefined for %s", (_label, value) => {
    expect(analysisPolicyOf(value)).toBeUndefined();
  });
});

describe("verdictPlace", () => {
  it.each([
    ["steps", 10, "10% step"],
    ["steps", 50, "50% step"],
    ["halted", 25, "25% step"],
    ["bake", 100, "bake"],
    ["baked", 100, "bake"],
  ] as const)("%s at %i%% is the %s", (phase, weight, place) => {
    expect(verdictPlace({ phase, weight })).toBe(place);
  });
});
