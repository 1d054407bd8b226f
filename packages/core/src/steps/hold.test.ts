import { describe, expect, it } from "vitest";
import { AlarmTriggered, ConfigurationError } from "../errors.ts";
import type { AlarmStatus } from "../ports.ts";
import { fixedClock, T0, testExecution, testPlan, testRollout } from "../testing/fixtures.ts";
import { MemoryAlarms, MemoryRecords } from "../testing/memory-world.ts";
import {
  type HoldEndEvent,
  type HoldScheduler,
  type HoldWatch,
  holdIdOf,
  holdKeys,
  holdScheduleName,
  holdTimeoutSeconds,
  startHold,
} from "./hold.ts";
import { onAlarmStateChange, onHoldEnd, onHoldEvent } from "./hold-events.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const plan = testPlan();
const execution = testExecution();
const TOKEN = "AQ-task-token-of-the-hold";

/** Schedules kept in a list, as EventBridge Scheduler would keep them. */
class ListScheduler implements HoldScheduler {
  readonly schedules = new Map<string, { at: string; event: HoldEndEvent }>();
  readonly cancelled: string[] = [];
  async scheduleHoldEnd(name: string, at: string, event: HoldEndEvent) {
    if (!this.schedules.has(name)) this.schedules.set(name, { at, event });
  }
  async cancel(name: string) {
    this.cancelled.push(name);
    this.schedules.delete(name);
  }
}

/** The callbacks a Step Functions execution would take, with tokens that can be spent. */
class Callbacks {
  readonly sent: { token: string; kind: "success" | "failure"; error?: string; cause?: string }[] =
    [];
  readonly spent = new Set<string>();
  async sendTaskSuccess(token: string) {
    this.#use(token);
    this.sent.push({ token, kind: "success" });
  }
  async sendTaskFailure(token: string, error: string, cause: string) {
    this.#use(token);
    this.sent.push({ token, kind: "failure", error, cause });
  }
  #use(token: string) {
    if (this.spent.has(token))
      throw Object.assign(new Error("Task Timed Out"), { name: "TaskTimedOut" });
    this.spent.add(token);
  }
}

function world() {
  const records = new MemoryRecords();
  const alarms = new MemoryAlarms();
  alarms.set("hello-prod-errors", "OK");
  alarms.set("hello-prod-latency", "OK");
  const scheduler = new ListScheduler();
  const workflows = new Callbacks();
  const clock = fixedClock(T0);
  return { records, alarms, scheduler, workflows, clock };
}

const rollout = testRollout({ stepIndex: 1, weight: 25, holdEndsAt: iso(T0 + 60_000) });
const holdEvent = (token = TOKEN) => ({ plan, execution, rollout, taskToken: token });

const alarmEvent = (name: string, value = "ALARM", reason = "5xx rate 9%") => ({
  source: "aws.cloudwatch" as const,
  "detail-type": "CloudWatch Alarm State Change" as const,
  time: iso(T0 + 5_000),
  detail: { alarmName: name, state: { value, reason, timestamp: iso(T0 + 5_000) } },
});

describe("startHold", () => {
  it("records the watch and an index entry per alarm, and schedules the hold's end", async () => {
    const w = world();
    const started = await startHold(holdEvent(), w);
    const holdId = holdIdOf(rollout);
    expect(started).toEqual({
      holdId,
      holdEndsAt: rollout.holdEndsAt,
      alarms: plan.alarms,
      schedule: holdScheduleName("prod", execution.id, holdId),
    });
    const watch = (await w.records.get<HoldWatch>(holdKeys.watch(execution.id)))?.value;
    expect(watch).toMatchObject({
      holdId,
      executionArn: execution.id,
      taskToken: TOKEN,
      alarms: plan.alarms,
      holdEndsAt: rollout.holdEndsAt,
      newVersion: rollout.newVersion,
      weight: 25,
    });
    for (const alarm of plan.alarms) {
      const index = await w.records.get(holdKeys.alarmIndex(alarm, execution.id));
      expect(index?.value).toEqual({ executionArn: execution.id, holdId, alarm });
      expect(JSON.stringify(index?.value)).not.toContain(TOKEN);
    }
    expect([...w.scheduler.schedules.values()]).toEqual([
      { at: rollout.holdEndsAt, event: { kind: "hold-end", executionArn: execution.id, holdId } },
    ]);
  });

  it("fails at once with AlarmTriggered when an alarm is already in ALARM (no change event would come)", async () => {
    const w = world();
    w.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms");
    await expect(startHold(holdEvent(), w)).rejects.toThrow(AlarmTriggered);
    await expect(startHold(holdEvent(), w)).rejects.toThrow(
      /hello-prod-latency in ALARM since .* \(p99 above 800 ms\) while version 2 had 25% of traffic/,
    );
  });

  it("reads the alarms only after the watch exists, so a change in between has a watch to find", async () => {
    const w = world();
    const order: string[] = [];
    const records = w.records;
    const put = records.put.bind(records);
    records.put = async (key, value) => {
      order.push(`put ${key.split("/")[1]}`);
      return put(key, value);
    };
    const alarms = {
      describe: async (names: readonly string[]): Promise<AlarmStatus[]> => {
        order.push("describe");
        return w.alarms.describe(names);
      },
    };
    await startHold(holdEvent(), { ...w, alarms });
    expect(order.at(-1)).toBe("describe");
    expect(order.filter((o) => o.startsWith("put"))).toHaveLength(1 + plan.alarms.length);
  });

  it("refuses a rollout watched by an alarm CloudWatch does not know (ConfigurationError)", async () => {
    const w = world();
    w.alarms.states.delete("hello-prod-errors");
    await expect(startHold(holdEvent(), w)).rejects.toThrow(ConfigurationError);
  });

  it("a retried attempt replaces the token and keeps one schedule", async () => {
    const w = world();
    await startHold(holdEvent("first"), w);
    await startHold(holdEvent("second"), w);
    const watch = (await w.records.get<HoldWatch>(holdKeys.watch(execution.id)))?.value;
    expect(watch?.taskToken).toBe("second");
    expect(w.scheduler.schedules.size).toBe(1);
  });

  it("times the Task out a grace period after the hold's end, in whole seconds", () => {
    expect(holdTimeoutSeconds({ timeScale: 1 }, T0, T0 + 60_000)).toBe(120);
    expect(holdTimeoutSeconds({ timeScale: 1 }, T0, T0 + 60_001)).toBe(121);
    expect(holdTimeoutSeconds({ timeScale: 0.01 }, T0, T0 + 600)).toBe(2);
    expect(holdTimeoutSeconds({ timeScale: 1 }, T0, T0 - 5_000)).toBe(61);
  });

  it("names schedules within Scheduler's 64 characters, one per hold", () => {
    const a = holdScheduleName("prod", execution.id, "steps-0-x");
    expect(a).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    expect(holdScheduleName("prod", execution.id, "steps-1-x")).not.toBe(a);
  });
});

