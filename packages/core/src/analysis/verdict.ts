/**
 * The version analysis's judgement, pure: two versions' samples and the registry's policy in, the
 * tests, the decision and a one-line summary out. No I/O: steps/analyze-versions.ts reads the
 * metrics, sends synthetic requests and calls this.
 */
import type { VersionMetrics } from "../ports.ts";
import type { ResolvedAnalysisPolicy } from "../registry.ts";
import type {
  ErrorRateTest,
  FixTest,
  LatencyTest,
  VersionSample,
  VersionVerdict,
} from "../state.ts";
import { fisherExactGreater, fisherExactLess } from "./statistics.ts";

/** Synthetic requests sent to a version at the end of a hold, and how many of them failed. */
export interface SyntheticCount {
  readonly requests: number;
  readonly failures: number;
}

/** What a fix deployed during an incident must improve, and for which alarms. */
export interface FixRule {
  readonly alarms: readonly string[];
  readonly metric: FixTest["metric"];
}

/**
 * One version's sample from its metrics: real requests are invocations plus throttles (a
 * throttled request was refused: it failed its caller), failures are errors plus throttles.
 * Synthetic requests add to both counts but never to the latency, which is real traffic's p99.
 * Errors above invocations (a datapoint at the window's edge) are capped at the invocations.
 *
 * @throws RangeError naming the field when a count is negative or not a whole number.
 * @example
 * ```ts
 * versionSample("5", { invocations: 118, errors: 29, throttles: 2, p99DurationMs: 42 });
 * // => { version: "5", requests: 120, failures: 31, realRequests: 120, throttles: 2, ... }
 * ```
 */
export function versionSample(
  version: string,
  metrics: VersionMetrics,
  synthetic: SyntheticCount = { requests: 0, failures: 0 },
): VersionSample {
  for (const field of ["invocations", "errors", "throttles"] as const) {
    const value = metrics[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `version ${version}'s ${field} must be a whole number >= 0, got ${value}`,
      );
    }
  }
  const realRequests = metrics.invocations + metrics.throttles;
  const errors = Math.min(metrics.errors, metrics.invocations);
  return {
    version,
    requests: realRequests + synthetic.requests,
    failures: errors + metrics.throttles + synthetic.failures,
    realRequests,
    throttles: metrics.throttles,
    synthetic: synthetic.requests,
    syntheticFailures: synthetic.failures,
    ...(metrics.p99DurationMs !== undefined ? { p99Ms: metrics.p99DurationMs } : {}),
  };
}

/** What {@link judgeVersions} decides: everything of a verdict but where and when. */
export type Judgement = Pick<
  VersionVerdict,
  "errorRate" | "latency" | "fix" | "decision" | "failure" | "summary"
>;

/**
 * Judges the new version against the previous one, both with at least `minRequests` requests:
 * - error rate: regressed when the one-sided Fisher exact test says the new version fails more
 *   often (p < 1 - confidence) AND by more than `maxErrorRateIncrease` points;
 * - latency: regressed when p99 new / previous > `maxLatencyRatio` (judged on real traffic only,
 *   each version with `minRequests` real requests, and a previous p99 above 0);
 * - a fix (`fix` given) must also be better on its metric: errors, a significantly lower failure
 *   rate (Fisher, "less"); latency, a judged and lower p99.
 * Any of these failing is decision `fail` (VersionRegressed); otherwise `pass`.
 *
 * @example
 * ```ts
 * const judged = judgeVersions({ newVersion, previousVersion, policy: ANALYSIS_DEFAULTS });
 * judged.decision; // "fail" when version 5 failed 31 of 120 against 2 of 1080
 * ```
 */
