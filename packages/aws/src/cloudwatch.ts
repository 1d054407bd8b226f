import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import {
  type AlarmReader,
  type AlarmStatus,
  assertVersionMetricsQuery,
  TransientError,
  type VersionMetrics,
  type VersionMetricsQuery,
  type VersionMetricsReader,
} from "@gantry/core";
import { aws } from "./errors.ts";

/** DescribeAlarms takes at most 100 names per call. */
const NAMES_PER_CALL = 100;

/**
 * Alarm states from CloudWatch. Composite alarms count too. A metric alarm's status names the
 * metric it watches (`metricName`); a composite alarm, or a metric alarm on a metric-math
 * expression, watches no single metric and has none.
 *
 * @example
 * ```ts
 * const alarms = new CloudWatchAlarms(new CloudWatchClient({}));
 * const firing = (await alarms.describe(["hello-service-errors"])).filter((a) => a.state === "ALARM");
 * ```
 */
export class CloudWatchAlarms implements AlarmReader {
  readonly #cloudwatch: CloudWatchClient;

  constructor(cloudwatch: CloudWatchClient) {
    this.#cloudwatch = cloudwatch;
  }

  async describe(names: readonly string[]): Promise<AlarmStatus[]> {
    const statuses: AlarmStatus[] = [];
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      const batch = names.slice(i, i + NAMES_PER_CALL);
      let token: string | undefined;
      do {
        const out = await aws("DescribeAlarms", () =>
          this.#cloudwatch.send(
            new DescribeAlarmsCommand({
              AlarmNames: batch,
              AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
              NextToken: token,
            }),
          ),
        );
        for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
          // Only a metric alarm has MetricName (absent on one over a metric-math expression).
          const metricName = "MetricName" in alarm ? alarm.MetricName : undefined;
          statuses.push({
            name: alarm.AlarmName ?? "",
            state: (alarm.StateValue ?? "INSUFFICIENT_DATA") as AlarmStatus["state"],
            reason: alarm.StateReason ?? "",
            updatedAt: alarm.StateUpdatedTimestamp?.toISOString() ?? "",
            ...(metricName ? { metricName } : {}),
          });
        }
        token = out.NextToken;
      } while (token);
    }
    return statuses;
  }
}

/** GetMetricData's granularity for the version metrics: Lambda publishes them per minute. */
const PERIOD_SECONDS = 60;
const MINUTE_MS = PERIOD_SECONDS * 1000;

/** The four series one read asks for, by query Id (lower case first letter, as GetMetricData wants). */
const SERIES = [
  { id: "invocations", metric: "Invocations", stat: "Sum" },
  { id: "errors", metric: "Errors", stat: "Sum" },
  { id: "throttles", metric: "Throttles", stat: "Sum" },
  { id: "p99", metric: "Duration", stat: "p99" },
] as const;

type SeriesId = (typeof SERIES)[number]["id"];

/**
 * Each version's own numbers through an alias, from Lambda's per-version metrics in CloudWatch:
 * Invocations, Errors and Throttles (Sum) and Duration (p99) in `AWS/Lambda` with the dimensions
 * FunctionName, Resource (`function:alias`) and ExecutedVersion, which Lambda publishes for calls
 * through an alias. One GetMetricData call per read (and per page, following NextToken), at a
 * 60-second period, over the window rounded outward to whole minutes (CloudWatch's datapoints are
 * per minute, so a window that starts or ends mid-minute takes in that whole minute).
 *
 * The window's p99 is an approximation: CloudWatch cannot merge percentiles, so it is the mean of
 * the per-minute p99s weighted by each minute's invocations. It is exact for a window of one
 * minute and close when the minutes' latency distributions are alike; it can understate a p99
 * that comes from a few slow minutes.
 *
 * @example
 * ```ts
 * const reader = new CloudWatchVersionMetrics(new CloudWatchClient({}));
 * const m = await reader.read({ functionName: "hello-prod", alias: "live", version: "5", from, to });
 * (m.errors + m.throttles) / (m.invocations + m.throttles); // the version's failure rate
 * ```
 */
