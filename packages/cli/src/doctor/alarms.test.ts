/** doctor's alarm checks (alarms.ts) over a mocked CloudWatch. */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { alarmWatches, checkAlarms } from "./alarms.ts";
import { awsError, doctorClients, prodPlan } from "./testing.ts";

const cloudwatch = mockClient(CloudWatchClient);

const clients = doctorClients();

beforeEach(() => {
  cloudwatch.reset();
});
const target = prodPlan().targets[0] ?? { service: "", functionName: "", alias: "", alarms: [] };

describe("checkAlarms", () => {
  const onAlias: MetricAlarm = {
    AlarmName: "hello-service-prod-errors",
    Namespace: "AWS/Lambda",
    MetricName: "Errors",
    Dimensions: [
      { Name: "FunctionName", Value: "hello-service-prod" },
      { Name: "Resource", Value: "hello-service-prod:live" },
    ],
    StateValue: "OK",
  };

  it("passes an alarm on the alias's metrics", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [onAlias] });
    expect(await checkAlarms(clients.cloudwatch, [target], "prod")).toEqual([
      {
        check: "alarm",
        subject: "hello-service-prod-errors",
        status: "ok",
        message: "AWS/Lambda Errors on hello-service-prod:live, OK",
      },
    ]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toEqual({
      AlarmNames: ["hello-service-prod-errors"],
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
    });
  });

  it("fails a missing alarm", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [], CompositeAlarms: [] });
    const [result] = await checkAlarms(clients.cloudwatch, [target], "prod");
    expect(result?.status).toBe("fail");
    expect(result?.message).toContain("does not exist (hello-service names it for prod)");
    expect(result?.fix).toContain(
      "FunctionName=hello-service-prod, Resource=hello-service-prod:live",
    );
  });

  it("warns about an alarm on the whole function, on another metric, or in ALARM", async () => {
    const targets = [{ ...target, alarms: ["whole", "other", "firing", "composite"] }];
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          ...onAlias,
          AlarmName: "whole",
          Dimensions: [{ Name: "FunctionName", Value: "hello-service-prod" }],
        },
        { ...onAlias, AlarmName: "other", Namespace: "Acme", MetricName: "Orders", Dimensions: [] },
        { ...onAlias, AlarmName: "firing", StateValue: "ALARM" },
      ],
      CompositeAlarms: [{ AlarmName: "composite", StateValue: "OK" }],
    });
    const results = await checkAlarms(clients.cloudwatch, targets, "prod");
    expect(results.map((r) => [r.subject, r.status, r.message])).toEqual([
      [
        "whole",
        "warn",
        "AWS/Lambda Errors on the whole function hello-service-prod, OK: it watches every version of hello-service-prod, not the alias live",
      ],
      [
        "other",
        "warn",
        "Acme Orders, OK: its metric does not name hello-service-prod:live (no FunctionName/Resource dimension for it)",
      ],
      [
        "firing",
        "warn",
        "AWS/Lambda Errors on hello-service-prod:live, ALARM: it is in ALARM now: a deployment would stop at its first alarm check",
      ],
      ["composite", "ok", "a composite alarm (its rule is not checked), OK"],
    ]);
    expect(results[0]?.fix).toBe(
      "add the dimension Resource=hello-service-prod:live so it sees the traffic the alias serves",
    );
  });

  it("fails a composite alarm when check-alarms may not read composite alarms", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      CompositeAlarms: [{ AlarmName: "hello-service-prod-errors", StateValue: "OK" }],
    });
    const [result] = await checkAlarms(clients.cloudwatch, [target], "prod", false);
    expect(result).toEqual({
      check: "alarm",
      subject: "hello-service-prod-errors",
      status: "fail",
      message:
        'a composite alarm, OK: CloudWatch shows composite alarms only to callers allowed cloudwatch:DescribeAlarms on *, and Gantry\'s check-alarms role is allowed it on alarm ARNs only: every deployment of hello-service would fail with "alarms not found"',
      fix: "list the metric alarms it combines in gantry.registry.ts instead (alarms on hello-service-prod:live)",
    });
  });

  it("reads metric math alarms' metrics, and Resource alone", () => {
    const math: MetricAlarm = {
      AlarmName: "rate",
      Metrics: [
        {
          Id: "e",
          MetricStat: {
            Metric: {
              Namespace: "AWS/Lambda",
              MetricName: "Errors",
              Dimensions: [{ Name: "Resource", Value: "hello-service-prod:live" }],
            },
            Period: 60,
            Stat: "Sum",
          },
        },
        { Id: "rate", Expression: "e / 1" },
      ],
    };
    expect(alarmWatches(math, "hello-service-prod", "live")).toBe("alias");
    expect(alarmWatches(math, "hello-service-prod", "canary")).toBe("other");
  });

  it("warns about a service with no alarms, and fails when alarms cannot be read", async () => {
    const quiet = await checkAlarms(clients.cloudwatch, [{ ...target, alarms: [] }], "prod");
    expect(quiet).toEqual([expect.objectContaining({ subject: "hello-service", status: "warn" })]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);

    cloudwatch.on(DescribeAlarmsCommand).rejects(awsError("AccessDenied", 403));
    const [denied] = await checkAlarms(clients.cloudwatch, [target], "prod");
    expect(denied).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("cloudwatch:DescribeAlarms"),
    });
  });

  it("asks for at most 100 names at a time and follows NextToken", async () => {
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
    cloudwatch
      .on(DescribeAlarmsCommand)
      .callsFake((input: { AlarmNames: string[]; NextToken?: string }) => {
        const page = input.NextToken ? input.AlarmNames.slice(50) : input.AlarmNames.slice(0, 50);
        return {
          MetricAlarms: page.map((name) => ({ ...onAlias, AlarmName: name })),
          ...(input.NextToken || input.AlarmNames.length <= 50 ? {} : { NextToken: "next" }),
        };
      });
    const results = await checkAlarms(clients.cloudwatch, [{ ...target, alarms: names }], "prod");
    expect(results.filter((r) => r.status === "ok")).toHaveLength(150);
    expect(
      cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames?.length),
    ).toEqual([100, 100, 50]);
  });
});
