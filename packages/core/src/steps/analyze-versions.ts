import {
  type FixRule,
  judgeVersions,
  type SyntheticCount,
  versionSample,
} from "../analysis/verdict.ts";
import { ConfigurationError } from "../errors.ts";
import type { Plan } from "../plan.ts";
import type {
  AlarmReader,
  Clock,
  FunctionControl,
  Log,
  VersionMetrics,
  VersionMetricsReader,
} from "../ports.ts";
import type { CanaryCheck } from "../registry.ts";
import type { DeploymentState, Rollout, VersionSample, VersionVerdict } from "../state.ts";
import { runCanaryCheck } from "./canary.ts";

export interface AnalyzeVersionsDeps {
  readonly versionMetrics: VersionMetricsReader;
  /** Synthetic requests go to each version directly (never through the alias). */
  readonly functions: Pick<FunctionControl, "invoke">;
  /** Read for a fix: its alarms' metric says what the new version must improve. */
  readonly alarms: AlarmReader;
  readonly clock: Clock;
  readonly log?: Log;
}

/** How many synthetic requests are in flight at once against one version. */
export const SYNTHETIC_CONCURRENCY = 10;

/** Where the analysis looks: the new version's window, and for the bake the baseline's. */
export interface AnalysisWindows {
  /** Milliseconds since the epoch, [from, to). */
  readonly from: number;
  readonly to: number;
  /** The bake: the previous version's window, as long, ending when the rollout started. */
  readonly baseline?: { readonly from: number; readonly to: number };
}

/**
 * The windows of the analysis at `now`: the new version from the hold's start (or, in a state
 * written before `holdStartedAt` existed, one hold length before its end) to now. In a traffic
 * step the previous version served the rest of the same window; in the bake it serves nothing,
 * so its numbers come from a window as long that ends when Deploy ran (`startedAt`, else the
 * bake's start).
 *
 * @example
 * ```ts
 * analysisWindows(plan, rollout, Date.now()); // => { from, to } (a step) or { from, to, baseline }
 * ```
 */
export function analysisWindows(
  plan: Pick<Plan, "rollout">,
  rollout: Pick<Rollout, "phase" | "holdStartedAt" | "holdEndsAt" | "startedAt">,
  now: number,
): AnalysisWindows {
  const from = rollout.holdStartedAt
    ? Date.parse(rollout.holdStartedAt)
    : Date.parse(rollout.holdEndsAt) - holdLengthMs(plan, rollout);
  if (rollout.phase !== "bake") return { from, to: now };
  const end = rollout.startedAt ? Date.parse(rollout.startedAt) : from;
  return { from, to: now, baseline: { from: end - (now - from), to: end } };
}

/**
 * One hold's length in milliseconds: the bake's or a traffic step's (already time-scaled).
 *
 * @example
 * ```ts
 * holdLengthMs(plan, { phase: "bake" }); // => plan.rollout.bakeSeconds * 1000
 * ```
 */
export function holdLengthMs(plan: Pick<Plan, "rollout">, rollout: Pick<Rollout, "phase">): number {
  const seconds =
    rollout.phase === "bake" ? plan.rollout.bakeSeconds : plan.rollout.stepWaitSeconds;
  return seconds * 1000;
}

/**
 * `rollout.extendedHold` for the current hold: one extension per traffic step and per bake.
 *
 * @example
 * ```ts
 * extendedHoldKey({ phase: "steps", stepIndex: 0 }); // => "steps:0"
 * ```
 */
export function extendedHoldKey(rollout: Pick<Rollout, "phase" | "stepIndex">): string {
  return `${rollout.phase}:${rollout.stepIndex}`;
}

/**
 * When an extended hold ends: one hold length after its planned end (or after now, if the check
 * came later than that, as after a hold Task's timeout).
 *
 * @example
 * ```ts
 * extendedHoldEnd(plan, rollout, now); // holdEndsAt + stepWaitSeconds, in ms
 * ```
 */
