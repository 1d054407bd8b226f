/**
 * The invariants every fault scenario must leave true (issue 19, docs/reliability.md):
 *
 * - `alias`: every service's alias in each stage serves one version at 100% (no weights), and
 *   that version is either the one it had before the scenario (known good) or a version a
 *   SUCCEEDED execution deployed, with a deployment record that says so.
 * - `lock`: no lock object is held in either state bucket.
 * - `terminal`: no execution is RUNNING; every FAILED, TIMED_OUT or ABORTED one names its error.
 * - `record`: every execution that got past ValidateInput has a deployment record, and the
 *   record agrees with the execution (deployed if and only if SUCCEEDED). Two cases are true
 *   without that: a record found damaged is quarantined and reported (GET /api/world lists it),
 *   never silently missing; and an execution interrupted after its bake (FAILED
 *   ControlPlaneRestarted once Finish had run) has a `deployed` record whose note says the
 *   reconcile recorded the completed deployment.
 * - `health`: both endpoints answer /health.
 *
 * Read through the public surfaces: the Step Functions API, GET /api/world, /health; the state
 * buckets are not served (403 as in AWS), so locks and records are read from GANTRY_HOME.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { currentRecordKeys } from "@gantry/core";

export type InvariantName =
  | "alias"
  | "lock"
  | "terminal"
  | "record"
  | "health"
  // What a scenario checks besides the five invariants: the fault really happened (crash),
  // retries absorbed a throttle (outcome), damage was reported (damage), a refused input left
  // nothing behind (side-effect) and was refused cleanly (refusal).
  | "crash"
  | "outcome"
  | "damage"
  | "side-effect"
  | "refusal";

export interface Violation {
  readonly invariant: InvariantName;
  readonly detail: string;
}

export interface PlaneHandle {
  readonly home: string;
  readonly sfnEndpoint: string;
  readonly webEndpoint: string;
  readonly sfn: SFNClient;
}

/** Versions each service's alias served before the scenario: service -> stage -> version. */
export type KnownGood = Record<string, Record<string, string | undefined>>;

const STAGES = ["preprod", "prod"] as const;
const STATE_MACHINE = (stage: string) =>
  `arn:aws:states:us-east-1:000000000000:stateMachine:gantry-${stage}`;

interface WorldServices {
  services: Record<string, Record<string, { version?: string; weights?: Record<string, number> }>>;
  /** Files the control plane found damaged (moved to quarantine/ or reported in place). */
  damaged?: { file?: string }[];
}

interface DeploymentRecordLike {
  service?: string;
  stage?: string;
  version?: string;
  execution?: { id?: string };
  release?: { newVersion?: string; previousVersion?: string };
  outcome?: { status?: string; error?: string; version?: string; note?: string };
}

async function get(url: string): Promise<Response | undefined> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch {
    return undefined;
  }
}