export function judgeVersions(input: {
  readonly newVersion: VersionSample;
  readonly previousVersion: VersionSample;
  readonly policy: ResolvedAnalysisPolicy;
  readonly fix?: FixRule;
  /** The previous version's numbers are from before the rollout (the bake). */
  readonly baseline?: boolean;
}): Judgement {
  const { newVersion: n, previousVersion: p, policy } = input;
  const errorRate = errorRateTest(n, p, policy);
  const latency = latencyTest(n, p, policy);
  const fix = input.fix && fixTest(n, p, errorRate.alpha, latency, input.fix);
  const regressed =
    errorRate.regressed || (latency.judged && latency.regressed) || fix?.improved === false;
  const parts = [describeErrorRate(errorRate, policy), describeLatency(latency)];
  if (fix) parts.push(describeFix(fix, p.version, latency));
  const summary = `${describeSamples(n, p, input.baseline === true)}: ${parts.join("; ")}`;
  return {
    errorRate,
    latency,
    ...(fix ? { fix } : {}),
    decision: regressed ? "fail" : "pass",
    ...(regressed ? { failure: "VersionRegressed" as const } : {}),
    summary,
  };
}

/**
 * 1 - confidence, without the floating-point tail (1 - 0.95 is 0.050000000000000044).
 *
 * @example
 * ```ts
 * alphaOf(0.95); // => 0.05
 * ```
 */
export function alphaOf(confidence: number): number {
  return Math.round((1 - confidence) * 1e12) / 1e12;
}

function errorRateTest(
  n: VersionSample,
  p: VersionSample,
  policy: ResolvedAnalysisPolicy,
): ErrorRateTest {
  const newRate = ratePercent(n);
  const previousRate = ratePercent(p);
  const increasePoints = newRate - previousRate;
  const alpha = alphaOf(policy.confidence);
  const pValue = fisherExactGreater(tableOf(n, p));
  return {
    test: "fisher-exact-one-sided",
    newRate,
    previousRate,
    increasePoints,
    pValue,
    alpha,
    maxIncreasePoints: policy.maxErrorRateIncrease,
    regressed: pValue < alpha && increasePoints > policy.maxErrorRateIncrease,
  };
}

function latencyTest(
  n: VersionSample,
  p: VersionSample,
  policy: ResolvedAnalysisPolicy,
): LatencyTest {
  const min = policy.minRequests;
  if (n.realRequests < min || p.realRequests < min) {
    return {
      judged: false,
      reason: `fewer than ${min} real requests (version ${n.version}: ${n.realRequests}, version ${p.version}: ${p.realRequests}); synthetic requests do not count for latency`,
    };
  }
  const missing = [n, p].filter((s) => s.p99Ms === undefined).map((s) => s.version);
  if (n.p99Ms === undefined || p.p99Ms === undefined) {
    return { judged: false, reason: `no p99 duration for version ${missing.join(" and ")}` };
  }
  if (!(p.p99Ms > 0)) {
    return { judged: false, reason: `version ${p.version}'s p99 is 0 ms: no ratio` };
  }
  const ratio = n.p99Ms / p.p99Ms;
  return {
    judged: true,
    newP99Ms: n.p99Ms,
    previousP99Ms: p.p99Ms,
    ratio,
    maxRatio: policy.maxLatencyRatio,
    minIncreaseMs: policy.minLatencyIncreaseMs,
    // A ratio of sub-millisecond p99s is timer and scheduling noise: a rise smaller than the
    // floor is never a regression, however large the ratio.
    regressed: ratio > policy.maxLatencyRatio && n.p99Ms - p.p99Ms > policy.minLatencyIncreaseMs,
  };
}

function fixTest(
  n: VersionSample,
  p: VersionSample,
  alpha: number,
  latency: LatencyTest,
  rule: FixRule,
): FixTest {
  if (rule.metric === "latency") {
    return {
      alarms: rule.alarms,
      metric: "latency",
      improved: latency.judged && latency.newP99Ms < latency.previousP99Ms,
    };
  }
  const pValue = fisherExactLess(tableOf(n, p));
  return { alarms: rule.alarms, metric: rule.metric, pValue, improved: pValue < alpha };
}

