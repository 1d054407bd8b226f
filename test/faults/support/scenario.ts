/**
 * Drives one fault scenario against a child control plane (`npm start`, test/support/local-process.ts)
 * and records what happened for docs/reliability.md (test/faults/report.ts).
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetExecutionHistoryCommand } from "@aws-sdk/client-sfn";
import { executionName } from "@gantry/core";
import {
  LOCAL_ACCOUNT_ARN,
  type LocalProcess,
  MAIN,
  publish,
  ROOT,
  requestFor,
  startDeployment,
  startLocalProcess,
  waitFor,
  waitForStatus,
} from "../../support/local-process.ts";
import { type KnownGood, knownGoodOf, settledInvariants, type Violation } from "./invariants.ts";

/** What GANTRY_FAULTS takes (packages/local/src/faults.ts): Task key -> fault. */
export type FaultKind = "throttle" | "error" | "timeout" | "crash-after" | "crash-before";
export type FaultPlan = Record<
  string,
  {
    kind: FaultKind;
    stage?: string;
    match?: string;
    skip?: number;
    times?: number;
    timeoutMs?: number;
  }
>;

/** The workflow's Task functions, by catalogue key, and the four fault kinds each gets. */
export const TASKS = [
  "ValidateInput",
  "AcquireLock",
  "VerifyPreprod",
  "ApprovalGate",
  "VerifyApproval",
  "CopyArtifact",
  "Deploy",
  "Canary",
  "CheckAlarms",
  "Promote",
  "Finish",
  "Rollback",
] as const;
export const KINDS: readonly FaultKind[] = ["throttle", "error", "timeout", "crash-after"];

/** The full matrix with GANTRY_FAULTS_FULL=1; otherwise the fast slice `npm test` runs. */
export const FULL = process.env.GANTRY_FAULTS_FULL === "1";
export const TIME_SCALE = 0.01;
export const TRAFFIC_RPS = 5;

export type Category = "tasks" | "kills" | "files" | "inputs";

export interface ScenarioResult {
  readonly category: Category;
  readonly name: string;
  /** The crash point, for kill scenarios: the state the process died in. */
  readonly crashPoint?: string;
  readonly status?: string;
  readonly error?: string;
  readonly violations: readonly Violation[];
  readonly ms: number;
}

const results: ScenarioResult[] = [];

export function record(result: ScenarioResult): void {
  results.push(result);
  const tag = result.violations.length === 0 ? "ok" : `${result.violations.length} violation(s)`;
  console.log(
    `[faults] ${result.category} ${result.name}: ${tag}${result.violations.map((v) => `\n  ${v.invariant}: ${v.detail}`).join("")}`,
  );
}

/**
 * With GANTRY_FAULTS_RECORD=1 (the report script sets it), each suite writes its results to
 * test/faults/results/<category>.json for test/faults/report.ts.
 */
export function writeResults(category: Category, extra: Record<string, unknown> = {}): void {
  if (process.env.GANTRY_FAULTS_RECORD !== "1") return;
  const dir = join(ROOT, "test/faults/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${category}.json`),
    `${JSON.stringify({ category, full: FULL, results: results.filter((r) => r.category === category), ...extra }, null, 2)}\n`,
  );
}

/** Data directories the scenarios made, removed by `removeHomes` when a suite ends. */
const homes = new Set<string>();

export function removeHomes(): void {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
  homes.clear();
}

export async function startPlane(
  options: { home?: string; faults?: FaultPlan; env?: Record<string, string> } = {},
): Promise<LocalProcess> {
  const local = await startLocalProcess({
    ...(options.home ? { home: options.home } : {}),
    timeScale: TIME_SCALE,
    trafficRps: TRAFFIC_RPS,
    env: {
      ...(options.faults ? { GANTRY_FAULTS: JSON.stringify(options.faults) } : {}),
      ...options.env,
    },
  });
  homes.add(local.home);
  return local;
}

/** Resolves when the child process has exited (or at once if it has). */
export function exited(local: LocalProcess, timeoutMs: number): Promise<boolean> {
  const child = local.child;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts `npm start` on the home and kills it with SIGKILL after `afterMs`: a second crash,
 * while the restarted control plane is still recovering what the first one left.
 */
export async function killDuringStart(home: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      GANTRY_HOME: home,
      GANTRY_SFN_PORT: "0",
      GANTRY_WEB_PORT: "0",
      GANTRY_TIME_SCALE: String(TIME_SCALE),
      GANTRY_TRAFFIC_RPS: String(TRAFFIC_RPS),
      GANTRY_LOG_LEVEL: "ERROR",
    },
    stdio: "ignore",
  });
  const done = new Promise((resolve) => child.once("exit", resolve));
  await new Promise((r) => setTimeout(r, afterMs));
  child.kill("SIGKILL");
  await done;
}

/** The name of the last state entered, from the history. */
export async function lastStateEntered(
  local: LocalProcess,
  executionArn: string,
): Promise<string | undefined> {
  const events =
    (
      await local.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, reverseOrder: true }),
      )
    ).events ?? [];
  return events.find((e) => e.stateEnteredEventDetails?.name)?.stateEnteredEventDetails?.name;
}

export interface DeploymentRun {
  readonly local: LocalProcess;
  readonly knownGood: KnownGood;
  readonly executionArn: string;
}

/** A fresh plane (with a fault plan), v2 published and its preprod deployment started. */
export async function startPreprodDeployment(faults?: FaultPlan): Promise<DeploymentRun> {
  const local = await startPlane(faults ? { faults } : {});
  const knownGood = await knownGoodOf(local);
  const built = await publish(local, "v2");
  const request = requestFor(built);
  // A crash at the very first Task can beat StartExecution's answer: the name is deterministic.
  const executionArn = await startDeployment(local, "preprod", request, 1).then(
    (started) => started.executionArn as string,
    async (error: unknown) => {
      if (!(await exited(local, 5_000))) throw error;
      return `${LOCAL_ACCOUNT_ARN}:execution:gantry-preprod:${executionName(request, 1)}`;
    },
  );
  return { local, knownGood, executionArn };
}

export async function finalStatus(local: LocalProcess, executionArn: string, timeoutMs = 60_000) {
  try {
    const done = await Promise.race([
      waitForStatus(local, executionArn, undefined, timeoutMs),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("no answer")), timeoutMs + 5_000).unref(),
      ),
    ]);
    return { status: done.status, error: done.error };
  } catch {
    return { status: "RUNNING", error: undefined };
  }
}

export { settledInvariants, waitFor };
