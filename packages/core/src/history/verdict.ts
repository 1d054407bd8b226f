import type { ResolvedAnalysisPolicy, WhenInsufficient } from "../registry.ts";
import type {
  ErrorRateTest,
  FixTest,
  LatencyTest,
  RolloutPhase,
  VersionSample,
  VersionVerdict,
} from "../state.ts";

/**
 * Reading a version verdict (`$.rollout.analysis`, CheckAlarms' output) back out of a document
 * Gantry did not just write: an execution's history, a deployment record in a bucket. Only the
 * known fields of the known types are kept, so what a reader shows is what the verdict says, and
 * a document in another shape reads as no verdict rather than as a wrong one.
 */

const DECISIONS: ReadonlySet<string> = new Set<VersionVerdict["decision"]>([
  "pass",
  "fail",
  "insufficient",
  "extend",
  "skipped",
]);
const FAILURES: ReadonlySet<string> = new Set<NonNullable<VersionVerdict["failure"]>>([
  "VersionRegressed",
  "InsufficientData",
]);
const PHASES: ReadonlySet<string> = new Set<RolloutPhase>([
  "steps",
  "promote",
  "bake",
  "baked",
  "halted",
]);
const WHEN_INSUFFICIENT: ReadonlySet<string> = new Set<WhenInsufficient>([
  "synthesize",
  "extend",
  "fail",
]);

type Fields = Record<string, unknown>;