const tableOf = (n: VersionSample, p: VersionSample) => ({
  newFailures: n.failures,
  newRequests: n.requests,
  oldFailures: p.failures,
  oldRequests: p.requests,
});

const ratePercent = (s: VersionSample) => (s.requests === 0 ? 0 : (s.failures / s.requests) * 100);

/**
 * "version 5 failed 31 of 120 requests (25.8%), version 4 2 of 1080 (0.2%)", with the
 * synthetic share of each sample when there is one.
 */
function describeSamples(n: VersionSample, p: VersionSample, baseline: boolean): string {
  const synthetic = (s: VersionSample) =>
    s.synthetic > 0 ? `; ${s.synthetic} synthetic, ${s.syntheticFailures} of them failed` : "";
  const rate = (s: VersionSample) => `${ratePercent(s).toFixed(1)}%${synthetic(s)}`;
  const before = baseline ? " before the rollout" : "";
  return (
    `version ${n.version} failed ${n.failures} of ${n.requests} requests (${rate(n)}), ` +
    `version ${p.version}${before} ${p.failures} of ${p.requests} (${rate(p)})`
  );
}

function describeErrorRate(test: ErrorRateTest, policy: ResolvedAnalysisPolicy): string {
  const rounded = Number(test.increasePoints.toFixed(1));
  const points = `${rounded < 0 ? "-" : "+"}${Math.abs(rounded).toFixed(1)} points`;
  const limit = `+${test.maxIncreasePoints}`;
  const at = `at ${Number((policy.confidence * 100).toFixed(2))}%`;
  const fisher = `(Fisher p = ${formatP(test.pValue)})`;
  if (test.regressed) return `${points} > ${limit} ${at} ${fisher}`;
  if (test.increasePoints > test.maxIncreasePoints)
    return `${points} > ${limit} but not significant ${at} ${fisher}`;
  return `${points} <= ${limit} ${fisher}`;
}

function describeLatency(test: LatencyTest): string {
  if (!test.judged) return `p99 not judged: ${test.reason}`;
  const shown = `p99 ${formatMs(test.newP99Ms)} ms vs ${formatMs(test.previousP99Ms)} ms`;
  const ratio = `${test.ratio.toFixed(2)}x`;
  if (test.regressed) return `${shown} (${ratio} > ${test.maxRatio}x)`;
  if (test.ratio > test.maxRatio)
    return `${shown} (${ratio} > ${test.maxRatio}x, but within ${test.minIncreaseMs} ms)`;
  return `${shown} (${ratio} <= ${test.maxRatio}x)`;
}

function describeFix(test: FixTest, previous: string, latency: LatencyTest): string {
  const alarms = test.alarms.join(", ");
  if (test.metric === "errors") {
    const fisher = `Fisher p = ${formatP(test.pValue ?? 1)}`;
    return test.improved
      ? `fix for ${alarms}: fails less often than version ${previous} (${fisher})`
      : `a fix for ${alarms} must beat version ${previous} on errors: it does not fail significantly less often (${fisher})`;
  }
  if (test.improved) return `fix for ${alarms}: p99 below version ${previous}'s`;
  const why = latency.judged
    ? `p99 ${formatMs(latency.newP99Ms)} ms is not below ${formatMs(latency.previousP99Ms)} ms`
    : "its p99 could not be compared";
  return `a fix for ${alarms} must beat version ${previous} on latency: ${why}`;
}

/**
 * A p-value for people: two significant digits, scientific below 0.001.
 *
 * @example
 * ```ts
 * formatP(3.14e-25); // => "3.1e-25"
 * formatP(0.4129); // => "0.41"
 * formatP(1); // => "1"
 * ```
 */
export function formatP(p: number): string {
  if (p === 0) return "0";
  if (p < 0.001) return p.toExponential(1);
  return String(Number(p.toPrecision(2)));
}

function formatMs(ms: number): string {
  return String(Number(ms.toFixed(1)));
}
