import type { HoldEndEvent, HoldScheduler } from "../steps/hold.ts";
import { fixedClock, T0 } from "./fixtures.ts";
import { MemoryAlarms, MemoryRecords } from "./memory-world.ts";

/** Schedules kept in a list, as EventBridge Scheduler would keep them. */
export class ListScheduler implements HoldScheduler {
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

/** SendTaskSuccess / SendTaskFailure as Step Functions takes them: a token is spent once used. */
export class TokenCallbacks {
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

/**
 * What startHold and onHoldEvent take, in memory: prod's two alarms OK, an empty state bucket,
 * the schedules in a list, tokens that can be spent, the clock at `now`.
 *
 * @example
 * ```ts
 * const w = holdWorld();
 * await startHold({ plan, execution, rollout, taskToken: "t" }, w);
 * ```
 */
export function holdWorld(now = T0) {
  const alarms = new MemoryAlarms();
  alarms.set("hello-prod-errors", "OK");
  alarms.set("hello-prod-latency", "OK");
  return {
    records: new MemoryRecords(),
    alarms,
    scheduler: new ListScheduler(),
    workflows: new TokenCallbacks(),
    clock: fixedClock(now),
  };
}