function fields(value: unknown): Fields | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function bool(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

/** Every named field a finite number, or undefined. */
function numbers<K extends string>(
  from: Fields,
  names: readonly K[],
): Record<K, number> | undefined {
  const picked = {} as Record<K, number>;
  for (const name of names) {
    const value = num(from[name]);
    if (value === undefined) return undefined;
    picked[name] = value;
  }
  return picked;
}

function windowOf(value: unknown): { from: string; to: string } | undefined {
  const w = fields(value);
  const from = str(w?.from);
  const to = str(w?.to);
  return from !== undefined && to !== undefined ? { from, to } : undefined;
}

function sampleOf(value: unknown): VersionSample | undefined {
  const s = fields(value);
  const version = str(s?.version);
  if (!s || version === undefined) return undefined;
  const counts = numbers(s, [
    "requests",
    "failures",
    "realRequests",
    "throttles",
    "synthetic",
    "syntheticFailures",
  ] as const);
  if (!counts) return undefined;
  const p99Ms = num(s.p99Ms);
  return { version, ...counts, ...(p99Ms !== undefined ? { p99Ms } : {}) };
}

function errorRateOf(value: unknown): ErrorRateTest | undefined {
  const e = fields(value);
  if (e?.test !== "fisher-exact-one-sided") return undefined;
  const values = numbers(e, [
    "newRate",
    "previousRate",
    "increasePoints",
    "pValue",
    "alpha",
    "maxIncreasePoints",
  ] as const);
  const regressed = bool(e.regressed);
  if (!values || regressed === undefined) return undefined;
  return { test: "fisher-exact-one-sided", ...values, regressed };
}

function latencyOf(value: unknown): LatencyTest | undefined {
  const l = fields(value);
  if (l?.judged === false) {
    const reason = str(l.reason);
    return reason !== undefined ? { judged: false, reason } : undefined;
  }
  if (l?.judged !== true) return undefined;
  const values = numbers(l, [
    "newP99Ms",
    "previousP99Ms",
    "ratio",
    "maxRatio",
    "minIncreaseMs",
  ] as const);
  const regressed = bool(l.regressed);
  if (!values || regressed === undefined) return undefined;
  return { judged: true, ...values, regressed };
}

function fixOf(value: unknown): FixTest | undefined {
  const f = fields(value);
  const improved = bool(f?.improved);
  const metric = f?.metric;
  if (!f || improved === undefined || (metric !== "errors" && metric !== "latency")) {
    return undefined;
  }
  if (!Array.isArray(f.alarms) || !f.alarms.every((a) => typeof a === "string")) return undefined;
  const pValue = num(f.pValue);
  return {
    alarms: f.alarms as string[],
    metric,
    ...(pValue !== undefined ? { pValue } : {}),
    improved,
  };
}

/**
 * The version verdict in `value` (`$.rollout.analysis` of a state's output, `analysis` of a
 * deployment record), known fields only; undefined when it is not one. A part present in a shape
 * this Gantry does not know (a newer test, say) is left out rather than guessed at.
 *
 * @example
 * ```ts
 * const verdict = verdictOf(JSON.parse(output).rollout?.analysis);
 * verdict?.decision; // "pass", "fail", "insufficient", "extend" or "skipped"
 * verdictOf({ decision: "maybe" }); // undefined
 * ```
 */
export function verdictOf(value: unknown): VersionVerdict | undefined {
  const v = fields(value);
  if (!v) return undefined;
  const decision = str(v.decision);
  const summary = str(v.summary);
  const at = str(v.at);
  const phase = str(v.phase);
  const stepIndex = num(v.stepIndex);
  const weight = num(v.weight);
  const window = windowOf(v.window);
  const newVersion = sampleOf(v.newVersion);
  const previousVersion = sampleOf(v.previousVersion);
  const latency = latencyOf(v.latency);
  if (
    decision === undefined ||
    !DECISIONS.has(decision) ||
    summary === undefined ||
    at === undefined ||
    phase === undefined ||
    !PHASES.has(phase) ||
    stepIndex === undefined ||
    weight === undefined ||
    !window ||
    !newVersion ||
    !previousVersion ||
    !latency
  ) {
    return undefined;
  }
  const baseline = windowOf(v.baseline);
  const errorRate = errorRateOf(v.errorRate);
  const fix = fixOf(v.fix);
  const failure = str(v.failure);
  return {
    at,
    phase: phase as RolloutPhase,
    stepIndex,
    weight,
    window,
    ...(baseline ? { baseline } : {}),
    newVersion,
    previousVersion,
    ...(errorRate ? { errorRate } : {}),
    latency,
    ...(fix ? { fix } : {}),
    decision: decision as VersionVerdict["decision"],
    ...(failure !== undefined && FAILURES.has(failure)
      ? { failure: failure as NonNullable<VersionVerdict["failure"]> }
      : {}),
    summary,
  };
}

/**
 * The version analysis policy in `value` (`$.plan.analysis`, defaults filled in), known fields
 * only; undefined when it is not one (the stage has no version analysis).
 *
 * @example
 * ```ts
 * analysisPolicyOf(plan.analysis)?.confidence; // 0.95
 * analysisPolicyOf(undefined); // undefined
 * ```
 */
export function analysisPolicyOf(value: unknown): ResolvedAnalysisPolicy | undefined {
  const p = fields(value);
  if (!p) return undefined;
  const values = numbers(p, [
    "confidence",
    "maxErrorRateIncrease",
    "maxLatencyRatio",
    "minLatencyIncreaseMs",
    "minRequests",
    "maxSyntheticRequests",
  ] as const);
  const whenInsufficient = str(p.whenInsufficient);
  if (!values || whenInsufficient === undefined || !WHEN_INSUFFICIENT.has(whenInsufficient)) {
    return undefined;
  }
  return { ...values, whenInsufficient: whenInsufficient as WhenInsufficient };
}

/**
 * Where in the rollout a verdict was given, in words: `10% step` or `bake`.
 *
 * @example
 * ```ts
 * verdictPlace({ phase: "steps", weight: 10 }); // "10% step"
 * verdictPlace({ phase: "bake", weight: 100 }); // "bake"
 * ```
 */
export function verdictPlace(verdict: Pick<VersionVerdict, "phase" | "weight">): string {
  return verdict.phase === "bake" || verdict.phase === "baked" ? "bake" : `${verdict.weight}% step`;
}