export class CloudWatchVersionMetrics implements VersionMetricsReader {
  readonly #cloudwatch: CloudWatchClient;

  constructor(cloudwatch: CloudWatchClient) {
    this.#cloudwatch = cloudwatch;
  }

  /**
   * The version's sums over the window (0 without datapoints) and its p99 (absent without
   * invocations).
   *
   * @throws InvalidInput (before any call) for an empty function name, alias or version, or a
   *   window that is not finite or ends before it starts.
   * @throws TransientError for throttling, 5xx and a result CloudWatch reports as InternalError.
   */
  async read(query: VersionMetricsQuery): Promise<VersionMetrics> {
    assertVersionMetricsQuery(query);
    const dimensions = [
      { Name: "FunctionName", Value: query.functionName },
      { Name: "Resource", Value: `${query.functionName}:${query.alias}` },
      { Name: "ExecutedVersion", Value: query.version },
    ];
    const queries: MetricDataQuery[] = SERIES.map((s) => ({
      Id: s.id,
      MetricStat: {
        Metric: { Namespace: "AWS/Lambda", MetricName: s.metric, Dimensions: dimensions },
        Period: PERIOD_SECONDS,
        Stat: s.stat,
      },
      ReturnData: true,
    }));
    const start = new Date(Math.floor(query.from / MINUTE_MS) * MINUTE_MS);
    // An empty window still asks for one minute: GetMetricData refuses EndTime <= StartTime.
    const end = new Date(
      Math.max(Math.ceil(query.to / MINUTE_MS) * MINUTE_MS, start.getTime() + MINUTE_MS),
    );
    const points = new Map<SeriesId, Map<number, number>>(SERIES.map((s) => [s.id, new Map()]));
    let token: string | undefined;
    do {
      const out = await aws("GetMetricData", () =>
        this.#cloudwatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: start,
            EndTime: end,
            ScanBy: "TimestampAscending",
            NextToken: token,
          }),
        ),
      );
      for (const result of out.MetricDataResults ?? []) collect(points, result);
      token = out.NextToken;
    } while (token);
    const sum = (id: SeriesId) =>
      [...(points.get(id) as Map<number, number>).values()].reduce((a, b) => a + b, 0);
    const p99 = weightedP99(
      points.get("p99") as Map<number, number>,
      points.get("invocations") as Map<number, number>,
    );
    return {
      invocations: sum("invocations"),
      errors: sum("errors"),
      throttles: sum("throttles"),
      ...(p99 === undefined ? {} : { p99DurationMs: p99 }),
    };
  }
}

/** Adds one page's datapoints of one series, by minute; a result CloudWatch could not serve fails. */
function collect(points: Map<SeriesId, Map<number, number>>, result: MetricDataResult): void {
  const series = points.get(result.Id as SeriesId);
  if (!series) return;
  if (result.StatusCode === "InternalError")
    throw new TransientError(`GetMetricData could not read ${result.Id} (InternalError)`);
  if (result.StatusCode === "Forbidden")
    throw new Error(`GetMetricData: reading ${result.Id} is forbidden (StatusCode Forbidden)`);
  const timestamps = result.Timestamps ?? [];
  const values = result.Values ?? [];
  timestamps.forEach((at, i) => {
    const value = values[i];
    // A page boundary may split a series but never repeats a datapoint: keyed by minute anyway.
    if (value !== undefined) series.set(at.getTime(), value);
  });
}

/**
 * The window's p99 from per-minute p99s: their mean weighted by each minute's invocations
 * (minutes without invocations carry no weight). Undefined when no minute with a p99 had an
 * invocation (the port's "absent when there was no invocation").
 */
function weightedP99(
  p99s: ReadonlyMap<number, number>,
  invocations: ReadonlyMap<number, number>,
): number | undefined {
  let weighted = 0;
  let weight = 0;
  for (const [at, p99] of p99s) {
    const n = invocations.get(at) ?? 0;
    weighted += p99 * n;
    weight += n;
  }
  return weight > 0 ? weighted / weight : undefined;
}