export function extendedHoldEnd(
  plan: Pick<Plan, "rollout">,
  rollout: Pick<Rollout, "phase" | "holdEndsAt">,
  now: number,
): number {
  return Math.max(now, Date.parse(rollout.holdEndsAt)) + holdLengthMs(plan, rollout);
}

/**
 * The version analysis at the end of a hold (docs/operations.md, "Version analysis"): the new
 * version's own metrics (Lambda's `ExecutedVersion` series) against the previous version's over
 * the same window (the bake: before the rollout). With too few requests for a verdict it does
 * what `whenInsufficient` says: `synthesize` sends the canary spec's events straight to each short
 * version (at most `maxSyntheticRequests` each, or none and `insufficient`), `extend` asks for the
 * hold once more (once per hold, then `insufficient`), `fail` is `insufficient` at once. A
 * redeploy of the live version has nothing to compare: `skipped`.
 *
 * It reads and invokes but changes nothing: CheckAlarms acts on the decision.
 *
 * @example
 * ```ts
 * const verdict = await analyzeVersions({ plan, rollout }, { versionMetrics, functions, alarms, clock });
 * if (verdict.decision === "fail") console.log(verdict.summary); // "version 5 failed 31 of 120 …"
 * ```
 */
export async function analyzeVersions(
  state: Pick<DeploymentState, "plan" | "rollout">,
  deps: AnalyzeVersionsDeps,
): Promise<VersionVerdict> {
  const { plan, rollout } = state;
  if (!rollout) throw new TypeError("analyzeVersions needs $.rollout (Deploy runs first)");
  const policy = plan.analysis;
  if (!policy) throw new TypeError("analyzeVersions needs plan.analysis (the stage's registry)");
  if (rollout.phase !== "steps" && rollout.phase !== "bake") {
    throw new TypeError(`analyzeVersions judges a traffic step or the bake, not ${rollout.phase}`);
  }
  const now = deps.clock.now();
  const windows = analysisWindows(plan, rollout, now);
  const iso = (ms: number) => new Date(ms).toISOString();
  const where = {
    at: iso(now),
    phase: rollout.phase,
    stepIndex: rollout.stepIndex,
    weight: rollout.weight,
    window: { from: iso(windows.from), to: iso(windows.to) },
    ...(windows.baseline
      ? { baseline: { from: iso(windows.baseline.from), to: iso(windows.baseline.to) } }
      : {}),
  };
  if (rollout.newVersion === rollout.previousVersion) {
    const empty = versionSample(rollout.newVersion, { invocations: 0, errors: 0, throttles: 0 });
    return {
      ...where,
      newVersion: empty,
      previousVersion: empty,
      latency: { judged: false, reason: "nothing to compare" },
      decision: "skipped",
      summary: `version ${rollout.newVersion} is the version already live: nothing to compare`,
    };
  }

  const { functionName, alias } = plan.target;
  const read = (version: string, window: { from: number; to: number }) =>
    deps.versionMetrics.read({ functionName, alias, version, from: window.from, to: window.to });
  const metrics = await Promise.all([
    read(rollout.newVersion, windows),
    read(rollout.previousVersion, windows.baseline ?? windows),
  ]);
  const versions = [rollout.newVersion, rollout.previousVersion] as const;
  let samples = [versionSample(versions[0], metrics[0]), versionSample(versions[1], metrics[1])];
  const shortfall = samples.map((s) => Math.max(0, policy.minRequests - s.realRequests));

  if (shortfall.some((n) => n > 0)) {
    const short = describeShort(samples, policy.minRequests);
    const insufficient = (why: string): VersionVerdict => ({
      ...where,
      newVersion: samples[0] as VersionSample,
      previousVersion: samples[1] as VersionSample,
      latency: { judged: false, reason: "too few requests for a verdict" },
      decision: "insufficient",
      failure: "InsufficientData",
      summary: `${short}; ${why}`,
    });
    if (policy.whenInsufficient === "fail") {
      return insufficient("the registry says to fail (whenInsufficient: fail)");
    }
    if (policy.whenInsufficient === "extend") {
      if (rollout.extendedHold === extendedHoldKey(rollout)) {
        return insufficient("the hold was already extended once for more data");
      }
      const until = iso(extendedHoldEnd(plan, rollout, now));
      return {
        ...where,
        newVersion: samples[0] as VersionSample,
        previousVersion: samples[1] as VersionSample,
        latency: { judged: false, reason: "too few requests for a verdict" },
        decision: "extend",
        summary: `${short}; holding once more, until ${until}`,
      };
    }
    const tooMany = shortfall.some((n) => n > policy.maxSyntheticRequests);
    if (tooMany) {
      const largest = Math.max(...shortfall);
      return insufficient(
        `making up ${largest} requests would take more than maxSyntheticRequests (${policy.maxSyntheticRequests}): none sent`,
      );
    }
    const sent = await Promise.all(
      versions.map((version, i) =>
        sendSynthetic(deps, functionName, version, plan.canary.checks, shortfall[i] ?? 0),
      ),
    );
    samples = versions.map((version, i) =>
      versionSample(version, metrics[i] as VersionMetrics, sent[i]),
    );
  }

  const fix = plan.fixFor?.length ? await fixRuleOf(deps.alarms, plan.fixFor) : undefined;
  const judged = judgeVersions({
    newVersion: samples[0] as VersionSample,
    previousVersion: samples[1] as VersionSample,
    policy,
    ...(fix ? { fix } : {}),
    baseline: windows.baseline !== undefined,
  });
  deps.log?.info("version analysis", {
    decision: judged.decision,
    stepIndex: rollout.stepIndex,
    summary: judged.summary,
  });
  return {
    ...where,
    newVersion: samples[0] as VersionSample,
    previousVersion: samples[1] as VersionSample,
    ...judged,
  };
}

