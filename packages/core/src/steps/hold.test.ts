import { describe, expect, it } from "vitest";
import { AlarmTriggered, ConfigurationError } from "../errors.ts";
import type { AlarmStatus } from "../ports.ts";
import { T0, testExecution, testPlan, testRollout } from "../testing/fixtures.ts";
import { holdWorld } from "../testing/holds.ts";
import {
  type HoldWatch,
  holdIdOf,
  holdKeys,
  holdScheduleName,
  holdTimeoutSeconds,
  startHold,
  watchedAlarms,
} from "./hold.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const plan = testPlan();
const execution = testExecution();
const TOKEN = "AQ-task-token-of-the-hold";

const world = () => holdWorld();

const rollout = testRollout({ stepIndex: 1, weight: 25, holdEndsAt: iso(T0 + 60_000) });
const holdEvent = (token = TOKEN) => ({ plan, execution, rollout, taskToken: token });

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

  it("logs the hold it started: id, end and the alarms watched (never the token)", async () => {
    const w = world();
    const lines: unknown[][] = [];
    const record = (...line: unknown[]) => {
      lines.push(line);
    };
    const log = { debug: record, info: record, warn: record, error: record };
    await startHold(holdEvent(), { ...w, log });
    expect(lines).toEqual([
      [
        "hold started",
        { holdId: holdIdOf(rollout), holdEndsAt: rollout.holdEndsAt, alarms: plan.alarms },
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });

  it("needs the task token before it writes anything", async () => {
    const w = world();
    await expect(startHold(holdEvent(""), w)).rejects.toThrow(
      new TypeError("startHold needs the task token ($$.Task.Token)"),
    );
    expect(w.records.data.size).toBe(0);
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

  it("a fix's alarm neither fails the hold at its start nor gets an index entry; the others still do", async () => {
    const w = world();
    const fixPlan = { ...plan, fixFor: ["hello-prod-errors"] };
    w.alarms.set("hello-prod-errors", "ALARM", "the incident the fix is for");
    const started = await startHold({ ...holdEvent(), plan: fixPlan }, w);
    expect(started.alarms).toEqual(["hello-prod-latency"]);
    const watch = (await w.records.get<HoldWatch>(holdKeys.watch(execution.id)))?.value;
    expect(watch?.alarms).toEqual(["hello-prod-latency"]);
    expect(await w.records.get(holdKeys.alarmIndex("hello-prod-errors", execution.id))).toBe(
      undefined,
    );
    expect(
      await w.records.get(holdKeys.alarmIndex("hello-prod-latency", execution.id)),
    ).toBeDefined();

    w.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms");
    await expect(startHold({ ...holdEvent(), plan: fixPlan }, w)).rejects.toThrow(
      /^hello-prod-latency in ALARM since .* \(p99 above 800 ms\) while version 2 had 25% of traffic$/,
    );
  });
});

describe("watchedAlarms", () => {
  it("is the stage's alarms except the fix's, in the registry's order", () => {
    expect(watchedAlarms({ alarms: ["a", "b", "c"], fixFor: ["c", "a"] })).toEqual(["b"]);
    expect(watchedAlarms({ alarms: ["a", "b"], fixFor: [] })).toEqual(["a", "b"]);
  });

  it("watches every alarm in a state written before fixFor existed", () => {
    expect(watchedAlarms({ alarms: ["a", "b"] })).toEqual(["a", "b"]);
  });
});
