/**
 * The hold function's (HoldTrafficStep's and Bake's) real exported `handler` over mocked AWS SDK
 * clients (functions/testing.ts): the settings it reads, the watch it writes (the only place
 * the task token goes), the schedule it creates, and the alarm read that fails a hold at once.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ConflictException, CreateScheduleCommand } from "@aws-sdk/client-scheduler";
import { holdIdOf, holdKeys, holdScheduleName } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { awsDeps, createHandler, type Deps, handler as hold } from "./hold.ts";
import {
  cloudwatch,
  context,
  EXECUTION,
  iso,
  NOW,
  rolloutOf,
  STATE,
  STATE_BUCKET,
  s3,
  scheduler,
  sentJson,
  setUpHandlerTests,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

const TOKEN = "AQCEAAAAKgAAAA-hold-task-token-that-must-stay-secret-0123456789";
const GROUP = "gantry-prod-holds";
const HOLD_EVENTS = "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-hold-events";
const SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/gantry-prod-hold-scheduler";
const rollout = rolloutOf({ stepIndex: 0, weight: 10, holdEndsAt: iso(NOW + 60_000) });
const event = { ...STATE, rollout, taskToken: TOKEN };
const ALARM = STATE.plan.alarms[0] ?? "";

function alarms(StateValue: "OK" | "ALARM") {
  return {
    MetricAlarms: STATE.plan.alarms.map((AlarmName) => ({
      AlarmName,
      StateValue,
      StateReason: `state ${StateValue}`,
      StateUpdatedTimestamp: new Date(NOW - 5000),
    })),
  };
}

describe("hold", () => {
  // First: the ports are built once and kept, and this one must fail building its scheduler.
  it("fails with ConfigurationError naming a missing setting, having written nothing", async () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    vi.stubEnv("GANTRY_HOLD_SCHEDULE_GROUP", GROUP);
    vi.stubEnv("GANTRY_HOLD_EVENTS_ARN", HOLD_EVENTS);
    const error = await rejectionOf(hold(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toBe("GANTRY_HOLD_SCHEDULER_ROLE_ARN is not set");
    expect(s3.calls()).toHaveLength(0);
    expect(scheduler.calls()).toHaveLength(0);
  });

  describe("configured", () => {
    beforeEach(() => {
      vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
      vi.stubEnv("GANTRY_HOLD_SCHEDULE_GROUP", GROUP);
      vi.stubEnv("GANTRY_HOLD_EVENTS_ARN", HOLD_EVENTS);
      vi.stubEnv("GANTRY_HOLD_SCHEDULER_ROLE_ARN", SCHEDULER_ROLE);
      s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
      scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: "arn:schedule" });
      cloudwatch.on(DescribeAlarmsCommand).resolves(alarms("OK"));
    });

    it("writes the watch with the token, the alarm index without it, then schedules the end", async () => {
      const holdId = holdIdOf(rollout);
      const schedule = holdScheduleName("prod", EXECUTION.id, holdId);
      const started = await hold(event, context);
      expect(started).toEqual({
        holdId,
        holdEndsAt: rollout.holdEndsAt,
        alarms: STATE.plan.alarms,
        schedule,
      });
      const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
      expect(puts.map((p) => [p.Bucket, p.Key])).toEqual([
        [STATE_BUCKET, holdKeys.watch(EXECUTION.id)],
        ...STATE.plan.alarms.map((a) => [STATE_BUCKET, holdKeys.alarmIndex(a, EXECUTION.id)]),
      ]);
      expect(sentJson(puts[0]?.Body)).toMatchObject({ taskToken: TOKEN, holdId, schedule });
      for (const put of puts.slice(1)) expect(String(put.Body)).not.toContain(TOKEN);

      const created = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
      expect(created).toMatchObject({
        Name: schedule,
        GroupName: GROUP,
        ScheduleExpression: `at(${iso(NOW + 60_000).slice(0, 19)})`,
        Target: { Arn: HOLD_EVENTS, RoleArn: SCHEDULER_ROLE },
      });
      expect(sentJson(created?.Target?.Input)).toEqual({
        kind: "hold-end",
        executionArn: EXECUTION.id,
        holdId,
      });
      expect(JSON.stringify(created)).not.toContain(TOKEN);
      // The alarms are read after the watch exists (a change after the read finds it).
      expect(cloudwatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(1);
    });

    it("leaves a schedule an earlier attempt created", async () => {
      scheduler.on(CreateScheduleCommand).rejects(
        new ConflictException({
          $metadata: { httpStatusCode: 409 },
          message: "exists",
          Message: "exists",
        }),
      );
      await expect(hold(event, context)).resolves.toMatchObject({ holdId: holdIdOf(rollout) });
    });

    it("fails with AlarmTriggered when a watched alarm is already in ALARM", async () => {
      cloudwatch.on(DescribeAlarmsCommand).resolves(alarms("ALARM"));
      const error = await rejectionOf(hold(event, context));
      expect(error.name).toBe("AlarmTriggered");
      expect(error.message).toContain(`${ALARM} in ALARM`);
    });

    it("never logs the task token, even at DEBUG with event logging asked for", async () => {
      vi.stubEnv("POWERTOOLS_LOGGER_LOG_EVENT", "true");
      const chunks: string[] = [];
      const capture = (chunk: unknown) => {
        chunks.push(String(chunk));
        return true;
      };
      vi.spyOn(process.stdout, "write").mockImplementation(capture);
      vi.spyOn(process.stderr, "write").mockImplementation(capture);
      // The real ports with a logger that prints everything (the module's own is SILENT here).
      const log = new Logger({ serviceName: "gantry", logLevel: "DEBUG" });
      const deps = Object.create(awsDeps(), { log: { value: log } }) as Deps;
      await createHandler(deps)(event, context);
      cloudwatch.on(DescribeAlarmsCommand).resolves(alarms("ALARM"));
      await rejectionOf(createHandler(deps)(event, context));
      const output = chunks.join("");
      expect(output).toContain("hold started");
      expect(output).toContain("step failed");
      expect(output).not.toContain(TOKEN);
    });
  });
});
