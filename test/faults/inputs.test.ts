/**
 * Seeded bad inputs (test/support/bad-inputs.ts) through StartExecution on both state machines,
 * and a few through `gantry deploy`: each must be refused cleanly (the API error it names, or an
 * execution that ends InvalidInput) and, all together, leave no side effect: no lock, no
 * deployment record, no artifact copied, no email, aliases unchanged, every execution terminal.
 * GANTRY_FAULTS_SEED picks the seed (printed); GANTRY_FAULTS_FULL=1 sends 500 instead of 200.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { badInputs } from "../support/bad-inputs.ts";
import { runCli } from "../support/cli.ts";
import { type LocalProcess, STATE_MACHINE } from "../support/local-process.ts";
import { type KnownGood, knownGoodOf, type Violation } from "./support/invariants.ts";
import {
  FULL,
  finalStatus,
  record,
  removeHomes,
  settledInvariants,
  startPlane,
  writeResults,
} from "./support/scenario.ts";

const SEED = Number(process.env.GANTRY_FAULTS_SEED ?? 19);
const COUNT = FULL ? 500 : 200;

let local: LocalProcess;
let knownGood: KnownGood;
let refusedCleanly = 0;
let tried = 0;
const byOutcome: Record<string, number> = {};

beforeAll(async () => {
  console.log(`[faults] bad inputs: seed ${SEED}, ${COUNT} inputs (GANTRY_FAULTS_SEED=${SEED})`);
  local = await startPlane();
  knownGood = await knownGoodOf(local);
});

afterAll(async () => {
  await local?.kill("SIGKILL");
  writeResults("inputs", { seed: SEED, tried, refusedCleanly, byOutcome });
  removeHomes();
});

/** Files under a directory of the data directory (recursively). */
function filesUnder(...path: string[]): string[] {
  const dir = join(local.home, ...path);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function sendOne(
  bad: ReturnType<typeof badInputs>[number],
  index: number,
  stage: "preprod" | "prod",
) {
  const machine = STATE_MACHINE[stage];
  const arn = bad.stateMachineArn?.replace("{machine}", machine) ?? machine;
  const name = bad.name ?? `bad-${SEED}-${index}`;
  try {
    const started = await local.sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name, input: bad.input }),
    );
    if (bad.expected === "refused at API")
      return `accepted (expected ${bad.apiError}); execution ${started.executionArn}`;
    const { status, error } = await finalStatus(local, started.executionArn as string, 30_000);
    if (status === "FAILED" && error === bad.expected) return undefined;
    return `ended ${status} ${error ?? ""} (expected ${bad.expected})`;
  } catch (error) {
    const name = (error as Error).name;
    if (bad.expected === "refused at API" && (!bad.apiError || name === bad.apiError))
      return undefined;
    return `refused with ${name}: ${(error as Error).message.slice(0, 120)} (expected ${bad.expected}${bad.apiError ? ` ${bad.apiError}` : ""})`;
  }
}

describe(`bad inputs (seed ${SEED})`, () => {
  it(`${COUNT} generated bad inputs are refused cleanly, with zero side effects`, async () => {
    const started = Date.now();
    const inputs = badInputs(SEED, COUNT);
    const violations: Violation[] = [];
    // One at a time, so an input that brings the control plane down is named: it is then
    // restarted on the same data directory and the rest go on.
    for (const [index, bad] of inputs.entries()) {
      const stage = index % 2 === 0 ? "prod" : "preprod";
      const wrong = await sendOne(bad, index, stage);
      tried++;
      const key =
        bad.expected === "refused at API" ? `API ${bad.apiError ?? "error"}` : bad.expected;
      byOutcome[key] = (byOutcome[key] ?? 0) + 1;
      if (wrong)
        violations.push({
          invariant: "refusal",
          detail: `seed ${SEED} ${bad.description} (${stage}): ${wrong}`,
        });
      else refusedCleanly++;
      if (local.child.exitCode !== null || local.child.signalCode !== null) {
        violations.push({
          invariant: "health",
          detail: `the control plane went down while handling seed ${SEED} ${inputs[index - 1]?.description ?? ""} or ${bad.description}: ${
            local
              .output()
              .split("\n")
              .find((line) => /Error|error/.test(line))
              ?.slice(0, 200) ?? "no error printed"
          }`,
        });
        local = await startPlane({ home: local.home });
      }
    }

    // A few through `gantry deploy`, as CI would pass them.
    const cliCases: string[][] = [
      [
        "--service",
        "no-such-service",
        "--version",
        "abc1234",
        "--artifact-key",
        "x.zip",
        "--sha256",
        "a".repeat(64),
      ],
      [
        "--service",
        "hello-service",
        "--version",
        "../../etc",
        "--artifact-key",
        "x.zip",
        "--sha256",
        "a".repeat(64),
      ],
      [
        "--service",
        "hello-service",
        "--version",
        "abc1234",
        "--artifact-key",
        "x.zip",
        "--sha256",
        "not-hex",
      ],
      [
        "--service",
        "hello-service",
        "--version",
        "abc1234",
        "--artifact-key",
        "../escape.zip",
        "--sha256",
        "b".repeat(64),
      ],
      [
        "--service",
        "__proto__",
        "--version",
        "abc1234",
        "--artifact-key",
        "x.zip",
        "--sha256",
        "c".repeat(64),
      ],
    ];
    for (const args of cliCases) {
      const result = await runCli(["deploy", "--stage", "prod", ...args, "--wait"], {
        local,
        timeoutMs: 30_000,
      });
      tried++;
      byOutcome["gantry deploy"] = (byOutcome["gantry deploy"] ?? 0) + 1;
      // Exit code 2 is gantry's "invalid input" (README.md); anything else is not a clean refusal.
      if (result.code !== 2)
        violations.push({
          invariant: "refusal",
          detail: `gantry deploy ${args.join(" ")} exited ${result.code}, not 2: ${result.stderr.slice(0, 200)}`,
        });
      else refusedCleanly++;
    }

    // Zero side effects: the invariants, and nothing written where a deployment writes.
    violations.push(...(await settledInvariants(local, knownGood)));
    for (const stage of ["preprod", "prod"]) {
      for (const dir of ["locks", "deployments", "approvals", "approval-tokens"]) {
        const files = filesUnder("buckets", `gantry-state-${stage}`, "objects", dir);
        if (files.length > 0)
          violations.push({
            invariant: "side-effect",
            detail: `${files.length} file(s) in gantry-state-${stage}/${dir}`,
          });
      }
    }
    const copied = filesUnder("buckets", "acme-gantry-artifacts-prod", "objects");
    if (copied.length > 0)
      violations.push({
        invariant: "side-effect",
        detail: `${copied.length} artifact(s) copied to prod`,
      });
    const mails = filesUnder("outbox");
    if (mails.length > 0)
      violations.push({
        invariant: "side-effect",
        detail: `${mails.length} email(s) in the outbox`,
      });

    record({
      category: "inputs",
      name: `${COUNT} bad inputs, seed ${SEED}`,
      violations,
      ms: Date.now() - started,
    });
    expect(violations).toEqual([]);
  });
});
