import type { HoldEndEvent, HoldScheduler } from "../steps/hold.ts";

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
