import {
  assertVersionMetricsQuery,
  type VersionMetrics,
  type VersionMetricsQuery,
  type VersionMetricsReader,
} from "@gantry/core";
import type { LocalMetrics } from "./metrics.ts";

/**
 * What one version served through an alias, locally: the version analysis's reader over the local
 * world's own datapoints. It reads what CloudWatchVersionMetrics reads in AWS, Lambda's
 * `AWS/Lambda` Invocations, Errors and Throttles (Sum) and Duration (p99) with the dimensions
 * {FunctionName, Resource: `function:alias`, ExecutedVersion}. Only calls through the alias land
 * in that series: the analysis's synthetic requests, sent to the version itself, never count as
 * real traffic. Locally Duration has one datapoint per invocation, so the p99 is exact.
 *
 * @example
 * ```ts
 * const reader = new LocalVersionMetrics(world.metrics);
 * const m = await reader.read({ functionName: "hello-prod", alias: "live", version: "5", from, to });
 * m.errors / (m.invocations + m.throttles); // the version's failure rate in [from, to)
 * ```
 */
export class LocalVersionMetrics implements VersionMetricsReader {
  readonly #metrics: LocalMetrics;

  constructor(metrics: LocalMetrics) {
    this.#metrics = metrics;
  }

  /**
   * The version's sums (0 without datapoints) and p99 (absent without invocations) over [from, to).
   *
   * @throws InvalidInput for an empty name, alias or version, or a window that is not
   *   finite or ends before it starts.
   */
  async read(query: VersionMetricsQuery): Promise<VersionMetrics> {
    assertVersionMetricsQuery(query);
    const { functionName, alias, version, from, to } = query;
    const dimensions = {
      FunctionName: functionName,
      Resource: `${functionName}:${alias}`,
      ExecutedVersion: version,
    };
    const sum = (name: string) =>
      this.#metrics.statistic("AWS/Lambda", name, dimensions, from, to, "Sum") ?? 0;
    const p99 = this.#metrics.statistic("AWS/Lambda", "Duration", dimensions, from, to, "p99");
    return {
      invocations: sum("Invocations"),
      errors: sum("Errors"),
      throttles: sum("Throttles"),
      ...(p99 === undefined ? {} : { p99DurationMs: p99 }),
    };
  }
}
