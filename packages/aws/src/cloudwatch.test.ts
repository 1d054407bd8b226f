import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
} from "@aws-sdk/client-cloudwatch";
import { TransientError } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CloudWatchAlarms } from "./cloudwatch.ts";

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
      },
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
