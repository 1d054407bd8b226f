import type {
  AlarmReader,
  AlarmStateChangeEvent,
  AlarmStateValue,
  AlarmStatus,
} from "@gantry/core";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "../engine/definition.ts";
import type { LocalMetrics, Statistic } from "./metrics.ts";

/** How an alarm reads its metric. */
export type AlarmMetric =
  /** Errors / Invocations of a function (or `function:alias` resource), in percent. */
  | {
      readonly kind: "error-rate";
      readonly functionName: string;
      readonly resource: string;
      readonly minInvocations: number;
    }
  | {
      readonly kind: "metric";
      readonly namespace: string;
      readonly name: string;
      readonly dimensions: Readonly<Record<string, string>>;
      readonly statistic: Statistic;
    };

export interface AlarmSpec {
  readonly name: string;
  readonly description: string;
  readonly metric: AlarmMetric;
  readonly periodMs: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold";
  /** A period without data: not breaching (stays OK) or missing (INSUFFICIENT_DATA if all are). */
  readonly treatMissingData: "notBreaching" | "missing";
}

export interface AlarmChange {
  readonly name: string;
  readonly from: AlarmStateValue;
  readonly to: AlarmStateValue;
  readonly reason: string;
  readonly at: number;
}

/**
 * CloudWatch alarms, locally, evaluated from the datapoints real invocations produce: the last
 * `evaluationPeriods` periods are computed, and the alarm is in ALARM when at least
 * `datapointsToAlarm` of them breach. Evaluation runs on a timer (a fraction of the shortest
 * period), so an alarm changes state within that fraction of a period of the data changing.
 *
 * @example
 * ```ts
 * const alarms = new LocalAlarms(metrics, [errorRateAlarm("hello-prod-errors", "hello-prod", "live", 3000)]);
 * alarms.start();
 * (await alarms.describe(["hello-prod-errors"]))[0]?.state; // "INSUFFICIENT_DATA" until traffic flows
 * ```
 */
