/**
 * Named points where a test can make the local control plane die as a `kill -9` would:
 * `GANTRY_CRASH_AT=<point>` (or several, comma-separated) makes the process SIGKILL itself the
 * first time it reaches one. Crash-safety tests (test/e2e/restart.test.ts, test/faults/) use them
 * to stop the process exactly between two durable steps, which a timed kill cannot hit reliably.
 * Unset, a crash point costs one environment lookup.
 */
export const CRASH_POINTS = [
  /** The intent to reconcile an ended execution is on disk; its cleanup has not started. */
  "after-reconcile-intent",
  /** The cleanup (rollback, lock release, record) finished; the execution is not yet terminal. */
  "after-cleanup-before-terminal",
  /** The terminal history event is written; execution.json still says RUNNING. */
  "after-terminal-event",
  /** execution.json is terminal; the reconcile intent is not yet removed. */
  "after-terminal-record",
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Dies here, as `kill -9` would, if GANTRY_CRASH_AT names this point. */
export function crashPoint(point: CrashPoint): void {
  const wanted = process.env.GANTRY_CRASH_AT;
  if (!wanted?.split(",").includes(point)) return;
  process.kill(process.pid, "SIGKILL");
  // The signal is asynchronous to other threads: do nothing more until it lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}
