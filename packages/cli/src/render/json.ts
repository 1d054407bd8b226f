import type { DeploymentProgress, DeploymentUpdate } from "@gantry/core";
import type { OutputStream } from "../io.ts";
import type { DeploymentSummary } from "../summary.ts";
import { PlainRenderer } from "./plain.ts";
import type { Renderer } from "./renderer.ts";
import type { RenderContext } from "./text.ts";

/**
 * `--json`: one JSON document (the {@link DeploymentSummary}) on stdout at the end, and nothing
 * else there. The progress still goes somewhere useful: as timestamped lines on stderr, so a CI
 * log shows the deployment while stdout is captured for machines.
 */
export class JsonRenderer implements Renderer {
  readonly #out: OutputStream;
  readonly #log: PlainRenderer;
  #written = false;

  constructor(out: OutputStream, err: OutputStream, context: RenderContext, now: () => number) {
    this.#out = out;
    this.#log = new PlainRenderer(err, err, context, now);
  }

  intro(lines: readonly string[]): void {
    this.#log.intro(lines);
  }

  update(updates: readonly DeploymentUpdate[], progress: DeploymentProgress): void {
    this.#log.update(updates, progress);
  }

  warn(message: string): void {
    this.#log.warn(message);
  }

  finish(summary: DeploymentSummary): void {
    if (this.#written) return;
    this.#written = true;
    this.#log.finish(summary);
    this.#out.write(`${JSON.stringify(summary, null, 2)}\n`);
  }

  interrupted(lines: readonly string[]): void {
    this.#log.interrupted(lines);
  }
}

/** Writes one JSON document to `out`. */
export function printJson(out: OutputStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