export class LocalAlarms implements AlarmReader {
  readonly #metrics: LocalMetrics;
  readonly #specs = new Map<string, AlarmSpec>();
  readonly #states = new Map<string, AlarmStatus>();
  readonly #listeners = new Set<(change: AlarmChange) => void>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    metrics: LocalMetrics,
    specs: readonly AlarmSpec[],
    options: { now?: () => number } = {},
  ) {
    this.#metrics = metrics;
    this.#now = options.now ?? Date.now;
    for (const spec of specs) this.define(spec);
  }

  define(spec: AlarmSpec): void {
    this.#specs.set(spec.name, spec);
    if (!this.#states.has(spec.name)) {
      this.#states.set(spec.name, {
        name: spec.name,
        state: "INSUFFICIENT_DATA",
        reason: "Unchecked: initial alarm creation",
        updatedAt: new Date(this.#now()).toISOString(),
      });
    }
  }

  start(): void {
    if (this.#timer) return;
    const shortest = Math.min(...[...this.#specs.values()].map((s) => s.periodMs), 60_000);
    this.#timer = setInterval(() => this.evaluate(), Math.max(50, Math.round(shortest / 10)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  onChange(listener: (change: AlarmChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Evaluates every alarm now. */
  evaluate(): void {
    const now = this.#now();
    for (const spec of this.#specs.values()) {
      const values: (number | undefined)[] = [];
      // Periods end just after now: a datapoint put in this very millisecond counts.
      const end = now + 1;
      for (let i = spec.evaluationPeriods; i >= 1; i--) {
        values.push(this.#value(spec, end - i * spec.periodMs, end - (i - 1) * spec.periodMs));
      }
      const present = values.filter((v): v is number => v !== undefined);
      const breaching = present.filter((v) => breaches(spec, v));
      let state: AlarmStateValue;
      if (breaching.length >= spec.datapointsToAlarm) state = "ALARM";
      else if (present.length === 0 && spec.treatMissingData === "missing")
        state = "INSUFFICIENT_DATA";
      else state = "OK";
      const shown = values.map((v) => (v === undefined ? "-" : round(v))).join(", ");
      const comparison = spec.comparison === "GreaterThanThreshold" ? ">" : ">=";
      const reason =
        state === "ALARM"
          ? `Threshold Crossed: ${breaching.length} of the last ${spec.evaluationPeriods} datapoints [${shown}] were ${comparison} ${spec.threshold}`
          : state === "OK"
            ? `Threshold Crossed: datapoints [${shown}] were not ${comparison} ${spec.threshold}`
            : "Insufficient Data: no datapoints in the evaluation periods";
      this.#set(spec.name, state, reason, now);
    }
  }

  /** Forces a state, like CloudWatch's SetAlarmState (until the next evaluation). */
  setState(name: string, state: AlarmStateValue, reason: string): void {
    if (!this.#specs.has(name)) throw new Error(`no alarm named ${name}`);
    this.#set(name, state, reason, this.#now());
  }

  /** The named alarms' states (unknown names left out), each with the metric it watches. */
  async describe(names: readonly string[]): Promise<AlarmStatus[]> {
    return names.flatMap((name) => {
      const status = this.#states.get(name);
      const spec = this.#specs.get(name);
      return status && spec ? [{ ...status, metricName: metricNameOf(spec) }] : [];
    });
  }

  list(): (AlarmStatus & { description: string })[] {
    return [...this.#specs.values()].map((spec) => ({
      ...(this.#states.get(spec.name) as AlarmStatus),
      description: spec.description,
    }));
  }

  #value(spec: AlarmSpec, from: number, to: number): number | undefined {
    const m = spec.metric;
    if (m.kind === "metric")
      return this.#metrics.statistic(m.namespace, m.name, m.dimensions, from, to, m.statistic);
    const dims = { FunctionName: m.functionName, Resource: m.resource };
    const invocations =
      this.#metrics.statistic("AWS/Lambda", "Invocations", dims, from, to, "Sum") ?? 0;
    if (invocations < m.minInvocations) return undefined;
    const errors = this.#metrics.statistic("AWS/Lambda", "Errors", dims, from, to, "Sum") ?? 0;
    return (errors / invocations) * 100;
  }

  #set(name: string, state: AlarmStateValue, reason: string, at: number): void {
    const previous = this.#states.get(name);
    if (previous?.state === state) return;
    this.#states.set(name, { name, state, reason, updatedAt: new Date(at).toISOString() });
    const change: AlarmChange = {
      name,
      from: previous?.state ?? "INSUFFICIENT_DATA",
      to: state,
      reason,
      at,
    };
    for (const listener of this.#listeners) listener(change);
  }
}

/**
 * The metric an alarm watches, as CloudWatch's MetricName says it: an error-rate alarm is judged
 * on Errors (what a fix deployed for it must lower), any other on its own metric.
 */
function metricNameOf(spec: AlarmSpec): string {
  return spec.metric.kind === "error-rate" ? "Errors" : spec.metric.name;
}

function breaches(spec: AlarmSpec, value: number): boolean {
  return spec.comparison === "GreaterThanThreshold"
    ? value > spec.threshold
    : value >= spec.threshold;
}

function round(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/**
 * The alarm a service's `*-errors` alarm stands for locally: the error rate of its alias at or
 * above 5% in one period, counted only once the period has at least 5 invocations.
 */
export function errorRateAlarm(
  name: string,
  functionName: string,
  alias: string,
  periodMs: number,
): AlarmSpec {
  return {
    name,
    description: `error rate of ${functionName}:${alias} ≥ 5% over ${Math.round(periodMs) / 1000} s`,
    metric: {
      kind: "error-rate",
      functionName,
      resource: `${functionName}:${alias}`,
      minInvocations: 5,
    },
    periodMs,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 5,
    comparison: "GreaterThanOrEqualToThreshold",
    treatMissingData: "missing",
  };
}

/** An alarm on the sum of one of Gantry's own metrics (RollbackFailed, CanaryFailures). */
export function gantryMetricAlarm(
  name: string,
  metric: string,
  dimensions: Record<string, string>,
  periodMs: number,
  description: string,
): AlarmSpec {
  return {
    name,
    description,
    metric: { kind: "metric", namespace: "Gantry", name: metric, dimensions, statistic: "Sum" },
    periodMs,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  };
}

/**
 * The EventBridge event CloudWatch sends for a state change, as the local world sends it to the
 * hold-events functions (the fields Gantry reads, plus the envelope's).
 *
 * @example
 * ```ts
 * alarms.onChange((change) => holdEvents(alarmStateChangeEvent(change)));
 * ```
 */
export function alarmStateChangeEvent(change: AlarmChange): AlarmStateChangeEvent & {
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: { readonly previousState: { readonly value: string } };
} {
  const time = new Date(change.at).toISOString();
  return {
    source: "aws.cloudwatch",
    "detail-type": "CloudWatch Alarm State Change",
    time,
    region: LOCAL_REGION,
    resources: [`arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${change.name}`],
    detail: {
      alarmName: change.name,
      state: { value: change.to, reason: change.reason, timestamp: time },
      previousState: { value: change.from },
    },
  };
}