describe("hold events", () => {
  it("an alarm entering ALARM fails the watching hold with AlarmTriggered, and removes the watch", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    const result = await onAlarmStateChange(alarmEvent("hello-prod-errors"), w);
    expect(result.ended).toEqual([
      { executionArn: execution.id, holdId: holdIdOf(rollout), how: "alarm" },
    ]);
    expect(w.workflows.sent).toEqual([
      {
        token: TOKEN,
        kind: "failure",
        error: "AlarmTriggered",
        cause: `hello-prod-errors in ALARM since ${iso(T0 + 5_000)} (5xx rate 9%) while version 2 had 25% of traffic`,
      },
    ]);
    expect(await w.records.list("holds/")).toEqual([]);
    expect(w.scheduler.cancelled).toHaveLength(1);
  });

  it("a duplicate alarm event finds no watch and sends nothing more", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    await onAlarmStateChange(alarmEvent("hello-prod-errors"), w);
    const again = await onAlarmStateChange(alarmEvent("hello-prod-errors"), w);
    expect(again).toEqual({ ended: [], ignored: "nobody watches hello-prod-errors" });
    expect(w.workflows.sent).toHaveLength(1);
  });

  it("an event for an alarm nobody watches, or for OK, does nothing", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    expect((await onAlarmStateChange(alarmEvent("someone-elses-alarm"), w)).ended).toEqual([]);
    expect((await onAlarmStateChange(alarmEvent("hello-prod-errors", "OK"), w)).ended).toEqual([]);
    expect(w.workflows.sent).toEqual([]);
    expect((await w.records.list("holds/")).length).toBe(1 + plan.alarms.length);
  });

  it("the hold's schedule completes it; a late schedule (after an alarm ended it) does nothing", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    const [{ event } = { event: undefined }] = [...w.scheduler.schedules.values()];
    if (!event) throw new Error("no schedule");
    const ended = await onHoldEnd(event, w);
    expect(ended.ended).toEqual([
      { executionArn: execution.id, holdId: holdIdOf(rollout), how: "time" },
    ]);
    expect(w.workflows.sent).toEqual([{ token: TOKEN, kind: "success" }]);
    expect(await onHoldEnd(event, w)).toEqual({
      ended: [],
      ignored: "the hold had already ended",
    });
    expect(w.workflows.sent).toHaveLength(1);
  });

  it("a schedule of an earlier hold does not end the execution's next hold", async () => {
    const w = world();
    await startHold(holdEvent("first"), w);
    const [{ event } = { event: undefined }] = [...w.scheduler.schedules.values()];
    if (!event) throw new Error("no schedule");
    const next = testRollout({ stepIndex: 2, weight: 50, holdEndsAt: iso(T0 + 120_000) });
    await startHold({ plan, execution, rollout: next, taskToken: "second" }, w);
    expect((await onHoldEnd(event, w)).ended).toEqual([]);
    expect(w.workflows.sent).toEqual([]);
  });

  it("a token already spent (the Task timed out, the execution ended) is 'already-ended', and the watch goes", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    w.workflows.spent.add(TOKEN);
    const result = await onAlarmStateChange(alarmEvent("hello-prod-latency"), w);
    expect(result.ended.map((e) => e.how)).toEqual(["already-ended"]);
    expect(await w.records.list("holds/")).toEqual([]);
  });

  it("any other failure to deliver is thrown (EventBridge retries the event)", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    const workflows = {
      sendTaskSuccess: async () => undefined,
      sendTaskFailure: async () => {
        throw Object.assign(new Error("rate exceeded"), { name: "ThrottlingException" });
      },
    };
    await expect(
      onAlarmStateChange(alarmEvent("hello-prod-errors"), { ...w, workflows }),
    ).rejects.toThrow("rate exceeded");
    // The watch stays: the retried event can still end the hold.
    expect((await w.records.list("holds/")).length).toBe(1 + plan.alarms.length);
  });

  it("routes events by their shape and ignores anything else", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    expect(await onHoldEvent({ hello: "world" }, w)).toMatchObject({ ended: [] });
    expect(await onHoldEvent(null, w)).toMatchObject({ ended: [] });
    expect((await onHoldEvent(alarmEvent("hello-prod-errors"), w)).ended).toHaveLength(1);
  });
});
