import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  SchedulerServiceException,
  ValidationException,
} from "@aws-sdk/client-scheduler";
import { ConfigurationError, type HoldEndEvent, TransientError } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { atExpression, EventBridgeHoldScheduler, HOLD_END_RETRY } from "./scheduler.ts";

const NOW = Date.parse("2026-11-01T12:00:00.000Z");
const GROUP = "gantry-prod-holds";
const TARGET = {
  functionArn: "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-hold-events",
  roleArn: "arn:aws:iam::123456789012:role/gantry-prod-hold-scheduler",
};
const EVENT: HoldEndEvent = {
  kind: "hold-end",
  executionArn: "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:run-1",
  holdId: "steps-0-2026-11-01T12:10:00.000Z",
};
const NAME = "gantry-prod-hold-0123456789abcdef0123456789abcdef01234567";
const meta = { $metadata: { httpStatusCode: 400 } };

let client: SchedulerClient;
let mock: AwsClientStub<SchedulerClient>;
let scheduler: EventBridgeHoldScheduler;

beforeEach(() => {
  client = new SchedulerClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(client);
  scheduler = new EventBridgeHoldScheduler(client, {
    groupName: GROUP,
    target: TARGET,
    now: () => NOW,
  });
});

describe("atExpression", () => {
  it("writes the time in UTC to the second", () => {
    expect(atExpression("2026-11-01T12:10:00.000Z", NOW)).toBe("at(2026-11-01T12:10:00)");
    // An offset is converted, not dropped.
    expect(atExpression("2026-11-01T14:10:00+02:00", NOW)).toBe("at(2026-11-01T12:10:00)");
  });

  it("rounds a fraction of a second up: the schedule never fires before the hold is over", () => {
    expect(atExpression("2026-11-01T12:10:00.001Z", NOW)).toBe("at(2026-11-01T12:10:01)");
    expect(atExpression("2026-11-01T12:10:59.999Z", NOW)).toBe("at(2026-11-01T12:11:00)");
  });

  it("puts a time already past (or too close) a few seconds ahead of now", () => {
    expect(atExpression("2026-11-01T11:00:00.000Z", NOW)).toBe("at(2026-11-01T12:00:05)");
    expect(atExpression("2026-11-01T12:00:02.000Z", NOW)).toBe("at(2026-11-01T12:00:05)");
    expect(atExpression("2026-11-01T12:00:05.500Z", NOW)).toBe("at(2026-11-01T12:00:06)");
  });

  it("refuses what is not a time", () => {
    expect(() => atExpression("soon", NOW)).toThrow(TypeError);
  });
});

