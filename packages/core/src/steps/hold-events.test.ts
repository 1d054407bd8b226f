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

describe("hold events that are not quite what they claim", () => {
  const holdEnd = (over: Record<string, unknown> = {}) => ({
    kind: "hold-end",
    executionArn: execution.id,
    holdId: holdIdOf(rollout),
    ...over,
  });

  it.each([
    ["a hold end without its execution", holdEnd({ executionArn: 7 })],
    ["a hold end without its hold id", holdEnd({ holdId: undefined })],
    ["a hold end of another kind", holdEnd({ kind: "hold-start" })],
    ["an alarm change from another source", { ...alarmEvent("hello-prod-errors"), source: "x" }],
    [
      "an alarm change of another type",
      { ...alarmEvent("hello-prod-errors"), "detail-type": "EC2 Instance State-change" },
    ],
    [
      "an alarm change without the alarm's name",
      { ...alarmEvent("hello-prod-errors"), detail: { state: { value: "ALARM" } } },
    ],
    [
      "an alarm change without a state",
      { ...alarmEvent("hello-prod-errors"), detail: { alarmName: "hello-prod-errors" } },
    ],
  ])("%s ends nothing and leaves the watch", async (_name, event) => {
    const w = world();
    await startHold(holdEvent(), w);
    const result = await onHoldEvent(event, w);
    expect(result).toEqual({ ended: [], ignored: "not an alarm state change or a hold's end" });
    expect(w.workflows.sent).toEqual([]);
    expect((await w.records.list("holds/")).length).toBe(1 + plan.alarms.length);
  });

  it("without a timestamp, the cause says the event's time; without either, the clock's", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    const { time: _time, ...noTime } = alarmEvent("hello-prod-errors");
    await onAlarmStateChange(
      { ...noTime, detail: { alarmName: "hello-prod-errors", state: { value: "ALARM" } } },
      w,
    );
    expect(w.workflows.sent[0]?.cause).toBe(
      `hello-prod-errors in ALARM since ${iso(T0)} (state change event) while version 2 had 25% of traffic`,
    );
  });

  it("a stale index entry (its hold is over, the watch is another hold's) is removed, and the other hold's watch stays", async () => {
    const w = world();
    await startHold(holdEvent("first"), w);
    const next = testRollout({ stepIndex: 2, weight: 50, holdEndsAt: iso(T0 + 120_000) });
    // The next hold watches only the latency alarm: the errors alarm's entry is the first hold's.
    await startHold(
      {
        plan: { ...plan, alarms: ["hello-prod-latency"] },
        execution,
        rollout: next,
        taskToken: "second",
      },
      w,
    );
    const result = await onAlarmStateChange(alarmEvent("hello-prod-errors"), w);
    expect(result.ended).toEqual([]);
    expect(w.workflows.sent).toEqual([]);
    const left = await w.records.list("holds/");
    expect(left).toHaveLength(2); // the second hold's watch and its one index entry
  });

  it("ending a hold removes only its own records, not a later hold's that replaced them", async () => {
    const w = world();
    await startHold(holdEvent("first"), w);
    const [first] = [...w.scheduler.schedules.values()];
    const next = testRollout({ stepIndex: 2, weight: 50, holdEndsAt: iso(T0 + 120_000) });
    await startHold({ plan, execution, rollout: next, taskToken: "second" }, w);
    await onAlarmStateChange(alarmEvent("hello-prod-latency"), w);
    expect(w.workflows.sent.map((s) => s.token)).toEqual(["second"]);
    expect(await w.records.list("holds/")).toEqual([]);
    // The first hold's late schedule finds nothing to end.
    if (!first) throw new Error("no schedule");
    expect((await onHoldEnd(first.event, w)).ended).toEqual([]);
  });

  it("a schedule that cannot be cancelled does not stop the hold from ending", async () => {
    const w = world();
    await startHold(holdEvent(), w);
    const warnings: string[] = [];
    const result = await onAlarmStateChange(alarmEvent("hello-prod-errors"), {
      ...w,
      scheduler: {
        cancel: async () => {
          throw new Error("scheduler unavailable");
        },
      },
      log: {
        info: () => undefined,
        warn: (message: string) => warnings.push(message),
        error: () => undefined,
        debug: () => undefined,
      } as never,
    });
    expect(result.ended.map((e) => e.how)).toEqual(["alarm"]);
    expect(warnings).toEqual(["could not cancel the hold's schedule"]);
    expect(await w.records.list("holds/")).toEqual([]);
  });
});
