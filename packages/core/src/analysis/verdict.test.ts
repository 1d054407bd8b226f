import { describe, expect, it } from "vitest";
import { ANALYSIS_DEFAULTS, type ResolvedAnalysisPolicy } from "../registry.ts";
import type { VersionSample } from "../state.ts";
import { alphaOf, formatP, judgeVersions, versionSample } from "./verdict.ts";

/** p-values from scipy 1.17.1 `fisher_exact` (see fixtures/fisher-reference.py), relative 1e-9. */
function expectP(actual: number | undefined, expected: number) {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(expected * 1e-9);
}

const sample = (
  version: string,
  invocations: number,
  errors: number,
  extra: { throttles?: number; p99?: number; synthetic?: number; syntheticFailures?: number } = {},
): VersionSample =>
  versionSample(
    version,
    {
      invocations,
      errors,
      throttles: extra.throttles ?? 0,
      ...(extra.p99 !== undefined ? { p99DurationMs: extra.p99 } : {}),
    },
    { requests: extra.synthetic ?? 0, failures: extra.syntheticFailures ?? 0 },
  );

const policy = (overrides: Partial<ResolvedAnalysisPolicy> = {}): ResolvedAnalysisPolicy => ({
  ...ANALYSIS_DEFAULTS,
  ...overrides,
});

describe("versionSample", () => {
  it("counts throttles as requests and as failures; synthetic requests in both counts", () => {
    expect(
      versionSample(
        "5",
        { invocations: 118, errors: 29, throttles: 2, p99DurationMs: 42 },
        { requests: 7, failures: 3 },
      ),
    ).toEqual({
      version: "5",
      requests: 127,
      failures: 34,
      realRequests: 120,
      throttles: 2,
      synthetic: 7,
      syntheticFailures: 3,
      p99Ms: 42,
    });
  });

  it("has no p99 without one, and no synthetic requests unless given", () => {
    expect(versionSample("4", { invocations: 0, errors: 0, throttles: 0 })).toStrictEqual({
      version: "4",
      requests: 0,
      failures: 0,
      realRequests: 0,
      throttles: 0,
      synthetic: 0,
      syntheticFailures: 0,
    });
  });

  it("caps errors at the invocations (a datapoint at the window's edge)", () => {
    const s = versionSample("4", { invocations: 10, errors: 12, throttles: 1 });
    expect([s.requests, s.failures]).toEqual([11, 11]);
  });

  it.each([
    ["invocations", { invocations: -1, errors: 0, throttles: 0 }, "-1"],
    ["errors", { invocations: 5, errors: 1.5, throttles: 0 }, "1.5"],
    ["throttles", { invocations: 5, errors: 0, throttles: Number.NaN }, "NaN"],
  ])("refuses a %s count that is not a whole number >= 0", (field, metrics, shown) => {
    expect(() => versionSample("4", metrics)).toThrow(
      new RangeError(`version 4's ${field} must be a whole number >= 0, got ${shown}`),
    );
  });
});

