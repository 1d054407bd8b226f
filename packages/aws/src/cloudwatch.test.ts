import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
import { InvalidInput, TransientError } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CloudWatchAlarms, CloudWatchVersionMetrics } from "./cloudwatch.ts";

const AT = new Date("2026-11-22T10:00:00.000Z");
const throttled = () =>
  new CloudWatchServiceException({
    name: "Throttling",
    message: "Rate exceeded",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });

let cloudwatch: CloudWatchClient;
let mock: AwsClientStub<CloudWatchClient>;

beforeEach(() => {
  cloudwatch = new CloudWatchClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(cloudwatch);
});

describe("CloudWatchAlarms.describe", () => {
  it("reports metric and composite alarms with state, reason and time", async () => {
    mock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: "hello-errors",
          StateValue: "ALARM",
          StateReason: "Threshold crossed",
          StateUpdatedTimestamp: AT,
          MetricName: "Errors",
        },
      ],
      CompositeAlarms: [
        {
          AlarmName: "hello-health",
          StateValue: "OK",
          StateReason: "fine",
          StateUpdatedTimestamp: AT,
        },
      ],
    });
    await expect(
      new CloudWatchAlarms(cloudwatch).describe(["hello-errors", "hello-health"]),
    ).resolves.toEqual([
      {
        name: "hello-errors",
        state: "ALARM",
        reason: "Threshold crossed",
        updatedAt: "2026-11-22T10:00:00.000Z",
        metricName: "Errors",
      },
      // A composite alarm watches no single metric: no metricName.
      { name: "hello-health", state: "OK", reason: "fine", updatedAt: "2026-11-22T10:00:00.000Z" },
    ]);
  });

  it("asks for the named metric and composite alarms", async () => {
    mock.on(DescribeAlarmsCommand).resolves({});
    await new CloudWatchAlarms(cloudwatch).describe(["hello-errors"]);
    expect(mock.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toEqual({
      AlarmNames: ["hello-errors"],
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
      NextToken: undefined,
    });
  });

  it("names the metric of a metric alarm, and none for one on a metric-math expression", async () => {
    mock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: "hello-latency", StateValue: "ALARM", MetricName: "Duration" },
        { AlarmName: "hello-error-rate", StateValue: "OK", Metrics: [{ Id: "rate" }] },
      ],
    });
    const statuses = await new CloudWatchAlarms(cloudwatch).describe([
      "hello-latency",
      "hello-error-rate",
    ]);
    expect(statuses.map((s) => [s.name, s.metricName])).toEqual([
      ["hello-latency", "Duration"],
      ["hello-error-rate", undefined],
    ]);
    expect("metricName" in (statuses[1] as object)).toBe(false);
  });

  it("leaves out names CloudWatch does not know", async () => {
    mock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: "hello-errors", StateValue: "OK", StateUpdatedTimestamp: AT }],
    });
    const statuses = await new CloudWatchAlarms(cloudwatch).describe(["hello-errors", "unknown"]);
    expect(statuses.map((s) => s.name)).toEqual(["hello-errors"]);
  });

  it("reports an alarm without a state as INSUFFICIENT_DATA", async () => {
    mock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: "new-alarm" }] });
    await expect(new CloudWatchAlarms(cloudwatch).describe(["new-alarm"])).resolves.toEqual([
      { name: "new-alarm", state: "INSUFFICIENT_DATA", reason: "", updatedAt: "" },
    ]);
  });

  it("makes no call for no names", async () => {
    await expect(new CloudWatchAlarms(cloudwatch).describe([])).resolves.toEqual([]);
    expect(mock.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });

  it("follows NextToken", async () => {
    mock
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: "a", StateValue: "OK" }], NextToken: "t1" })
      .resolvesOnce({ MetricAlarms: [{ AlarmName: "b", StateValue: "ALARM" }] });
    const statuses = await new CloudWatchAlarms(cloudwatch).describe(["a", "b"]);
    expect(statuses.map((s) => [s.name, s.state])).toEqual([
      ["a", "OK"],
      ["b", "ALARM"],
    ]);
    expect(mock.commandCalls(DescribeAlarmsCommand)[1]?.args[0].input.NextToken).toBe("t1");
  });

  it("asks for at most 100 names per call", async () => {
    mock.on(DescribeAlarmsCommand).resolves({});
    const names = Array.from({ length: 250 }, (_, i) => `alarm-${i}`);
    await new CloudWatchAlarms(cloudwatch).describe(names);
    const batches = mock.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames);
    expect(batches.map((b) => b?.length)).toEqual([100, 100, 50]);
    expect(batches.flat()).toEqual(names);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(DescribeAlarmsCommand).rejects(original);
    const error = await rejectionOf(new CloudWatchAlarms(cloudwatch).describe(["a"]));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("CloudWatchVersionMetrics.read", () => {
  /** 10:00:00Z and the minutes after it. */
  const minute = (n: number) => new Date(AT.getTime() + n * 60_000);
  const query = {
    functionName: "hello-prod",
    alias: "live",
    version: "5",
    // 10:00:30 to 10:02:15: rounded outward, 10:00 to 10:03.
    from: AT.getTime() + 30_000,
    to: AT.getTime() + 135_000,
  };
  const series = (Id: string, values: readonly number[], first = 0) => ({
    Id,
    Timestamps: values.map((_, i) => minute(first + i)),
    Values: [...values],
    StatusCode: "Complete" as const,
  });

  it("asks once for the four series of the version through the alias, per minute, the window rounded outward", async () => {
    mock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await new CloudWatchVersionMetrics(cloudwatch).read(query);
    const calls = mock.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.StartTime).toEqual(minute(0));
    expect(input?.EndTime).toEqual(minute(3));
    const dimensions = [
      { Name: "FunctionName", Value: "hello-prod" },
      { Name: "Resource", Value: "hello-prod:live" },
      { Name: "ExecutedVersion", Value: "5" },
    ];
    expect(input?.MetricDataQueries).toEqual(
      [
        ["invocations", "Invocations", "Sum"],
        ["errors", "Errors", "Sum"],
        ["throttles", "Throttles", "Sum"],
        ["p99", "Duration", "p99"],
      ].map(([Id, MetricName, Stat]) => ({
        Id,
        MetricStat: {
          Metric: { Namespace: "AWS/Lambda", MetricName, Dimensions: dimensions },
          Period: 60,
          Stat,
        },
        ReturnData: true,
      })),
    );
  });

  it("sums the datapoints and weighs each minute's p99 by its invocations", async () => {
    mock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        series("invocations", [100, 300]),
        series("errors", [2, 5]),
        series("throttles", [0, 1]),
        series("p99", [40, 80]),
      ],
    });
    // (40 * 100 + 80 * 300) / 400 = 70
    await expect(new CloudWatchVersionMetrics(cloudwatch).read(query)).resolves.toEqual({
      invocations: 400,
      errors: 7,
      throttles: 1,
      p99DurationMs: 70,
    });
  });

  it("reports zeros and no p99 for a version that served nothing", async () => {
    mock.on(GetMetricDataCommand).resolves({
      MetricDataResults: ["invocations", "errors", "throttles", "p99"].map((Id) => series(Id, [])),
    });
    await expect(new CloudWatchVersionMetrics(cloudwatch).read(query)).resolves.toEqual({
      invocations: 0,
      errors: 0,
      throttles: 0,
    });
  });

  it("follows NextToken, a series' datapoints split across pages", async () => {
    mock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { ...series("invocations", [10]), StatusCode: "PartialData" },
          { ...series("p99", [20]), StatusCode: "PartialData" },
        ],
        NextToken: "page-2",
      })
      .resolvesOnce({
        MetricDataResults: [
          series("invocations", [30], 1),
          series("errors", [4], 1),
          series("p99", [60], 1),
        ],
      });
    await expect(new CloudWatchVersionMetrics(cloudwatch).read(query)).resolves.toEqual({
      invocations: 40,
      errors: 4,
      throttles: 0,
      // (20 * 10 + 60 * 30) / 40
      p99DurationMs: 50,
    });
    const calls = mock.commandCalls(GetMetricDataCommand);
    expect(calls.map((c) => c.args[0].input.NextToken)).toEqual([undefined, "page-2"]);
  });

  it("asks for at least one minute for an empty window on a minute boundary", async () => {
    mock.on(GetMetricDataCommand).resolves({});
    await new CloudWatchVersionMetrics(cloudwatch).read({
      ...query,
      from: AT.getTime(),
      to: AT.getTime(),
    });
    const input = mock.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect([input?.StartTime, input?.EndTime]).toEqual([minute(0), minute(1)]);
  });

  it("refuses a query without a version or with a backwards window before calling CloudWatch", async () => {
    const reader = new CloudWatchVersionMetrics(cloudwatch);
    const error = await rejectionOf(reader.read({ ...query, version: "" }));
    expect(error).toBeInstanceOf(InvalidInput);
    expect(error.message).toMatch(/^version: /);
    await expect(reader.read({ ...query, to: query.from - 1 })).rejects.toBeInstanceOf(
      InvalidInput,
    );
    expect(mock.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });

  it("turns throttling, and a series CloudWatch could not serve, into TransientError", async () => {
    const original = throttled();
    mock.on(GetMetricDataCommand).rejectsOnce(original);
    const error = await rejectionOf(new CloudWatchVersionMetrics(cloudwatch).read(query));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
    mock
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ ...series("errors", []), StatusCode: "InternalError" }] });
    await expect(new CloudWatchVersionMetrics(cloudwatch).read(query)).rejects.toBeInstanceOf(
      TransientError,
    );
  });

  it("fails on a series it may not read, rather than reading it as no traffic", async () => {
    mock
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ ...series("invocations", []), StatusCode: "Forbidden" }] });
    const error = await rejectionOf(new CloudWatchVersionMetrics(cloudwatch).read(query));
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/forbidden/);
  });
});
