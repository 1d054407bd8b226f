import { describe, expect, it } from "vitest";
import { T0, testExecution, testPlan, testRollout } from "../testing/fixtures.ts";
import { holdWorld } from "../testing/holds.ts";
import { holdIdOf, startHold } from "./hold.ts";
import { onAlarmStateChange, onHoldEnd, onHoldEvent } from "./hold-events.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const plan = testPlan();
const execution = testExecution();
const TOKEN = "AQ-task-token-of-the-hold";

const world = () => holdWorld();

const rollout = testRollout({ stepIndex: 1, weight: 25, holdEndsAt: iso(T0 + 60_000) });
const holdEvent = (token = TOKEN) => ({ plan, execution, rollout, taskToken: token });

const alarmEvent = (name: string, value = "ALARM", reason = "5xx rate 9%") => ({
  source: "aws.cloudwatch" as const,
  "detail-type": "CloudWatch Alarm State Change" as const,
  time: iso(T0 + 5_000),
  detail: { alarmName: name, state: { value, reason, timestamp: iso(T0 + 5_000) } },
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