describe("EventBridgeHoldScheduler.scheduleHoldEnd", () => {
  it("creates a one-time UTC schedule that invokes hold-events with the event, then deletes itself", async () => {
    mock.on(CreateScheduleCommand).resolves({ ScheduleArn: "arn:schedule" });
    await scheduler.scheduleHoldEnd(NAME, "2026-11-01T12:10:00.000Z", EVENT);
    expect(mock.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: NAME,
      GroupName: GROUP,
      Description: `Ends Gantry hold ${EVENT.holdId}`,
      ScheduleExpression: "at(2026-11-01T12:10:00)",
      ScheduleExpressionTimezone: "UTC",
      FlexibleTimeWindow: { Mode: "OFF" },
      ActionAfterCompletion: "DELETE",
      State: "ENABLED",
      Target: {
        Arn: TARGET.functionArn,
        RoleArn: TARGET.roleArn,
        Input: JSON.stringify(EVENT),
        RetryPolicy: HOLD_END_RETRY,
      },
    });
  });

  it("delivers exactly the hold's end event (no task token: it never leaves the state bucket)", async () => {
    mock.on(CreateScheduleCommand).resolves({});
    await scheduler.scheduleHoldEnd(NAME, "2026-11-01T12:10:00.000Z", EVENT);
    const input = mock.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target?.Input;
    expect(JSON.parse(input ?? "")).toEqual(EVENT);
  });

  it("takes an existing schedule of the same name as already scheduled", async () => {
    mock.on(CreateScheduleCommand).rejects(
      new ConflictException({
        ...meta,
        message: "Schedule already exists",
        Message: "Schedule already exists",
      }),
    );
    await expect(
      scheduler.scheduleHoldEnd(NAME, "2026-11-01T12:10:00.000Z", EVENT),
    ).resolves.toBeUndefined();
  });

  it("passes other refusals through", async () => {
    const original = new ValidationException({
      ...meta,
      message: "bad expression",
      Message: "bad expression",
    });
    mock.on(CreateScheduleCommand).rejects(original);
    await expect(scheduler.scheduleHoldEnd(NAME, "2026-11-01T12:10:00Z", EVENT)).rejects.toBe(
      original,
    );
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = new SchedulerServiceException({
      name: "ThrottlingException",
      message: "Rate exceeded",
      $fault: "client",
      $metadata: { httpStatusCode: 429 },
    });
    mock.on(CreateScheduleCommand).rejects(original);
    const error = await rejectionOf(scheduler.scheduleHoldEnd(NAME, "2026-11-01T12:10:00Z", EVENT));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("refuses a bad name, a bad time or a missing target before calling Scheduler", async () => {
    await expect(
      scheduler.scheduleHoldEnd("has space", "2026-11-01T12:10:00Z", EVENT),
    ).rejects.toThrow(TypeError);
    await expect(
      scheduler.scheduleHoldEnd("x".repeat(65), "2026-11-01T12:10:00Z", EVENT),
    ).rejects.toThrow(TypeError);
    await expect(scheduler.scheduleHoldEnd(NAME, "later", EVENT)).rejects.toThrow(TypeError);
    const untargeted = new EventBridgeHoldScheduler(client, { groupName: GROUP });
    await expect(
      untargeted.scheduleHoldEnd(NAME, "2026-11-01T12:10:00Z", EVENT),
    ).rejects.toBeInstanceOf(ConfigurationError);
    expect(mock.calls()).toHaveLength(0);
  });

  it("reads the clock it is given, else the system's", async () => {
    mock.on(CreateScheduleCommand).resolves({});
    const real = new EventBridgeHoldScheduler(client, { groupName: GROUP, target: TARGET });
    await real.scheduleHoldEnd(NAME, "2000-01-01T00:00:00Z", EVENT);
    const expression =
      mock.commandCalls(CreateScheduleCommand)[0]?.args[0].input.ScheduleExpression;
    const fires = Date.parse(`${expression?.slice(3, -1)}Z`);
    expect(fires).toBeGreaterThan(Date.now());
  });
});

describe("EventBridgeHoldScheduler.cancel", () => {
  it("deletes the schedule from the stage's group", async () => {
    mock.on(DeleteScheduleCommand).resolves({});
    await scheduler.cancel(NAME);
    expect(mock.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({
      Name: NAME,
      GroupName: GROUP,
    });
  });

  it("needs no target (hold-events only cancels)", async () => {
    mock.on(DeleteScheduleCommand).resolves({});
    await new EventBridgeHoldScheduler(client, { groupName: GROUP }).cancel(NAME);
    expect(mock.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
  });

  it("is done when the schedule fired (and deleted itself) or never existed", async () => {
    mock.on(DeleteScheduleCommand).rejects(
      new ResourceNotFoundException({
        ...meta,
        message: "Schedule not found",
        Message: "Schedule not found",
      }),
    );
    await expect(scheduler.cancel(NAME)).resolves.toBeUndefined();
  });

  it("passes other errors through, and refuses a bad name before calling", async () => {
    const original = new ValidationException({ ...meta, message: "nope", Message: "nope" });
    mock.on(DeleteScheduleCommand).rejects(original);
    await expect(scheduler.cancel(NAME)).rejects.toBe(original);
    await expect(scheduler.cancel("a/b")).rejects.toThrow(TypeError);
    expect(mock.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
  });
});