/** Every file under a directory, relative paths. */
function walk(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

function stateObjects(home: string, stage: string): string {
  return join(home, "buckets", `gantry-state-${stage}`, "objects");
}

async function allExecutions(sfn: SFNClient, stage: string) {
  const out: { executionArn: string; status: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: STATE_MACHINE(stage),
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const e of page.executions ?? [])
      out.push({ executionArn: e.executionArn ?? "", status: e.status ?? "" });
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

async function history(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Checks every invariant once; an empty list means all hold. */
export async function checkInvariants(
  plane: PlaneHandle,
  knownGood: KnownGood,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const add = (invariant: InvariantName, detail: string) => violations.push({ invariant, detail });

  // health
  for (const endpoint of [plane.sfnEndpoint, plane.webEndpoint]) {
    const res = await get(`${endpoint}/health`);
    if (res?.status !== 200)
      add("health", `${endpoint}/health answered ${res?.status ?? "nothing"}`);
  }
  if (violations.length > 0) return violations; // a plane that is down answers nothing else

  // locks
  for (const stage of STAGES) {
    for (const key of walk(join(stateObjects(plane.home, stage), "locks")))
      add("lock", `gantry-state-${stage}/locks/${key} is held`);
  }

  const worldResponse = await get(`${plane.webEndpoint}/api/world`);
  const world =
    worldResponse?.status === 200 ? ((await worldResponse.json()) as WorldServices) : undefined;
  const reportedDamaged = (world?.damaged ?? []).map((d) => d.file ?? "");

  // deployment records, by execution ARN
  const records = new Map<string, DeploymentRecordLike>();
  for (const stage of STAGES) {
    const dir = join(stateObjects(plane.home, stage), "deployments");
    // Each execution's current record: its newest amendment, else its first (append-only).
    for (const key of currentRecordKeys(walk(dir))) {
      try {
        const record = JSON.parse(readFileSync(join(dir, key), "utf8")) as DeploymentRecordLike;
        if (record.execution?.id) records.set(record.execution.id, record);
      } catch {
        add("record", `gantry-state-${stage}/deployments/${key} is not readable JSON`);
      }
    }
  }

  // executions
  const deployedVersions = new Map<string, Set<string>>(); // `${service}/${stage}` -> versions
  for (const stage of STAGES) {
    let executions: Awaited<ReturnType<typeof allExecutions>>;
    try {
      executions = await allExecutions(plane.sfn, stage);
    } catch (error) {
      add("terminal", `ListExecutions on gantry-${stage} failed: ${String(error)}`);
      continue;
    }
    for (const { executionArn, status } of executions) {
      if (status === "RUNNING") {
        add("terminal", `${executionArn} is still RUNNING`);
        continue;
      }
      const described = await plane.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (status !== "SUCCEEDED" && !described.error)
        add("terminal", `${executionArn} is ${status} without a named error`);
      const events = await history(plane.sfn, executionArn);
      const pastValidation = events.some((e) => e.stateEnteredEventDetails?.name === "AcquireLock");
      if (!pastValidation) continue;
      const record = records.get(executionArn);
      const name = executionArn.slice(executionArn.lastIndexOf(":") + 1);
      const quarantined = reportedDamaged.some(
        (file) => file.includes("/deployments/") && file.endsWith(`_${name}.json`),
      );
      if (!record && quarantined) continue;
      if (!record) {
        add(
          "record",
          `${executionArn} (${status}, ${described.error ?? ""}) has no deployment record`,
        );
        continue;
      }
      const deployed = record.outcome?.status === "deployed";
      // Interrupted after its bake: the reconcile recorded the completed deployment, and says so.
      const completedBeforeInterruption =
        deployed && status !== "SUCCEEDED" && typeof record.outcome?.note === "string";
      if (deployed !== (status === "SUCCEEDED") && !completedBeforeInterruption)
        add(
          "record",
          `${executionArn} is ${status} but its record says ${record.outcome?.status} ${record.outcome?.error ?? ""}`.trim(),
        );
      if (deployed && (status === "SUCCEEDED" || completedBeforeInterruption) && record.service) {
        const version = record.outcome?.version ?? record.release?.newVersion;
        const key = `${record.service}/${record.stage ?? stage}`;
        if (version)
          deployedVersions.set(key, (deployedVersions.get(key) ?? new Set()).add(version));
      }
    }
  }

  // aliases
  if (!world) {
    add("alias", `GET /api/world answered ${worldResponse?.status ?? "nothing"}`);
    return violations;
  }
  for (const [service, stages] of Object.entries(world.services)) {
    for (const [stage, alias] of Object.entries(stages)) {
      const weights = Object.entries(alias.weights ?? {}).filter(([, w]) => w > 0);
      if (weights.length > 0)
        add(
          "alias",
          `${service} ${stage} alias is split: ${alias.version} + ${JSON.stringify(alias.weights)}`,
        );
      const good = knownGood[service]?.[stage];
      const deployed = deployedVersions.get(`${service}/${stage}`) ?? new Set();
      if (alias.version !== good && !(alias.version && deployed.has(alias.version)))
        add(
          "alias",
          `${service} ${stage} alias serves version ${alias.version}: neither the known-good ${good} nor a recorded successful deployment`,
        );
    }
  }
  return violations;
}

/** The aliases' versions now: the known-good baseline before a scenario. */
export async function knownGoodOf(plane: PlaneHandle): Promise<KnownGood> {
  const res = await fetch(`${plane.webEndpoint}/api/world`);
  const world = (await res.json()) as WorldServices;
  const out: KnownGood = {};
  for (const [service, stages] of Object.entries(world.services)) {
    out[service] = {};
    for (const [stage, alias] of Object.entries(stages)) out[service][stage] = alias.version;
  }
  return out;
}

/**
 * Polls the invariants until they all hold or `settleMs` passes (recovery after a restart
 * releases locks and rolls traffic back in the background), and returns the last violations.
 */
export async function settledInvariants(
  plane: PlaneHandle,
  knownGood: KnownGood,
  settleMs = 10_000,
): Promise<Violation[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    let violations: Violation[];
    try {
      violations = await Promise.race([
        checkInvariants(plane, knownGood),
        new Promise<Violation[]>((resolve) =>
          setTimeout(
            () =>
              resolve([
                { invariant: "health", detail: "the control plane did not answer within 10 s" },
              ]),
            10_000,
          ).unref(),
        ),
      ]);
    } catch (error) {
      violations = [{ invariant: "health", detail: `checking failed: ${String(error)}` }];
    }
    if (violations.length === 0 || Date.now() >= deadline) return violations;
    await new Promise((r) => setTimeout(r, 250));
  }
}
