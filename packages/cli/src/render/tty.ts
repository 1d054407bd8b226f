import type { DeploymentProgress, DeploymentUpdate } from "@gantry/core";
import type { OutputStream } from "../io.ts";
import type { DeploymentSummary } from "../summary.ts";
import { formatDuration, orList, shortSha } from "./format.ts";
import type { Renderer } from "./renderer.ts";
import { describeSummary, describeTraffic, describeUpdate, type RenderContext } from "./text.ts";

/** ANSI control sequences the live display uses (nothing fancier). */
export const ANSI = {
  /** Cursor to the start of the line N lines up. */
  up: (n: number) => `\x1b[${n}F`,
  /** Erase from the cursor to the end of the screen. */
  clearBelow: "\x1b[J",
  hideCursor: "\x1b[?25l",
  showCursor: "\x1b[?25h",
} as const;

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

interface Palette {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

function palette(colour: boolean): Palette {
  const wrap = (open: number, close: number) => (text: string) =>
    colour ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/**
 * For a terminal: what happened scrolls up as lines with a ✓ or ✗, and a few lines at the bottom
 * (the running state, the traffic, a pending approval, the elapsed time) are redrawn in place
 * several times a second with ANSI cursor movement. `NO_COLOR` turns the colours off.
 */
export class TtyRenderer implements Renderer {
  readonly #out: OutputStream;
  readonly #context: RenderContext;
  readonly #now: () => number;
  readonly #c: Palette;
  #progress: DeploymentProgress | undefined;
  /** How many lines the live block takes on screen now. */
  #drawn = 0;
  #frame = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #startedAt: number;

  constructor(
    out: OutputStream,
    context: RenderContext,
    now: () => number,
    options: { colour: boolean; redrawMs?: number },
  ) {
    this.#out = out;
    this.#context = context;
    this.#now = now;
    this.#c = palette(options.colour);
    this.#startedAt = now();
    this.#out.write(ANSI.hideCursor);
    this.#timer = setInterval(() => this.#redraw(), options.redrawMs ?? 120);
    this.#timer.unref?.();
  }

  intro(lines: readonly string[]): void {
    this.#print(lines.map((line) => this.#c.bold(line)));
  }

  update(updates: readonly DeploymentUpdate[], progress: DeploymentProgress): void {
    this.#progress = progress;
    const lines: string[] = [];
    for (const update of updates) {
      if (update.kind === "state-entered") continue; // the live block shows the running state
      for (const text of describeUpdate(update, this.#context)) {
        lines.push(this.#decorate(update, text));
      }
    }
    this.#print(lines);
  }

  warn(message: string): void {
    this.#print([this.#c.yellow(`! ${message}`)]);
  }

  finish(summary: DeploymentSummary): void {
    this.#stop();
    const [headline = "", ...rest] = describeSummary(summary);
    const colour =
      summary.result === "deployed"
        ? this.#c.green
        : summary.result === "running"
          ? this.#c.yellow
          : this.#c.red;
    this.#print([colour(this.#c.bold(headline)), ...rest.map((line) => this.#c.dim(line))]);
    this.#out.write(ANSI.showCursor);
  }

  interrupted(lines: readonly string[]): void {
    this.#stop();
    this.#print(lines.map((line) => this.#c.yellow(line)));
    this.#out.write(ANSI.showCursor);
  }

  #decorate(update: DeploymentUpdate, text: string): string {
    if (update.kind === "state-exited") {
      return update.error ? this.#c.red(`✗ ${text}`) : `${this.#c.green("✓")} ${text}`;
    }
    if (update.kind === "rollback" && update.rollback.status !== "done") {
      return this.#c.red(`↺ ${text}`);
    }
    if (update.kind === "analysis") {
      const { decision } = update.verdict;
      if (decision === "fail" || decision === "insufficient") return this.#c.red(`✗ ${text}`);
      return decision === "pass" ? `${this.#c.green("✓")} ${text}` : this.#c.yellow(`  ${text}`);
    }
    if (update.kind === "approval") {
      return update.approval.status === "waiting" ? this.#c.yellow(`? ${text}`) : `  ${text}`;
    }
    return this.#c.dim(`  ${text}`);
  }

  /** Prints permanent lines above the live block, then draws the block again. */
  #print(lines: readonly string[]): void {
    let text = this.#erase();
    for (const line of lines) text += `${line}\n`;
    text += this.#block();
    this.#out.write(text);
  }

  #redraw(): void {
    this.#frame++;
    this.#out.write(this.#erase() + this.#block());
  }

  #erase(): string {
    if (this.#drawn === 0) return "";
    const text = `${ANSI.up(this.#drawn)}${ANSI.clearBelow}`;
    this.#drawn = 0;
    return text;
  }

  /** The live lines (each cut to the terminal's width, so redrawing never misses a wrapped line). */
  #block(): string {
    if (this.#timer === undefined) return "";
    const now = this.#now();
    const p = this.#progress;
    const width = Math.max(20, (this.#out.columns || 80) - 1);
    const fit = (text: string) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
    const spinner = SPINNER[this.#frame % SPINNER.length] ?? "*";
    const request = p?.request;
    const stage = this.#context.stage ? ` → ${this.#context.stage}` : "";
    const what = request?.service
      ? `${request.service} ${shortSha(request.version)}${stage}`
      : this.#context.executionName;
    const current = p?.current;
    const state = current
      ? `${current.name} ${formatDuration(now - current.enteredAt)}`
      : "between states";
    const elapsed = formatDuration(now - (p?.startedAt ?? this.#startedAt));
    const lines = [this.#c.bold(fit(`${spinner} ${what} · ${state} · elapsed ${elapsed}`))];
    const traffic = p?.traffic;
    if (
      traffic &&
      traffic.phase !== "rolled-back" &&
      traffic.newVersion !== traffic.previousVersion
    ) {
      const filled = Math.round(Math.min(100, Math.max(0, traffic.weight)) / 10);
      const bar = `[${"█".repeat(filled)}${"░".repeat(10 - filled)}]`;
      lines.push(fit(`  ${bar} ${describeTraffic(traffic).replace(/^traffic: /, "")}`));
    }
    if (p?.approval?.status === "waiting") {
      const outbox = this.#context.webEndpoint
        ? `, outbox ${this.#context.webEndpoint}/outbox`
        : "";
      lines.push(
        this.#c.yellow(
          fit(`  waiting for approval from ${orList(p.approval.approvers)} (emailed${outbox})`),
        ),
      );
    }
    this.#drawn = lines.length;
    return `${lines.join("\n")}\n`;
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#out.write(this.#erase());
    this.#timer = undefined;
  }
}
