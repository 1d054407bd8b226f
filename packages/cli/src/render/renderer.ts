import type { DeploymentProgress, DeploymentUpdate } from "@gantry/core";
import type { DeploymentSummary } from "../summary.ts";

/**
 * Shows an execution being followed. Three kinds: timestamped lines for logs (no TTY), a live
 * redrawn display for a terminal, and a single JSON document at the end (`--json`).
 */
export interface Renderer {
  /** Lines about what is about to be followed (what was started, or found). */
  intro(lines: readonly string[]): void;
  /** New updates, and the progress they add up to. */
  update(updates: readonly DeploymentUpdate[], progress: DeploymentProgress): void;
  /** A problem that does not end the command (a poll that will be retried). */
  warn(message: string): void;
  /** The end: how it went. */
  finish(summary: DeploymentSummary): void;
  /** Following stopped early (Ctrl-C); the execution goes on. */
  interrupted(lines: readonly string[]): void;
}
