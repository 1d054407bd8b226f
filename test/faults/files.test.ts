/**
 * Every durable file type truncated and garbled: a data directory with a finished preprod
 * deployment, a tagged state machine and a prod deployment waiting for its approval (lock held,
 * approval mailed) is killed with SIGKILL and copied; in each copy one file is damaged, the
 * control plane restarts on it, and the invariants must hold and the damage be reported
 * (moved to quarantine/ under GANTRY_HOME, listed as `damaged` by GET /api/world).
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListExecutionsCommand, TagResourceCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import {
  type LocalProcess,
  STATE_MACHINE,
  startDeployment,
  throughPreprod,
} from "../support/local-process.ts";
import { type KnownGood, knownGoodOf, type Violation } from "./support/invariants.ts";
import {
  FULL,
  finalStatus,
  record,
  settledInvariants,
  startPlane,
  waitFor,
  writeResults,
} from "./support/scenario.ts";

/** The durable file types, each found in the template data directory. */
const FILE_TYPES: readonly { type: string; find: (home: string) => string | undefined }[] = [
  { type: "execution.json", find: () => `${executionDir()}/execution.json` },
  { type: "history.jsonl", find: () => `${executionDir()}/history.jsonl` },
  { type: "state machine file", find: () => "sfn/state-machines/gantry-prod.json" },
  { type: "state machine tags", find: () => "sfn/state-machines/gantry-prod.tags.json" },
  {
    type: "object metadata",
    find: (h) => firstFile(h, "buckets/acme-gantry-artifacts-preprod/meta"),
  },
  { type: "function.json", find: () => "functions/hello-service-prod/function.json" },
  { type: "lock object", find: () => "buckets/gantry-state-prod/objects/locks/hello-service.json" },
  {
    type: "deployment record",
    find: (h) => firstFile(h, "buckets/gantry-state-preprod/objects/deployments"),
  },
  {
    type: "approval record",
    find: (h) =>
      firstFile(
        h,
        "buckets/gantry-state-prod/objects/approvals",
        /^[A-Za-z0-9_-]{24}\.json$/,
        false,
      ),
  },
  {
    type: "task token record",
    find: (h) => firstFile(h, "buckets/gantry-state-prod/objects/approval-tokens"),
  },
  { type: "signing key", find: () => "signing-key.json" },
  { type: "decision key", find: () => "decision-key.json" },
  { type: "operator secret", find: () => "operator-secret" },
  { type: "outbox message", find: (h) => firstFile(h, "outbox", /\.json$/) },
];
const DAMAGES = ["truncated", "garbled"] as const;
const FAST_SLICE = new Set(["lock object garbled", "execution.json truncated"]);

let template = "";
let templateExecution = "";
let knownGood: KnownGood = {};
const running: LocalProcess[] = [];
const homes: string[] = [];

function relative(home: string, file: string): string {
  return file.startsWith(home) ? file.slice(home.length + 1) : file;
}

/** The first file under `home`/`sub` matching `pattern`, depth-first, relative to `home`. */
function firstFile(home: string, sub: string, pattern = /./, deep = true): string | undefined {
  const dir = join(home, sub);
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!deep) continue;
      const found = firstFile(home, relative(home, full), pattern, deep);
      if (found) return found;
    } else if (pattern.test(entry.name)) return relative(home, full);
  }
  return undefined;
}

/** The prod execution waiting for its approval in the template. */
function executionDir(): string {
  return `sfn/executions/gantry-prod/${templateExecution.slice(templateExecution.lastIndexOf(":") + 1)}`;
}

/** Deterministic damage: the first half only, or a garbled middle. */
function damage(file: string, how: (typeof DAMAGES)[number]): void {
  const bytes = readFileSync(file);
  if (how === "truncated") {
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    return;
  }
  const out = Buffer.from(bytes);
  const from = Math.floor(out.length / 3);
  for (let i = from; i < Math.min(out.length, from + 16); i++) out[i] = (i * 131 + 7) & 0xff;
  writeFileSync(file, out);
}

