import type { FunctionControl } from "@gantry/core";

export interface TrafficTarget {
  readonly functionName: string;
  readonly alias: string;
  /** Events replayed in turn. */
  readonly events: readonly unknown[];
}

/**
 * Steady synthetic traffic: invokes every target alias at a fixed rate, cycling through its
 * events, so metrics (and therefore alarms) come from real invocations of whatever versions the
 * aliases route to. A bad version trips its alarm by itself, as it would under real users.
 *
 * @example
 * ```ts
 * const traffic = new TrafficGenerator(functions, [{ functionName: "hello-prod", alias: "live", events }], 20);
 * traffic.start();
 * ```
 */
export class TrafficGenerator {
  readonly #functions: Pick<FunctionControl, "invoke">;
  readonly #targets: readonly TrafficTarget[];
  readonly #ratePerSecond: number;
  readonly #cursor = new Map<TrafficTarget, number>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;

  constructor(
    functions: Pick<FunctionControl, "invoke">,
    targets: readonly TrafficTarget[],
    ratePerSecond: number,
  ) {
    this.#functions = functions;
    this.#targets = targets.filter((t) => t.events.length > 0);
    this.#ratePerSecond = ratePerSecond;
  }

  start(): void {
    if (this.#timer || this.#ratePerSecond <= 0 || this.#targets.length === 0) return;
    this.#timer = setInterval(
      () => this.tick(),
      Math.max(10, Math.round(1000 / this.#ratePerSecond)),
    );
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One request to every target (skipped while too many are still running). */
  tick(): void {
    for (const target of this.#targets) {
      if (this.#inFlight > 50) return;
      const index = this.#cursor.get(target) ?? 0;
      this.#cursor.set(target, (index + 1) % target.events.length);
      this.#inFlight++;
      this.#functions
        .invoke(target.functionName, target.alias, target.events[index])
        .catch(() => undefined) // a missing alias or a crashed handler is the metrics' business
        .finally(() => this.#inFlight--);
    }
  }
}
