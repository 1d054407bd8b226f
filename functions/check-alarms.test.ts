/**
 * CheckAlarms' real exported `handler` over mocked AWS SDK clients (functions/testing.ts): one
 * alarm poll, the version analysis (the project registry's prod has `analysis`) and the traffic
 * shift when a step's hold is over, and the names of its failures.
 */
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from "@aws-sdk/client-cloudwatch";
import { GetAliasCommand, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { rejectionOf } from "@gantry/core/testing";
import { describe, expect, it, vi } from "vitest";
import { handler as checkAlarms } from "./check-alarms.ts";
import {
  aliasUpdateSent,
  awsError,
  cloudwatch,
  context,
  iso,
  lambda,
  liveAliasUpdate,
  NOW,
  rolloutOf,
  STATE,
  setUpHandlerTests,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("check-alarms", () => {
  const alarm = (StateValue: "OK" | "ALARM") => ({
    MetricAlarms: [
      {
        AlarmName: "hello-service-prod-errors",
        StateValue,
        StateReason: `state ${StateValue}`,
        StateUpdatedTimestamp: new Date(NOW - 5000),
      },
    ],
  });
  const holding = rolloutOf({ stepIndex: 0, weight: 10, holdEndsAt: iso(NOW + 30_000), checks: 2 });

  /**
   * Lambda's per-version metrics as GetMetricData returns them: version 6 (previous) healthy,
   * version 7 (new) with the given invocations and errors, each in one minute.
   */
  const versionMetrics = (newVersion: { invocations: number; errors: number }) => {
    const numbers: Record<string, Record<string, number>> = {
      "6": { invocations: 3600, errors: 4, throttles: 0, p99: 40 },
      "7": { ...newVersion, throttles: 0, p99: 42 },
    };
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const queries = input.MetricDataQueries ?? [];
      const version = queries[0]?.MetricStat?.Metric?.Dimensions?.find(
        (d) => d.Name === "ExecutedVersion",
      )?.Value;
      return {
        MetricDataResults: queries.map((q) => ({
          Id: q.Id,
          Timestamps: [input.StartTime],
          Values: [numbers[String(version)]?.[String(q.Id)] ?? 0],
          StatusCode: "Complete",
        })),
      };
    });
  };
  /** Which versions GetMetricData was asked about, through which alias. */
  const versionsRead = () =>
    cloudwatch.commandCalls(GetMetricDataCommand).map((c) => {
      const dims = c.args[0].input.MetricDataQueries?.[0]?.MetricStat?.Metric?.Dimensions ?? [];
      return Object.fromEntries(dims.map((d) => [d.Name, d.Value]));
    });

  it("keeps the step while its hold is not over, with the next check at the hold's end", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarm("OK"));
    const rollout = await checkAlarms({ ...STATE, rollout: holding }, context);
    // The hold Task that follows waits out the 30 s left plus the 60 s grace.
    expect(rollout).toEqual({
      ...holding,
      checks: 3,
      nextCheckAt: iso(NOW + 30_000),
      holdTimeoutSeconds: 90,
    });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toMatchObject({
      AlarmNames: ["hello-service-prod-errors"],
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
    });
    expect(lambda.calls()).toHaveLength(0);
  });

  it("moves to the next traffic step once the hold is over", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarm("OK"));
    lambda.on(GetAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
      RevisionId: "r2",
    });
    lambda.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "6" });
    versionMetrics({ invocations: 400, errors: 0 });
    const over = { ...holding, holdEndsAt: iso(NOW - 1000) };
    const rollout = await checkAlarms({ ...STATE, rollout: over }, context);
    expect(rollout).toMatchObject({
      stepIndex: 1,
      weight: 25,
      checks: 3,
      holdEndsAt: iso(NOW + 60_000),
      holdTimeoutSeconds: 120,
      analysis: { decision: "pass" },
    });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r2", { "7": 0.25 }));
  });

  it("halts a version whose own numbers fail, however diluted on the alias, and moves no traffic", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarm("OK"));
    // At 10%, 100% failures of version 7 are a 10% error rate on the alias; its own is 100%.
    versionMetrics({ invocations: 400, errors: 400 });
    const over = { ...holding, holdEndsAt: iso(NOW - 1000) };
    const rollout = await checkAlarms({ ...STATE, rollout: over }, context);
    expect(rollout).toMatchObject({
      phase: "halted",
      analysis: { decision: "fail", failure: "VersionRegressed" },
    });
    expect(versionsRead()).toEqual(
      expect.arrayContaining(
        ["7", "6"].map((v) => ({
          FunctionName: "hello-service-prod",
          Resource: "hello-service-prod:live",
          ExecutedVersion: v,
        })),
      ),
    );
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it("fails with AlarmTriggered when an alarm is in ALARM, and moves no traffic", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarm("ALARM"));
    const error = await rejectionOf(
      checkAlarms({ ...STATE, rollout: { ...holding, holdEndsAt: iso(NOW - 1000) } }, context),
    );
    expect(error.name).toBe("AlarmTriggered");
    expect(error.message).toContain("hello-service-prod-errors in ALARM");
    expect(lambda.calls()).toHaveLength(0);
  });

  it("turns CloudWatch throttling into TransientError", async () => {
    cloudwatch.on(DescribeAlarmsCommand).rejects(awsError("Throttling", 400, "Rate exceeded"));
    const error = await rejectionOf(checkAlarms({ ...STATE, rollout: holding }, context));
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain("DescribeAlarms failed transiently (Throttling");
  });
});