/** "too few requests for a verdict: version 2 served 12 of the 100 needed, version 1 1080". */
function describeShort(samples: readonly VersionSample[], min: number): string {
  const [n, p] = samples as [VersionSample, VersionSample];
  return (
    `too few requests for a verdict: version ${n.version} served ${n.realRequests}, ` +
    `version ${p.version} ${p.realRequests}, of the ${min} each needs`
  );
}

/**
 * Sends `count` synthetic requests to one version, cycling through the canary spec's checks, a
 * few at a time. A request fails when the function errors, cannot be invoked, or its check's
 * expectation is not met (what the Canary step would say).
 */
async function sendSynthetic(
  deps: AnalyzeVersionsDeps,
  functionName: string,
  version: string,
  checks: readonly CanaryCheck[],
  count: number,
): Promise<SyntheticCount> {
  let sent = 0;
  let failures = 0;
  while (sent < count) {
    const first = sent;
    const batch = Array.from(
      { length: Math.min(SYNTHETIC_CONCURRENCY, count - first) },
      (_, i) => checks[(first + i) % checks.length] as CanaryCheck,
    );
    const results = await Promise.all(
      batch.map((check) => runCanaryCheck(deps.functions, functionName, version, check)),
    );
    failures += results.filter((r) => !r.passed).length;
    sent += batch.length;
  }
  if (count > 0) {
    deps.log?.info("synthetic requests sent", { version, requests: count, failures });
  }
  return { requests: count, failures };
}

/**
 * A fix's rule: latency when any of its alarms watches Duration, else errors. An alarm CloudWatch
 * does not know is a {@link ConfigurationError}, as it is for the watched alarms.
 */
async function fixRuleOf(alarms: AlarmReader, fixFor: readonly string[]): Promise<FixRule> {
  const statuses = await alarms.describe(fixFor);
  const missing = fixFor.filter((name) => !statuses.some((s) => s.name === name));
  if (missing.length > 0) throw new ConfigurationError(`alarms not found: ${missing.join(", ")}`);
  const latency = statuses.some((s) => s.metricName === "Duration");
  return { alarms: fixFor, metric: latency ? "latency" : "errors" };
}
