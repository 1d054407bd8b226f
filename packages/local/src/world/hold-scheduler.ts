import type { HoldEndEvent, HoldScheduler } from "@gantry/core";

/** Where a schedule's event goes when it fires: the stage's hold-events function. */
export type ScheduleTarget = (event: HoldEndEvent) => Promise<unknown>;

/**
 * EventBridge Scheduler's one-time schedules, locally: a timer per schedule name that delivers
 * its event to the target at the given time (scaled plans give scaled times, so nothing here
 * scales). Like `ActionAfterCompletion: DELETE`, a schedule is gone once it fired.
 *
 * Timers do not survive a restart; neither do the executions waiting on them (the restarted
 * plane ends them, ControlPlaneRestarted), and a hold that never gets its callback times out.
 *
 * @example
 * ```ts
 * const scheduler = new LocalHoldScheduler();
 * scheduler.connect((event) => holdEvents(event));
 * await scheduler.scheduleHoldEnd("gantry-prod-hold-1", new Date(Date.now() + 500).toISOString(), event);
 * ```
 */
export class LocalHoldScheduler implements HoldScheduler {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #onError: (error: unknown) => void;
  #target: ScheduleTarget | undefined;

  constructor(options: { onError?: (error: unknown) => void } = {}) {
    this.#onError = options.onError ?? ((error) => console.warn(`[scheduler] ${String(error)}`));
  }

  /** Sets where fired schedules deliver (the hold-events function is built after the world). */
  connect(target: ScheduleTarget): void {
    this.#target = target;
  }

  async scheduleHoldEnd(name: string, at: string, event: HoldEndEvent): Promise<void> {
    const when = Date.parse(at);
    if (!Number.isFinite(when)) throw new TypeError(`schedule ${name}: not a time: ${at}`);
    if (this.#timers.has(name)) return; // as Scheduler's ConflictException: already scheduled
    const timer = setTimeout(
      () => {
        this.#timers.delete(name);
        const target = this.#target;
        if (!target) return this.#onError(new Error(`schedule ${name} fired with no target`));
        target(event).catch(this.#onError);
      },
      Math.max(0, when - Date.now()),
    );
    timer.unref();
    this.#timers.set(name, timer);
  }

  async cancel(name: string): Promise<void> {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }

  /** The names of the schedules that have not fired yet (tests, the console). */
  pending(): string[] {
    return [...this.#timers.keys()];
  }

  /** Drops every schedule (the plane is closing). */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
