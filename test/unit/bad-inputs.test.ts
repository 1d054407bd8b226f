/**
 * Hostile StartExecution calls (test/support/bad-inputs.ts) against a live local control plane:
 * each is refused at the API with the error it names, or its execution ends InvalidInput, and
 * nothing changes: no lock, approval or deployment record, no alias moved.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { STAGES } from "@gantry/core";
import { type LocalControlPlane, placeholderCode, startLocalControlPlane } from "@gantry/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import { badInputs } from "../support/bad-inputs.ts";

const SEED = 19;
const COUNT = 50;

let home: string;
let local: LocalControlPlane;
let sfn: SFNClient;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "gantry-bad-inputs-"));
  local = await startLocalControlPlane({
    home,
    registry,
    sfnPort: 0,
    webPort: 0,
    timeScale: 0.001,
    trafficPerSecond: 0,
    canaryIntervalMs: 0,
    initialCode: () => placeholderCode(),
    functionLogLevel: "SILENT",
  });
  sfn = new SFNClient({
    endpoint: local.sfnEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
  rmSync(home, { recursive: true, force: true });
});

/** Everything a deployment could change: state objects (locks, records) and aliases. */
async function sideEffects(): Promise<unknown> {
  const state: Record<string, string[]> = {};
  for (const stage of STAGES) {
    for (const bucket of [`gantry-state-${stage}`]) {
      state[bucket] = local.world.buckets.hasBucket(bucket)
        ? await local.world.buckets.list(bucket, "")
        : [];
    }
  }
  return { state, functions: await local.world.functions.listFunctions() };
}

async function settled(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 400; i++) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== "RUNNING") return described;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${executionArn} still RUNNING`);
}

describe(`${COUNT} hostile StartExecution calls (seed ${SEED})`, () => {
  it("are each refused at the API or end InvalidInput, with no side effect", async () => {
    const before = await sideEffects();
    const machine = local.stateMachineArns.prod;
    const problems: string[] = [];
    for (const [index, bad] of badInputs(SEED, COUNT).entries()) {
      const started = await sfn
        .send(
          new StartExecutionCommand({
            stateMachineArn: bad.stateMachineArn?.replace("{machine}", machine) ?? machine,
            name: bad.name ?? `bad-${index}`,
            input: bad.input,
          }),
        )
        .then(
          (out) => ({ arn: out.executionArn as string }),
          (error: Error) => ({ error }),
        );
      if (bad.expected === "refused at API") {
        if (!("error" in started) || started.error.name !== bad.apiError)
          problems.push(
            `${bad.description}: expected ${bad.apiError}, got ${"error" in started ? started.error.name : "an execution"}`,
          );
        continue;
      }
      if ("error" in started) {
        problems.push(`${bad.description}: refused at the API (${started.error.name})`);
        continue;
      }
      const done = await settled(started.arn);
      if (done.status !== "FAILED" || done.error !== bad.expected)
        problems.push(
          `${bad.description}: ended ${done.status} ${done.error ?? ""} ${done.cause?.slice(0, 200) ?? ""}`,
        );
    }
    expect(problems).toEqual([]);
    expect(await sideEffects()).toEqual(before);
  }, 120_000);
});