describe("judgeVersions", () => {
  it("fails a version whose own failure rate rose significantly and by more than the points allowed", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 118, 29, { throttles: 2, p99: 42 }),
      previousVersion: sample("4", 1080, 2, { p99: 40 }),
      policy: policy(),
    });
    expect(judged.decision).toBe("fail");
    expect(judged.failure).toBe("VersionRegressed");
    expect(judged.errorRate).toMatchObject({
      test: "fisher-exact-one-sided",
      alpha: 0.05,
      maxIncreasePoints: 1,
      regressed: true,
    });
    expect(judged.errorRate?.newRate).toBeCloseTo((31 / 120) * 100, 12);
    expect(judged.errorRate?.previousRate).toBeCloseTo((2 / 1080) * 100, 12);
    expect(judged.errorRate?.increasePoints).toBeCloseTo((31 / 120 - 2 / 1080) * 100, 12);
    expectP(judged.errorRate?.pValue, 9.525233637510382e-31);
    expect(judged.latency).toEqual({
      judged: true,
      newP99Ms: 42,
      previousP99Ms: 40,
      ratio: 1.05,
      maxRatio: 1.2,
      minIncreaseMs: 5,
      regressed: false,
    });
    expect(judged.fix).toBeUndefined();
    expect(judged.summary).toBe(
      "version 5 failed 31 of 120 requests (25.8%), version 4 2 of 1080 (0.2%): " +
        "+25.6 points > +1 at 95% (Fisher p = 9.5e-31); p99 42 ms vs 40 ms (1.05x <= 1.2x)",
    );
  });

  it("passes a rise above the points allowed that chance explains (p >= alpha)", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 100, 3, { p99: 40 }),
      previousVersion: sample("4", 100, 0, { p99: 40 }),
      policy: policy(),
    });
    expect(judged.decision).toBe("pass");
    expect(judged.failure).toBeUndefined();
    expect(judged.errorRate?.regressed).toBe(false);
    expectP(judged.errorRate?.pValue, 0.12311557788944724);
    expect(judged.summary).toBe(
      "version 5 failed 3 of 100 requests (3.0%), version 4 0 of 100 (0.0%): " +
        "+3.0 points > +1 but not significant at 95% (Fisher p = 0.12); p99 40 ms vs 40 ms (1.00x <= 1.2x)",
    );
  });

  it("passes a significant rise within the points allowed", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 10_000, 150, { p99: 40 }),
      previousVersion: sample("4", 100_000, 1000, { p99: 40 }),
      policy: policy(),
    });
    expect(judged.decision).toBe("pass");
    expectP(judged.errorRate?.pValue, 5.4879144976534e-6);
    expect(judged.summary).toContain("+0.5 points <= +1 (Fisher p = 5.5e-6)");
  });

  it("fails when both hold, with a stricter policy: +0.4 points at 99% confidence", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 10_000, 150),
      previousVersion: sample("4", 100_000, 1000),
      policy: policy({ confidence: 0.99, maxErrorRateIncrease: 0.4 }),
    });
    expect(judged.decision).toBe("fail");
    expect(judged.errorRate?.alpha).toBe(0.01);
    expect(judged.summary).toContain("+0.5 points > +0.4 at 99% (Fisher p = 5.5e-6)");
  });

  it("a rise exactly at the points allowed passes (the limit is not exceeded)", () => {
    // 2 of 100 against 1 of 100: exactly +1 point, and not significant either.
    const judged = judgeVersions({
      newVersion: sample("5", 100, 2),
      previousVersion: sample("4", 100, 1),
      policy: policy({ confidence: 0.5 }),
    });
    expectP(judged.errorRate?.pValue, 0.5);
    expect(judged.errorRate?.increasePoints).toBe(1);
    expect(judged.errorRate?.regressed).toBe(false);
    expect(judged.summary).toContain(": +1.0 points <= +1 (Fisher p = 0.5);");
  });

  it("is significant only strictly below alpha", () => {
    // 1 of 1 against 0 of 1: p = 0.5 exactly, so at confidence 0.5 (alpha 0.5) +100 points pass.
    const judged = judgeVersions({
      newVersion: sample("5", 1, 1),
      previousVersion: sample("4", 1, 0),
      policy: policy({ confidence: 0.5, minRequests: 1 }),
    });
    expect(judged.errorRate?.pValue).toBe(0.5);
    expect(judged.errorRate?.regressed).toBe(false);
    expect(judged.summary).toContain(
      "+100.0 points > +1 but not significant at 50% (Fisher p = 0.5)",
    );
  });

  it("takes a version without requests as failing none (no division by zero)", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 0, 0),
      previousVersion: sample("4", 0, 0),
      policy: policy({ minRequests: 0 }),
    });
    expect(judged.errorRate).toMatchObject({
      newRate: 0,
      previousRate: 0,
      increasePoints: 0,
      pValue: 1,
    });
    expect(judged.decision).toBe("pass");
  });

  it("writes a fall of the failure rate with a minus sign", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 200, 0),
      previousVersion: sample("4", 1000, 60),
      policy: policy(),
    });
    expect(judged.errorRate?.increasePoints).toBeCloseTo(-6, 12);
    expect(judged.summary).toContain(": -6.0 points <= +1 (Fisher p = 1);");
  });

  it("fails a p99 above the ratio allowed, and passes one exactly at it", () => {
    const slow = judgeVersions({
      newVersion: sample("5", 500, 0, { p99: 52.25 }),
      previousVersion: sample("4", 500, 0, { p99: 40 }),
      policy: policy(),
    });
    expect(slow.decision).toBe("fail");
    expect(slow.failure).toBe("VersionRegressed");
    expect(slow.errorRate?.regressed).toBe(false);
    expect(slow.latency).toEqual({
      judged: true,
      newP99Ms: 52.25,
      previousP99Ms: 40,
      ratio: 1.30625,
      maxRatio: 1.2,
      minIncreaseMs: 5,
      regressed: true,
    });
    expect(slow.summary).toBe(
      "version 5 failed 0 of 500 requests (0.0%), version 4 0 of 500 (0.0%): " +
        "+0.0 points <= +1 (Fisher p = 1); p99 52.3 ms vs 40 ms (1.31x > 1.2x)",
    );
    const atLimit = judgeVersions({
      newVersion: sample("5", 500, 0, { p99: 48 }),
      previousVersion: sample("4", 500, 0, { p99: 40 }),
      policy: policy(),
    });
    expect(atLimit.decision).toBe("pass");
    expect(atLimit.latency).toMatchObject({ judged: true, ratio: 1.2, regressed: false });
  });

  it("never fails a p99 rise within the floor, however large the ratio (timer noise)", () => {
    const noisy = judgeVersions({
      newVersion: sample("5", 500, 0, { p99: 0.4 }),
      previousVersion: sample("4", 500, 0, { p99: 0.1 }),
      policy: policy(),
    });
    expect(noisy.decision).toBe("pass");
    expect(noisy.latency).toMatchObject({ judged: true, ratio: 4, regressed: false });
    expect(noisy.summary).toContain("p99 0.4 ms vs 0.1 ms (4.00x > 1.2x, but within 5 ms)");
    // Just above the floor, and just at it.
    const above = judgeVersions({
      newVersion: sample("5", 500, 0, { p99: 10.5 }),
      previousVersion: sample("4", 500, 0, { p99: 5 }),
      policy: policy(),
    });
    expect(above.decision).toBe("fail");
    const at = judgeVersions({
      newVersion: sample("5", 500, 0, { p99: 10 }),
      previousVersion: sample("4", 500, 0, { p99: 5 }),
      policy: policy(),
    });
    expect(at.decision).toBe("pass");
  });

  it("judges latency on real requests only: synthetic ones made up the sample", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 40, 0, { p99: 400, synthetic: 60 }),
      previousVersion: sample("4", 1000, 0, { p99: 40 }),
      policy: policy(),
    });
    expect(judged.decision).toBe("pass");
    expect(judged.latency).toEqual({
      judged: false,
      reason:
        "fewer than 100 real requests (version 5: 40, version 4: 1000); synthetic requests do not count for latency",
    });
    expect(judged.summary).toBe(
      "version 5 failed 0 of 100 requests (0.0%; 60 synthetic, 0 of them failed), version 4 0 of 1000 (0.0%): " +
        "+0.0 points <= +1 (Fisher p = 1); p99 not judged: fewer than 100 real requests " +
        "(version 5: 40, version 4: 1000); synthetic requests do not count for latency",
    );
  });

  it("counts the real requests of the previous version too, exactly at the minimum", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 100, 0, { p99: 40 }),
      previousVersion: sample("4", 99, 0, { p99: 40, synthetic: 1 }),
      policy: policy(),
    });
    expect(judged.latency.judged).toBe(false);
    const enough = judgeVersions({
      newVersion: sample("5", 100, 0, { p99: 40 }),
      previousVersion: sample("4", 100, 0, { p99: 40 }),
      policy: policy(),
    });
    expect(enough.latency.judged).toBe(true);
  });

  it.each([
    ["the new version", { p99: undefined, prev: 40 }, "no p99 duration for version 5"],
    ["the previous version", { p99: 40, prev: undefined }, "no p99 duration for version 4"],
    ["either", { p99: undefined, prev: undefined }, "no p99 duration for version 5 and 4"],
    ["a 0 ms previous p99", { p99: 40, prev: 0 }, "version 4's p99 is 0 ms: no ratio"],
  ])("does not judge latency without a ratio: %s", (_, p99s, reason) => {
    const judged = judgeVersions({
      newVersion: sample("5", 200, 0, p99s.p99 === undefined ? {} : { p99: p99s.p99 }),
      previousVersion: sample("4", 200, 0, p99s.prev === undefined ? {} : { p99: p99s.prev }),
      policy: policy(),
    });
    expect(judged.latency).toEqual({ judged: false, reason });
    expect(judged.decision).toBe("pass");
  });

  it("marks the bake's comparison as against the previous version before the rollout", () => {
    const judged = judgeVersions({
      newVersion: sample("5", 200, 0),
      previousVersion: sample("4", 200, 0),
      policy: policy(),
      baseline: true,
    });
    expect(judged.summary).toMatch(
      /^version 5 failed 0 of 200 requests \(0\.0%\), version 4 before the rollout 0 of 200/,
    );
  });

  describe("a fix deployed during an incident", () => {
    const errorsFix = { alarms: ["hello-prod-errors"], metric: "errors" as const };
    const latencyFix = {
      alarms: ["hello-prod-latency", "hello-prod-p99"],
      metric: "latency" as const,
    };

    it("passes when the new version fails significantly less often", () => {
      const judged = judgeVersions({
        newVersion: sample("5", 200, 0),
        previousVersion: sample("4", 1000, 60),
        policy: policy(),
        fix: errorsFix,
      });
      expect(judged.decision).toBe("pass");
      expect(judged.fix).toMatchObject({
        alarms: ["hello-prod-errors"],
        metric: "errors",
        improved: true,
      });
      expectP(judged.fix?.pValue, 1.3066222092404256e-5);
      expect(judged.summary).toMatch(
        /; fix for hello-prod-errors: fails less often than version 4 \(Fisher p = 1\.3e-5\)$/,
      );
    });

    it("fails (VersionRegressed) when it is not significantly better, even though it is no worse", () => {
      const judged = judgeVersions({
        newVersion: sample("5", 100, 5),
        previousVersion: sample("4", 100, 6),
        policy: policy(),
        fix: errorsFix,
      });
      expect(judged.errorRate?.regressed).toBe(false);
      expect(judged.decision).toBe("fail");
      expect(judged.failure).toBe("VersionRegressed");
      expect(judged.fix).toMatchObject({ improved: false });
      expectP(judged.fix?.pValue, 0.5000000000000001);
      expect(judged.summary).toMatch(
        /; a fix for hello-prod-errors must beat version 4 on errors: it does not fail significantly less often \(Fisher p = 0\.5\)$/,
      );
    });

    it("is improved only strictly below alpha", () => {
      // p = 0.0297 passes at 95% but not at 97.5%.
      const at = (confidence: number) =>
        judgeVersions({
          newVersion: sample("5", 100, 0),
          previousVersion: sample("4", 100, 5),
          policy: policy({ confidence }),
          fix: errorsFix,
        }).fix;
      expect(at(0.95)?.improved).toBe(true);
      expectP(at(0.95)?.pValue, 0.029691605234293292);
      expect(at(0.975)?.improved).toBe(false);
      // 0 of 3 against 3 of 3: p = 0.05 exactly, not below alpha 0.05.
      const exact = judgeVersions({
        newVersion: sample("5", 3, 0),
        previousVersion: sample("4", 3, 3),
        policy: policy({ minRequests: 3 }),
        fix: errorsFix,
      }).fix;
      expect(exact).toEqual({
        alarms: ["hello-prod-errors"],
        metric: "errors",
        pValue: 0.05,
        improved: false,
      });
    });

    it("for a latency alarm, passes a lower p99 and fails an equal one", () => {
      const judge = (p99: number) =>
        judgeVersions({
          newVersion: sample("5", 300, 0, { p99 }),
          previousVersion: sample("4", 300, 0, { p99: 900 }),
          policy: policy(),
          fix: latencyFix,
        });
      const faster = judge(120);
      expect(faster.decision).toBe("pass");
      expect(faster.fix).toEqual({
        alarms: ["hello-prod-latency", "hello-prod-p99"],
        metric: "latency",
        improved: true,
      });
      expect(faster.summary).toMatch(
        /; fix for hello-prod-latency, hello-prod-p99: p99 below version 4's$/,
      );
      const same = judge(900);
      expect(same.decision).toBe("fail");
      expect(same.fix?.improved).toBe(false);
      expect(same.fix?.pValue).toBeUndefined();
      expect(same.summary).toMatch(
        /; a fix for hello-prod-latency, hello-prod-p99 must beat version 4 on latency: p99 900 ms is not below 900 ms$/,
      );
    });

    it("for a latency alarm, fails when the p99s cannot be compared", () => {
      const judged = judgeVersions({
        newVersion: sample("5", 50, 0, { p99: 10, synthetic: 50 }),
        previousVersion: sample("4", 300, 0, { p99: 900 }),
        policy: policy(),
        fix: latencyFix,
      });
      expect(judged.decision).toBe("fail");
      expect(judged.summary).toMatch(
        /must beat version 4 on latency: its p99 could not be compared$/,
      );
    });
  });
});

describe("formatP and alphaOf", () => {
  it("writes p-values with two significant digits, scientific below 0.001", () => {
    expect(formatP(9.525233637510382e-31)).toBe("9.5e-31");
    expect(formatP(0.0009996)).toBe("1.0e-3");
    expect(formatP(0.001)).toBe("0.001");
    expect(formatP(0.41294)).toBe("0.41");
    expect(formatP(0.5000000000000001)).toBe("0.5");
    expect(formatP(1)).toBe("1");
    expect(formatP(0)).toBe("0");
  });

  it("takes alpha as 1 - confidence without a floating-point tail", () => {
    expect(alphaOf(0.95)).toBe(0.05);
    expect(alphaOf(0.99)).toBe(0.01);
    expect(alphaOf(0.9999)).toBe(0.0001);
  });
});
