import type { MetricsPublisher } from "@gantry/core";
import { METRIC_NAMESPACE, percentile } from "@gantry/core";

/** One invocation, as the function runtime reports it. */
export interface InvocationSample {
  readonly functionName: string;
  /** What the caller invoked: an alias, a version or $LATEST. */
  readonly qualifier: string;
  /** The version that ran. */
  readonly version: string;
  readonly durationMs: number;
  readonly error: boolean;
  readonly at: number;
}

interface Datapoint {
  readonly at: number;
  readonly value: number;
}

/**
 * CloudWatch's statistics, as far as the local world needs them: `p99` (any `pNN`) is a
 * percentile of the window's datapoints. Lambda's Duration has one datapoint per invocation
 * here, so a percentile of it is exact (nearest rank), not CloudWatch's estimate.
 */
export type Statistic = "Sum" | "Average" | "Maximum" | "SampleCount" | `p${number}`;

/**
 * CloudWatch metrics, locally: datapoints kept in memory for a retention window, with the
 * statistics alarms need. Invocations are recorded the way Lambda reports them, under
 * `AWS/Lambda` with the dimension sets {FunctionName}, {FunctionName, Resource} and
 * {FunctionName, Resource, ExecutedVersion}, where Resource is `function:alias` for aliased calls.
 * Every series is swept of datapoints past the retention window, and dropped once it has none,
 * so the series of superseded versions (each deployment publishes one) do not stay forever.
 *
 * @example
 * ```ts
 * const metrics = new LocalMetrics();
 * metrics.recordInvocation({ functionName: "hello", qualifier: "live", version: "2", durationMs: 3, error: false, at: Date.now() });
 * metrics.statistic("AWS/Lambda", "Invocations", { FunctionName: "hello", Resource: "hello:live" }, 0, Date.now(), "Sum"); // 1
 * metrics.statistic("AWS/Lambda", "Duration", { FunctionName: "hello", Resource: "hello:live", ExecutedVersion: "2" }, 0, Date.now(), "p99"); // 3
 * ```
 */
export class LocalMetrics implements MetricsPublisher {
  readonly #series = new Map<string, Datapoint[]>();
  readonly #retentionMs: number;
  readonly #now: () => number;
  /** When every series was last swept of expired datapoints. */
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: { retentionMs?: number; now?: () => number } = {}) {
    this.#retentionMs = options.retentionMs ?? 30 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  put(
    namespace: string,
    name: string,
    dimensions: Readonly<Record<string, string>>,
    value: number,
    at = this.#now(),
  ): void {
    const key = seriesKey(namespace, name, dimensions);
    const points = this.#series.get(key) ?? [];
    points.push({ at, value });
    const horizon = at - this.#retentionMs;
    while (points.length > 0 && (points[0] as Datapoint).at < horizon) points.shift();
    this.#series.set(key, points);
    // The other series get no datapoints to prune theirs on (a version no alias routes to).
    if (at - this.#sweptAt >= this.#retentionMs / 10) this.#sweep(at, horizon);
  }

  /** Drops every series' datapoints older than `horizon`, and the series left empty. */
  #sweep(at: number, horizon: number): void {
    this.#sweptAt = at;
    for (const [key, points] of this.#series) {
      let expired = 0;
      while (expired < points.length && (points[expired] as Datapoint).at < horizon) expired++;
      if (expired === points.length) this.#series.delete(key);
      else if (expired > 0) points.splice(0, expired);
    }
  }

  async publish(
    name: string,
    value: number,
    dimensions: Readonly<Record<string, string>>,
  ): Promise<void> {
    this.put(METRIC_NAMESPACE, name, dimensions, value);
  }

  recordInvocation(sample: InvocationSample): void {
    const resource =
      sample.qualifier === sample.version || sample.qualifier === "$LATEST"
        ? sample.functionName
        : `${sample.functionName}:${sample.qualifier}`;
    const dimensionSets: Record<string, string>[] = [
      { FunctionName: sample.functionName },
      { FunctionName: sample.functionName, Resource: resource },
      { FunctionName: sample.functionName, Resource: resource, ExecutedVersion: sample.version },
    ];
    for (const dims of dimensionSets) {
      this.put("AWS/Lambda", "Invocations", dims, 1, sample.at);
      this.put("AWS/Lambda", "Errors", dims, sample.error ? 1 : 0, sample.at);
      this.put("AWS/Lambda", "Duration", dims, sample.durationMs, sample.at);
    }
  }

  /**
   * A statistic over [from, to), or undefined when there is no datapoint.
   *
   * @throws RangeError for a percentile outside (0, 100] (`p0`, `p101`, `pNaN`).
   */
  statistic(
    namespace: string,
    name: string,
    dimensions: Readonly<Record<string, string>>,
    from: number,
    to: number,
    statistic: Statistic,
  ): number | undefined {
    const points = (this.#series.get(seriesKey(namespace, name, dimensions)) ?? []).filter(
      (p) => p.at >= from && p.at < to,
    );
    if (points.length === 0) return undefined;
    switch (statistic) {
      case "Sum":
        return points.reduce((sum, p) => sum + p.value, 0);
      case "Average":
        return points.reduce((sum, p) => sum + p.value, 0) / points.length;
      case "Maximum":
        return Math.max(...points.map((p) => p.value));
      case "SampleCount":
        return points.length;
      default:
        return percentile(
          points.map((p) => p.value),
          Number(statistic.slice(1)),
        );
    }
  }

  /** Every series name with its dimensions (for the console and tests). */
  series(): {
    namespace: string;
    name: string;
    dimensions: Record<string, string>;
    count: number;
  }[] {
    return [...this.#series.entries()].map(([key, points]) => ({
      ...parseKey(key),
      count: points.length,
    }));
  }
}

function seriesKey(
  namespace: string,
  name: string,
  dimensions: Readonly<Record<string, string>>,
): string {
  const dims = Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return `${namespace}|${name}|${dims}`;
}

function parseKey(key: string): {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
} {
  const [namespace = "", name = "", dims = ""] = key.split("|");
  const dimensions = Object.fromEntries(
    dims
      .split(",")
      .filter(Boolean)
      .map((pair) => pair.split("=") as [string, string]),
  );
  return { namespace, name, dimensions };
}
