import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { CloudWatchAlarms } from "@gantry/aws";
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
});
