/**
 * EventBridgeHoldScheduler against moto's EventBridge Scheduler: the schedule a hold creates
 * (as the service stores it), creating it twice, and cancelling it, fired or not.
 */
import {
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { EventBridgeHoldScheduler } from "@gantry/aws";
import type { HoldEndEvent } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsConfig, MOTO_ACCOUNT, type Moto, startMoto } from "../support/moto.ts";

const GROUP = "gantry-prod-holds";
const TARGET = {
  functionArn: `arn:aws:lambda:us-east-1:${MOTO_ACCOUNT}:function:gantry-prod-hold-events`,
  roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gantry-prod-hold-scheduler`,
};
const NOW = Date.parse("2026-11-01T12:00:00.000Z");
const EVENT: HoldEndEvent = {
  kind: "hold-end",
  executionArn: `arn:aws:states:us-east-1:${MOTO_ACCOUNT}:execution:gantry-prod:run-1`,
  holdId: "steps-0-2026-11-01T12:10:00.000Z",
};

let moto: Moto;
let client: SchedulerClient;
let scheduler: EventBridgeHoldScheduler;

beforeAll(async () => {
  moto = await startMoto();
  client = new SchedulerClient(awsConfig(moto.endpoint));
  await client.send(new CreateScheduleGroupCommand({ Name: GROUP }));
  scheduler = new EventBridgeHoldScheduler(client, {
    groupName: GROUP,
    target: TARGET,
    now: () => NOW,
  });
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

const stored = (name: string) =>
  client.send(new GetScheduleCommand({ Name: name, GroupName: GROUP }));

describe("EventBridgeHoldScheduler on moto", () => {
  it("creates the hold's one-time schedule in the stage's group, as the service stores it", async () => {
    await scheduler.scheduleHoldEnd("gantry-prod-hold-a", "2026-11-01T12:10:00.400Z", EVENT);
    const schedule = await stored("gantry-prod-hold-a");
    expect(schedule).toMatchObject({
      Name: "gantry-prod-hold-a",
      GroupName: GROUP,
      Arn: `arn:aws:scheduler:us-east-1:${MOTO_ACCOUNT}:schedule/${GROUP}/gantry-prod-hold-a`,
      ScheduleExpression: "at(2026-11-01T12:10:01)",
      ScheduleExpressionTimezone: "UTC",
      FlexibleTimeWindow: { Mode: "OFF" },
      ActionAfterCompletion: "DELETE",
      State: "ENABLED",
      Target: { Arn: TARGET.functionArn, RoleArn: TARGET.roleArn },
    });
    expect(JSON.parse(schedule.Target?.Input ?? "")).toEqual(EVENT);
  });

  it("leaves a schedule that already exists (a retried hold) as it is", async () => {
    await scheduler.scheduleHoldEnd("gantry-prod-hold-b", "2026-11-01T12:10:00Z", EVENT);
    await expect(
      scheduler.scheduleHoldEnd("gantry-prod-hold-b", "2026-11-01T12:20:00Z", EVENT),
    ).resolves.toBeUndefined();
    expect((await stored("gantry-prod-hold-b")).ScheduleExpression).toBe("at(2026-11-01T12:10:00)");
  });

  it("cancels a schedule, and takes one that is gone (fired, or never made) as cancelled", async () => {
    await scheduler.scheduleHoldEnd("gantry-prod-hold-c", "2026-11-01T12:10:00Z", EVENT);
    await scheduler.cancel("gantry-prod-hold-c");
    await expect(stored("gantry-prod-hold-c")).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    await expect(scheduler.cancel("gantry-prod-hold-c")).resolves.toBeUndefined();
  });
});
