/** Gantry's alarms, the canary's schedule and the execution-status patterns, as plain data. */
import { CANARY_FAILURES_METRIC, ROLLBACK_FAILED_METRIC } from "@gantry/core";
import { alarmSpecs as localAlarmSpecs } from "@gantry/local";
import { alarmSpecs } from "@gantry/stacks/alarm-specs";
import {
  CANARY_SCHEDULE,
  EVENT_PATTERN_LIMIT,
  executionStatusPattern,
  holdAlarmPatterns,
  OUTCOME_STATUSES,
  RECONCILED_STATUSES,
} from "@gantry/stacks/events";
import { holdWatchedAlarms } from "@gantry/stacks/holds";
import { describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import { TWO_SERVICES } from "./support/registries.ts";

const MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-prod";

/** Seconds between runs of an EventBridge schedule expression. */
function intervalSeconds(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const unit = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };
    return Number(rate[1]) * unit[rate[2] as keyof typeof unit];
  }
  if (/^cron\(\d{1,2} \* \* \* \? \*\)$/.test(expression)) return 3600;
  throw new Error(`not understood: ${expression}`);
}

describe("the scheduled canary", () => {
  it("runs every hour", () => {
    expect(intervalSeconds(CANARY_SCHEDULE)).toBe(3600);
  });
});

describe("alarm specs", () => {
  it("watch every registered service: the canary in prod, a failed rollback in each stage", () => {
    expect(alarmSpecs(TWO_SERVICES, "prod", MACHINE).map((a) => a.name)).toEqual([
      "orders-canary",
      "orders-prod-rollback-failed",
      "billing-canary",
      "billing-prod-rollback-failed",
      "gantry-prod-executions-failed",
    ]);
    expect(alarmSpecs(TWO_SERVICES, "preprod", MACHINE).map((a) => a.name)).toEqual([
      "orders-preprod-rollback-failed",
      "billing-preprod-rollback-failed",
      "gantry-preprod-executions-failed",
    ]);
  });

  it("fire on one failure of Gantry's own metrics, per service and stage", () => {
    const [canary, rollback, executions] = alarmSpecs(registry, "prod", MACHINE);
    expect(canary).toMatchObject({
      name: "hello-service-canary",
      namespace: "Gantry",
      metricName: CANARY_FAILURES_METRIC,
      dimensions: { Service: "hello-service", Stage: "prod" },
      statistic: "Sum",
      periodSeconds: 3600,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    expect(rollback).toMatchObject({
      name: "hello-service-prod-rollback-failed",
      namespace: "Gantry",
      metricName: ROLLBACK_FAILED_METRIC,
      dimensions: { Service: "hello-service", Stage: "prod" },
      statistic: "Sum",
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    });
    expect(executions).toMatchObject({
      name: "gantry-prod-executions-failed",
      namespace: "AWS/States",
      metricName: "ExecutionsFailed",
      dimensions: { StateMachineArn: MACHINE },
      statistic: "Sum",
      threshold: 1,
    });
  });

  it("carry the names and metrics of the local control plane's Gantry alarms", () => {
    const local = localAlarmSpecs(registry, 1)
      .filter((spec) => JSON.stringify(spec).includes('"Gantry"'))
      .map((spec) => spec.name)
      .sort();
    const cloud = [
      ...alarmSpecs(registry, "preprod", MACHINE),
      ...alarmSpecs(registry, "prod", MACHINE),
    ]
      .filter((spec) => spec.namespace === "Gantry")
      .map((spec) => spec.name)
      .sort();
    expect(cloud).toEqual(local);
    expect(cloud).toEqual([
      "hello-service-canary",
      "hello-service-preprod-rollback-failed",
      "hello-service-prod-rollback-failed",
    ]);
  });
});

describe("execution status patterns", () => {
  it("announce every end of this state machine's executions", () => {
    expect(executionStatusPattern(MACHINE, OUTCOME_STATUSES)).toEqual({
      source: ["aws.states"],
      "detail-type": ["Step Functions Execution Status Change"],
      detail: {
        stateMachineArn: [MACHINE],
        status: ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
      },
    });
  });

  it("send to reconcile every status that can skip the failure path, FAILED included (States.Runtime, States.DataLimitExceeded), and SUCCEEDED (a Finish that failed for good)", async () => {
    expect([...RECONCILED_STATUSES]).toEqual(["ABORTED", "TIMED_OUT", "FAILED", "SUCCEEDED"]);
    // The function acts on exactly the statuses the rule sends it.
    const { RECONCILED } = await import("@gantry/functions/reconcile");
    expect([...RECONCILED]).toEqual([...RECONCILED_STATUSES]);
  });
});

describe("the holds' alarm rules", () => {
  it("match the stage's registry alarms entering ALARM, and nothing else", () => {
    expect(holdWatchedAlarms(TWO_SERVICES, "prod").length).toBeGreaterThan(0);
    const [pattern, ...more] = holdAlarmPatterns(holdWatchedAlarms(registry, "prod"));
    expect(more).toEqual([]);
    expect(pattern).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: ["hello-service-prod-errors"], state: { value: ["ALARM"] } },
    });
    // preprod's rule names preprod's alarms only.
    expect(holdWatchedAlarms(registry, "preprod")).toEqual(["hello-service-preprod-errors"]);
  });

  it("split many alarms over rules that each fit EventBridge's pattern limit, none left out", () => {
    const names = Array.from({ length: 200 }, (_, i) => `service-${i}-prod-errors-and-latency`);
    const patterns = holdAlarmPatterns([...names, names[0] as string]);
    expect(patterns.length).toBeGreaterThan(1);
    for (const p of patterns)
      expect(JSON.stringify(p).length).toBeLessThanOrEqual(EVENT_PATTERN_LIMIT);
    const covered = patterns.flatMap((p) => (p.detail as { alarmName: string[] }).alarmName);
    expect(covered.sort()).toEqual([...names].sort());
  });

  it("make no rule for a stage without alarms", () => {
    expect(holdAlarmPatterns([])).toEqual([]);
  });
});
