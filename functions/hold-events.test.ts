/**
 * hold-events' real exported `handler` over mocked AWS SDK clients (functions/testing.ts): an
 * alarm entering ALARM fails the holds watching it, a hold's schedule completes it, and
 * whatever ends a hold removes its watch and cancels its schedule in the stage's group.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { DeleteScheduleCommand, ResourceNotFoundException } from "@aws-sdk/client-scheduler";
import { SendTaskFailureCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { type HoldAlarmIndex, type HoldWatch, holdKeys } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as holdEvents } from "./hold-events.ts";
import {
  awsError,
  body,
  context,
  EXECUTION,
  iso,
  NOW,
  STATE_BUCKET,
  s3,
  scheduler,
  setUpHandlerTests,
  sfn,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

const TOKEN = "AQCEAAAAKgAAAA-hold-task-token-0123456789";
const GROUP = "gantry-prod-holds";
const ALARM = "hello-service-prod-errors";
const HOLD_ID = `steps-0-${iso(NOW + 60_000)}`;
const SCHEDULE = "gantry-prod-hold-0123456789abcdef0123456789abcdef01234567";
const WATCH: HoldWatch = {
  holdId: HOLD_ID,
  executionArn: EXECUTION.id,
  taskToken: TOKEN,
  alarms: [ALARM],
  holdEndsAt: iso(NOW + 60_000),
  service: "hello-service",
  stage: "prod",
  newVersion: "7",
  weight: 10,
  phase: "steps",
  schedule: SCHEDULE,
  startedAt: iso(NOW - 1000),
};
const INDEX: HoldAlarmIndex = { executionArn: EXECUTION.id, holdId: HOLD_ID, alarm: ALARM };

const alarmEvent = (value: string) => ({
  version: "0",
  id: "e-1",
  source: "aws.cloudwatch",
  "detail-type": "CloudWatch Alarm State Change",
  account: "123456789012",
  time: iso(NOW),
  region: "us-east-1",
  resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${ALARM}`],
  detail: {
    alarmName: ALARM,
    state: { value, reason: "Threshold Crossed", timestamp: iso(NOW - 2000) },
    previousState: { value: "OK" },
  },
});
const holdEnd = { kind: "hold-end", executionArn: EXECUTION.id, holdId: HOLD_ID };

/** The state bucket as the mocked S3 client answers it: key → JSON, each with its ETag. */
const objects = new Map<string, string>();

function bucketOf(entries: Record<string, unknown>) {
  objects.clear();
  for (const [key, value] of Object.entries(entries)) objects.set(key, JSON.stringify(value));
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    const value = objects.get(input.Key);
    if (value === undefined) throw awsError("NoSuchKey", 404);
    return { Body: body(JSON.parse(value)), ETag: `"${input.Key}"` };
  });
  s3.on(ListObjectsV2Command).callsFake(async (input: { Prefix: string }) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key })),
  }));
  s3.on(DeleteObjectCommand).callsFake(async (input: { Key: string }) => {
    objects.delete(input.Key);
    return {};
  });
}

const watched = () =>
  bucketOf({
    [holdKeys.watch(EXECUTION.id)]: WATCH,
    [holdKeys.alarmIndex(ALARM, EXECUTION.id)]: INDEX,
  });

describe("hold-events", () => {
  // First: the ports are built once and kept, and this one must fail building its scheduler.
  it("fails with ConfigurationError naming a missing setting before ending any hold", async () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    watched();
    const error = await rejectionOf(holdEvents(holdEnd, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toBe("GANTRY_HOLD_SCHEDULE_GROUP is not set");
    expect(sfn.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  describe("configured", () => {
    beforeEach(() => {
      vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
      vi.stubEnv("GANTRY_HOLD_SCHEDULE_GROUP", GROUP);
      sfn.on(SendTaskSuccessCommand).resolves({});
      sfn.on(SendTaskFailureCommand).resolves({});
      scheduler.on(DeleteScheduleCommand).resolves({});
      watched();
    });

    it("fails the hold of an alarm that entered ALARM, removes its watch and cancels its schedule", async () => {
      const result = await holdEvents(alarmEvent("ALARM"), context);
      expect(result).toEqual({
        ended: [{ executionArn: EXECUTION.id, holdId: HOLD_ID, how: "alarm" }],
      });
      const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
      expect(failure).toMatchObject({ taskToken: TOKEN, error: "AlarmTriggered" });
      expect(failure?.cause).toContain(`${ALARM} in ALARM since ${iso(NOW - 2000)}`);
      expect(failure?.cause).toContain("version 7 had 10% of traffic");
      expect(objects.size).toBe(0);
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({
        Name: SCHEDULE,
        GroupName: GROUP,
      });
      // The alarm's hashed index prefix is what it lists, in the state bucket.
      expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({
        Bucket: STATE_BUCKET,
        Prefix: holdKeys.alarmIndexOf(ALARM),
      });
    });

    it("completes the hold its schedule ends", async () => {
      const result = await holdEvents(holdEnd, context);
      expect(result).toEqual({
        ended: [{ executionArn: EXECUTION.id, holdId: HOLD_ID, how: "time" }],
      });
      expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe(TOKEN);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
      expect(objects.size).toBe(0);
    });

    it("takes a spent token as a hold that already ended, and still cleans up", async () => {
      sfn.on(SendTaskSuccessCommand).rejects(awsError("TaskTimedOut", 400));
      scheduler
        .on(DeleteScheduleCommand)
        .rejects(
          new ResourceNotFoundException({ $metadata: {}, message: "gone", Message: "gone" }),
        );
      const result = await holdEvents(holdEnd, context);
      expect(result).toMatchObject({ ended: [{ how: "already-ended" }] });
      expect(objects.size).toBe(0);
    });

    it("does nothing for OK, for an alarm nobody watches, or for another hold's schedule", async () => {
      await expect(holdEvents(alarmEvent("OK"), context)).resolves.toMatchObject({ ended: [] });
      await expect(
        holdEvents({ ...holdEnd, holdId: "steps-1-later" }, context),
      ).resolves.toMatchObject({ ended: [], ignored: "the hold had already ended" });
      objects.clear();
      await expect(holdEvents(alarmEvent("ALARM"), context)).resolves.toMatchObject({
        ended: [],
      });
      expect(sfn.calls()).toHaveLength(0);
      expect(scheduler.calls()).toHaveLength(0);
    });

    it("ignores what is not a hold event, without a call", async () => {
      await expect(holdEvents({ source: "aws.s3" }, context)).resolves.toMatchObject({
        ended: [],
      });
      expect(s3.calls()).toHaveLength(0);
    });

    it("lets a throttled callback fail the invocation as TransientError (the sender retries)", async () => {
      sfn.on(SendTaskFailureCommand).rejects(
        Object.assign(new Error("Rate exceeded"), {
          name: "ThrottlingException",
          $metadata: { httpStatusCode: 400 },
        }),
      );
      const error = await rejectionOf(holdEvents(alarmEvent("ALARM"), context));
      expect(error.name).toBe("TransientError");
      // The watch stays for the retry.
      expect(objects.has(holdKeys.watch(EXECUTION.id))).toBe(true);
    });
  });
});
