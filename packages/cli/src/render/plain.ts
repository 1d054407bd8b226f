import type { DeploymentProgress, DeploymentUpdate } from "@gantry/core";
import type { OutputStream } from "../io.ts";
import type { DeploymentSummary } from "../summary.ts";
import { isoTime } from "./format.ts";
import type { Renderer } from "./renderer.ts";
import { describeSummary, describeUpdate, type RenderContext } from "./text.ts";

/**
 * For CI logs: one line per thing that happened, each starting with the event's ISO 8601 UTC
 * time. No colour, no cursor movement.
 *
 * @example
 * ```
 * 2026-11-22T05:31:44.126Z  Deploy done (9 ms)
 * 2026-11-22T05:31:44.126Z  traffic: 10% on version 2, 90% on version 1
 * ```
 */
export class PlainRenderer implements Renderer {
  readonly #out: OutputStream;
  readonly #err: OutputStream;
  readonly #context: RenderContext;
  readonly #now: () => number;

  constructor(out: OutputStream, err: OutputStream, context: RenderContext, now: () => number) {
    this.#out = out;
    this.#err = err;
    this.#context = context;
    this.#now = now;
  }

  intro(lines: readonly string[]): void {
    for (const line of lines) this.#line(this.#now(), line);
  }

  /**
   * A state that started and ended within one batch gets one line (its end, with how long it
   * took) instead of two; one still running when the batch ends gets its "started" line.
   */
  update(updates: readonly DeploymentUpdate[], _progress: DeploymentProgress): void {
    let pending: Extract<DeploymentUpdate, { kind: "state-entered" }> | undefined;
    const flush = () => {
      if (pending) this.#print(pending);
      pending = undefined;
    };
    for (const update of updates) {
      if (update.kind === "state-entered" && update.type !== "Fail") {
        flush();
        pending = update;
      } else if (update.kind === "state-exited" && pending?.state === update.state) {
        pending = undefined;
        this.#print(update);
      } else {
        flush();
        this.#print(update);
      }
    }
    flush();
  }

  /** One write per update, so a reader following the pipe never sees half of one. */
  #print(update: DeploymentUpdate): void {
    this.#lines(update.at, describeUpdate(update, this.#context));
  }

  warn(message: string): void {
    this.#err.write(`${isoTime(this.#now())}  warning: ${message}\n`);
  }

  finish(summary: DeploymentSummary): void {
    for (const line of describeSummary(summary)) this.#line(this.#now(), line);
  }

  interrupted(lines: readonly string[]): void {
    for (const line of lines) this.#line(this.#now(), line);
  }

  #line(at: number, text: string): void {
    this.#lines(at, [text]);
  }

  #lines(at: number, texts: readonly string[]): void {
    if (texts.length === 0) return;
    const stamp = isoTime(Number.isFinite(at) ? at : this.#now());
    this.#out.write(texts.map((text) => `${stamp}  ${text}\n`).join(""));
  }
}