beforeAll(async () => {
  const local = await startPlane();
  running.push(local);
  homes.push(local.home);
  const { request } = await throughPreprod(local, "v2");
  await local.sfn.send(
    new TagResourceCommand({
      resourceArn: STATE_MACHINE.prod,
      tags: [{ key: "team", value: "platform" }],
    }),
  );
  const started = await startDeployment(local, "prod", request);
  templateExecution = started.executionArn as string;
  await waitFor(
    () =>
      existsSync(join(local.home, "outbox")) &&
      readdirSync(join(local.home, "outbox")).some((f) => f.endsWith(".json"))
        ? true
        : undefined,
    30_000,
    () => "no approval email was sent",
  );
  knownGood = await knownGoodOf(local);
  await local.kill("SIGKILL");
  template = local.home;
}, 120_000);

afterAll(async () => {
  for (const local of running) await local.kill("SIGKILL");
  for (const home of homes) rmSync(home, { recursive: true, force: true });
  writeResults("files");
});

describe("damaged durable files", () => {
  for (const { type, find } of FILE_TYPES) {
    for (const how of DAMAGES) {
      const name = `${type} ${how}`;
      it.runIf(FULL || FAST_SLICE.has(name))(
        `${name}: the control plane restarts, reports it, and every invariant holds`,
        async () => {
          const started = Date.now();
          const violations: Violation[] = [];
          const home = mkdtempSync(join(tmpdir(), "gantry-faults-"));
          homes.push(home);
          cpSync(template, home, { recursive: true });
          const file = find(home);
          if (!file || !existsSync(join(home, file)))
            throw new Error(`no ${type} file in the fixture`);
          damage(join(home, file), how);

          let plane: LocalProcess | undefined;
          try {
            plane = await startPlane({ home });
            running.push(plane);
          } catch (error) {
            violations.push({
              invariant: "health",
              detail: `the control plane did not start: ${String(error).slice(0, 400)}`,
            });
          }
          let status: string | undefined;
          let error: string | undefined;
          if (plane) {
            const listed = await plane.sfn
              .send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE.prod }))
              .catch(() => undefined);
            if (listed?.executions?.some((e) => e.executionArn === templateExecution))
              ({ status, error } = await finalStatus(plane, templateExecution, 30_000));
            if (type === "lock object") violations.push(...(await unlockAsTheRunbookSays(plane)));
            violations.push(...(await settledInvariants(plane, knownGood)));
            if (!(await damageReported(plane, home)))
              violations.push({
                invariant: "damage",
                detail: `${file} was ${how} and nothing reported it (quarantine/, /api/world damaged)`,
              });
          }
          record({
            category: "files",
            name,
            ...(status ? { status } : {}),
            ...(error ? { error } : {}),
            violations,
            ms: Date.now() - started,
          });
          await plane?.kill("SIGKILL");
          expect(violations).toEqual([]);
        },
      );
    }
  }
});

/**
 * A damaged lock is never taken over or quarantined (its owner might still run): it is reported
 * in place, and the runbook's recovery (docs/operations.md, "LockDamaged") is `gantry unlock
 * --force-damaged`, which the operator runs once nothing of the service is running. The
 * scenario runs it as the operator would; the invariants are then checked.
 */
async function unlockAsTheRunbookSays(plane: LocalProcess): Promise<Violation[]> {
  const args = ["unlock", "hello-service", "--stage", "prod", "--force-damaged"];
  const unlocked = await runCli([...args, "--reason", "fault suite: damaged lock"], {
    local: plane,
  });
  return unlocked.code === 0
    ? []
    : [
        {
          invariant: "lock",
          detail: `gantry unlock exited ${unlocked.code}: ${unlocked.stderr.trim().slice(0, 300)}`,
        },
      ];
}

async function damageReported(plane: LocalProcess, home: string): Promise<boolean> {
  const quarantine = join(home, "quarantine");
  if (existsSync(quarantine) && readdirSync(quarantine, { recursive: true }).length > 0)
    return true;
  const res = await fetch(`${plane.webEndpoint}/api/world`, {
    signal: AbortSignal.timeout(5_000),
  }).catch(() => undefined);
  if (!res?.ok) return false;
  const world = (await res.json()) as { damaged?: unknown[] };
  return Array.isArray(world.damaged) && world.damaged.length > 0;
}
