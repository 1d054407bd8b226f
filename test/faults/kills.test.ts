/**
 * kill -9 at every state of a preprod deployment, then a restart on the same data directory;
 * and the same with a second kill -9 while the restarted control plane recovers (at one of the
 * recovery's named crash points, GANTRY_CRASH_AT, packages/local/src/crash-points.ts, or, if the
 * recovery never reaches it, right after the restart), or killed at a set delay while it
 * starts. Task states die as the Task starts (faults.ts `crash-before`); Wait states are killed
 * from outside once the history shows them.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { LocalProcess } from "../support/local-process.ts";
import type { Violation } from "./support/invariants.ts";
import {
  exited,
  type FaultPlan,
  FULL,
  finalStatus,
  killDuringStart,
  lastStateEntered,
  record,
  removeHomes,
  settledInvariants,
  startPlane,
  startPreprodDeployment,
  waitFor,
  writeResults,
} from "./support/scenario.ts";

/** Where the first kill lands: a fault plan (the Task dies as it starts) or a Wait state. */
const KILL_POINTS: readonly { state: string; plan?: FaultPlan }[] = [
  { state: "ValidateInput", plan: { ValidateInput: { kind: "crash-before" } } },
  { state: "AcquireLock", plan: { AcquireLock: { kind: "crash-before" } } },
  { state: "VerifyPreprod", plan: { VerifyPreprod: { kind: "crash-before" } } },
  { state: "ApprovalGate", plan: { ApprovalGate: { kind: "crash-before" } } },
  { state: "VerifyApproval", plan: { VerifyApproval: { kind: "crash-before" } } },
  { state: "CopyArtifact", plan: { CopyArtifact: { kind: "crash-before" } } },
  { state: "Deploy", plan: { Deploy: { kind: "crash-before" } } },
  { state: "Canary", plan: { Canary: { kind: "crash-before" } } },
  { state: "HoldTrafficStep" },
  { state: "CheckAlarms", plan: { CheckAlarms: { kind: "crash-before" } } },
  { state: "Promote", plan: { Promote: { kind: "crash-before" } } },
  { state: "Bake" },
  {
    state: "CheckBakeAlarms",
    plan: { CheckAlarms: { kind: "crash-before", match: '"phase":"bake"' } },
  },
  { state: "Finish", plan: { Finish: { kind: "crash-before", match: '"result":"succeeded"' } } },
  {
    state: "Rollback",
    plan: { CheckAlarms: { kind: "error" }, Rollback: { kind: "crash-before" } },
  },
  {
    state: "FinishAfterFailure",
    plan: {
      CheckAlarms: { kind: "error" },
      Finish: { kind: "crash-before", match: '"result":"failed"' },
    },
  },
];

/** The recovery's named crash points (helper module packages/local/src/crash-points.ts). */
const RECOVERY_POINTS = [
  "after-reconcile-intent",
  "after-cleanup-before-terminal",
  "after-terminal-event",
  "after-terminal-record",
] as const;

const FAST_SLICE = new Set(["Deploy", "Bake + recovery"]);

const running: LocalProcess[] = [];
afterAll(async () => {
  for (const local of running) await local.kill("SIGKILL");
  writeResults("kills", { recoveryPoints: RECOVERY_POINTS });
  removeHomes();
});

/** The second crash: a restart that dies at `point` during recovery (or is killed right away). */
async function secondKill(home: string, point: string): Promise<string> {
  let plane: LocalProcess;
  try {
    plane = await startPlane({ home, env: { GANTRY_CRASH_AT: point } });
  } catch {
    return point; // died at the point before it was listening
  }
  running.push(plane);
  if (await exited(plane, 3_000)) return point;
  await plane.kill("SIGKILL");
  return "killed after restart";
}

const scenarios = KILL_POINTS.flatMap((point, i) => [
  { ...point, name: point.state, recovery: undefined, startKillMs: undefined },
  {
    ...point,
    name: `${point.state} + recovery`,
    recovery: RECOVERY_POINTS[i % RECOVERY_POINTS.length],
    startKillMs: undefined,
  },
  // A timed second kill while the restarted process is still starting (opening its files,
  // sweeping, reconciling): 200 to 1,000 ms after it was spawned, a different delay per state.
  {
    ...point,
    name: `${point.state} + kill during start`,
    recovery: undefined,
    startKillMs: 200 + ((i * 53) % 800),
  },
]);

describe("kill -9 at every state", () => {
  for (const scenario of scenarios) {
    it.runIf(FULL || FAST_SLICE.has(scenario.name))(
      `${scenario.name}: every invariant holds after the restart`,
      async () => {
        const started = Date.now();
        const violations: Violation[] = [];
        const { local, knownGood, executionArn } = await startPreprodDeployment(scenario.plan);
        running.push(local);
        if (!scenario.plan) {
          // A Wait state: kill from outside once the history shows it.
          await waitFor(
            async () =>
              (await lastStateEntered(local, executionArn)) === scenario.state ? true : undefined,
            60_000,
            () => `${scenario.state} was never entered`,
          ).catch((error: Error) => violations.push({ invariant: "crash", detail: error.message }));
          await local.kill("SIGKILL");
        } else if (!(await exited(local, 60_000))) {
          violations.push({
            invariant: "crash",
            detail: `${scenario.state} never crashed the plane`,
          });
        }
        let crashPoint = scenario.state;
        if (scenario.recovery)
          crashPoint += ` + ${await secondKill(local.home, scenario.recovery)}`;
        if (scenario.startKillMs !== undefined) {
          await killDuringStart(local.home, scenario.startKillMs);
          crashPoint += ` + start killed at ${scenario.startKillMs} ms`;
        }
        const plane = await startPlane({ home: local.home });
        running.push(plane);
        const observed = await lastStateEntered(plane, executionArn).catch(() => undefined);
        if (observed !== scenario.state) crashPoint += ` (history: ${observed ?? "none"})`;
        const { status, error } = await finalStatus(plane, executionArn, 30_000);
        violations.push(...(await settledInvariants(plane, knownGood)));
        record({
          category: "kills",
          name: scenario.name,
          crashPoint,
          ...(status ? { status } : {}),
          ...(error ? { error } : {}),
          violations,
          ms: Date.now() - started,
        });
        await plane.kill("SIGKILL");
        expect(violations).toEqual([]);
      },
    );
  }
});
