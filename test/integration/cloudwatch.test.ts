import {
  CloudWatchClient,
  type GetMetricDataCommandInput,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { CloudWatchAlarms, CloudWatchVersionMetrics } from "@gantry/aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsConfig, type Moto, startMoto } from "../support/moto.ts";

let moto: Moto;
let cloudwatch: CloudWatchClient;

async function putAlarm(name: string): Promise<void> {
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: "hello-prod" }],
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    }),
  );
}

beforeAll(async () => {
  moto = await startMoto();
  cloudwatch = new CloudWatchClient(awsConfig(moto.endpoint));
  await putAlarm("hello-prod-errors");
  await putAlarm("hello-prod-latency");
  await cloudwatch.send(
    new SetAlarmStateCommand({
      AlarmName: "hello-prod-errors",
      StateValue: "ALARM",
      StateReason: "Threshold Crossed: 3 errors",
    }),
  );
});

afterAll(async () => {
  cloudwatch?.destroy();
  await moto?.stop();
});

describe("CloudWatchAlarms on moto", () => {
  it("reports each named alarm's state and omits names that do not exist", async () => {
    const statuses = await new CloudWatchAlarms(cloudwatch).describe([
      "hello-prod-errors",
      "hello-prod-latency",
      "no-such-alarm",
    ]);
    const byName = Object.fromEntries(statuses.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(["hello-prod-errors", "hello-prod-latency"]);
    expect(byName["hello-prod-errors"]).toMatchObject({
      state: "ALARM",
      reason: "Threshold Crossed: 3 errors",
    });
    // moto does not evaluate alarms: a new alarm keeps its initial state.
    expect(byName["hello-prod-latency"]?.state).toBe("OK");
  });

  it("reports when each state was last updated, as an ISO timestamp", async () => {
    const [status] = await new CloudWatchAlarms(cloudwatch).describe(["hello-prod-errors"]);
    expect(status?.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it("returns nothing when no name exists", async () => {
    await expect(new CloudWatchAlarms(cloudwatch).describe(["no-such-alarm"])).resolves.toEqual([]);
  });

  it("names the metric each metric alarm watches", async () => {
    const [status] = await new CloudWatchAlarms(cloudwatch).describe(["hello-prod-errors"]);
    expect(status?.metricName).toBe("Errors");
  });
});

describe("CloudWatchVersionMetrics on moto", () => {
  const MINUTE = 60_000;
  /** A whole minute ten minutes ago: the window's first minute. */
  const m0 = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
  const dims = (resource: string, version: string) => [
    { Name: "FunctionName", Value: "hello-prod" },
    { Name: "Resource", Value: resource },
    { Name: "ExecutedVersion", Value: version },
  ];
  const datum = (name: string, value: number, at: number, resource: string, version: string) => ({
    MetricName: name,
    Dimensions: dims(resource, version),
    Value: value,
    Timestamp: new Date(at),
  });

  beforeAll(async () => {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: "AWS/Lambda",
        MetricData: [
          // Version 5 through the alias: two minutes in the window.
          datum("Invocations", 100, m0, "hello-prod:live", "5"),
          datum("Errors", 2, m0, "hello-prod:live", "5"),
          datum("Throttles", 1, m0, "hello-prod:live", "5"),
          datum("Duration", 40, m0, "hello-prod:live", "5"),
          datum("Invocations", 300, m0 + MINUTE, "hello-prod:live", "5"),
          datum("Errors", 5, m0 + MINUTE, "hello-prod:live", "5"),
          datum("Duration", 80, m0 + MINUTE, "hello-prod:live", "5"),
          // Outside the window (rounded outward to [m0, m0 + 2 min)): not counted.
          datum("Invocations", 1000, m0 - MINUTE, "hello-prod:live", "5"),
          datum("Invocations", 1000, m0 + 2 * MINUTE, "hello-prod:live", "5"),
          // The previous version, and calls to version 5 not through the alias: other series.
          datum("Invocations", 900, m0, "hello-prod:live", "4"),
          datum("Invocations", 50, m0, "hello-prod", "5"),
          datum("Errors", 50, m0, "hello-prod", "5"),
        ],
      }),
    );
  });

  /**
   * moto 5.2.1 answers a percentile statistic (p99) with a 500: this client asks for the
   * Maximum instead, and records what the adapter asked for. Each minute has one Duration
   * datapoint here, so its Maximum is its p99.
   */
  function percentileAsMaximum(client: CloudWatchClient, asked: string[]): CloudWatchClient {
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as GetMetricDataCommandInput;
        for (const query of input.MetricDataQueries ?? []) {
          const stat = query.MetricStat;
          if (!stat) continue;
          asked.push(String(stat.Stat));
          if (stat.Stat === "p99") stat.Stat = "Maximum";
        }
        return next(args);
      },
      { step: "initialize", name: "motoPercentileAsMaximum" },
    );
    return client;
  }

  it("reads back one version's sums through the alias and the invocation-weighted p99", async () => {
    const asked: string[] = [];
    const client = percentileAsMaximum(new CloudWatchClient(awsConfig(moto.endpoint)), asked);
    try {
      const read = await new CloudWatchVersionMetrics(client).read({
        functionName: "hello-prod",
        alias: "live",
        version: "5",
        from: m0 + 30_000,
        to: m0 + MINUTE + 30_000,
      });
      // (40 * 100 + 80 * 300) / 400 = 70
      expect(read).toEqual({ invocations: 400, errors: 7, throttles: 1, p99DurationMs: 70 });
      expect(asked).toEqual(["Sum", "Sum", "Sum", "p99"]);
    } finally {
      client.destroy();
    }
  });

  it("reads zeros and no p99 for a version that served nothing in the window", async () => {
    const client = percentileAsMaximum(new CloudWatchClient(awsConfig(moto.endpoint)), []);
    try {
      await expect(
        new CloudWatchVersionMetrics(client).read({
          functionName: "hello-prod",
          alias: "live",
          version: "6",
          from: m0,
          to: m0 + 2 * MINUTE,
        }),
      ).resolves.toEqual({ invocations: 0, errors: 0, throttles: 0 });
    } finally {
      client.destroy();
    }
  });
});
