import type { Io } from "../io.ts";
import { JsonRenderer } from "./json.ts";
import { PlainRenderer } from "./plain.ts";
import type { Renderer } from "./renderer.ts";
import type { RenderContext } from "./text.ts";
import { TtyRenderer } from "./tty.ts";

/**
 * True when stdout is a terminal that can take a live display: a TTY (or GANTRY_FORCE_TTY=1,
 * for tests and for CI systems with ANSI-capable logs), and TERM is not "dumb".
 */
export function isLiveTerminal(io: Pick<Io, "stdout" | "env">): boolean {
  if (io.env.GANTRY_FORCE_TTY === "1") return true;
  if (io.env.GANTRY_FORCE_TTY === "0") return false;
  return io.stdout.isTTY === true && io.env.TERM !== "dumb";
}

/**
 * The renderer for this run: `--json` → one document at the end on stdout (progress lines on
 * stderr); a terminal → the live display;
 * otherwise (CI logs, pipes) → timestamped lines.
 */
export function chooseRenderer(io: Io, json: boolean, context: RenderContext): Renderer {
  if (json) return new JsonRenderer(io.stdout, io.stderr, context, io.now);
  if (isLiveTerminal(io)) {
    return new TtyRenderer(io.stdout, context, io.now, {
      colour: io.env.NO_COLOR === undefined || io.env.NO_COLOR === "",
    });
  }
  return new PlainRenderer(io.stdout, io.stderr, context, io.now);
}
