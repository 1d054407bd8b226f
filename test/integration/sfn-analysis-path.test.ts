/**
 * The version analysis's failure path of the deployment ASL, run by a second interpreter: moto's
 * port of LocalStack's Step Functions interpreter (the local engine is aws-local-stepfunctions).
 * The states are taken from state-machines/workflow.asl.json as they are; only the Tasks after
 * them are replaced by Pass states, since moto cannot invoke Lambda functions here.
 */
import { readFileSync } from "node:fs";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/local-process.ts";
import { awsConfig, MOTO_ACCOUNT, type Moto, startMoto } from "../support/moto.ts";

interface AslState {
  readonly Type: string;
  readonly [field: string]: unknown;
}

const workflow = JSON.parse(readFileSync(`${ROOT}/state-machines/workflow.asl.json`, "utf8")) as {
  States: Record<string, AslState>;
};
const real = (name: string): AslState => {
  const state = workflow.States[name];
  if (!state) throw new Error(`workflow.asl.json has no state ${name}`);
  return state;
};
/** A stand-in for a Task: records that it was reached and ends the execution. */
const reached = (name: string): AslState => ({
  Type: "Pass",
  Result: name,
  ResultPath: "$.reached",
  End: true,
});

let moto: Moto;
let sfn: SFNClient;
let run = 0;

beforeAll(async () => {
  moto = await startMoto();
  sfn = new SFNClient(awsConfig(moto.endpoint));
});

/**
 * A fresh moto for each run: its interpreter fails to start an execution after another one has
 * run (it deep-copies the backend, thread locks included). Without the config, moto records
 * executions but does not run them.
 */
async function freshInterpreter(): Promise<void> {
  const reset = await fetch(`${moto.endpoint}/moto-api/reset`, { method: "POST" });
  expect(reset.ok).toBe(true);
  const configured = await fetch(`${moto.endpoint}/moto-api/config`, {
    method: "POST",
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  expect(configured.ok).toBe(true);
}

afterAll(async () => {
  sfn?.destroy();
  await moto?.stop();
});

/** Runs `startAt` of a definition made of the real states plus stand-ins; returns its output. */
async function runFrom(
  startAt: "AllStepsHeld" | "BakeComplete",
  input: unknown,
): Promise<Record<string, unknown>> {
  run += 1;
  await freshInterpreter();
  const definition = {
    StartAt: startAt,
    States: {
      [startAt]: real(startAt),
      NoteAnalysisFailure: real("NoteAnalysisFailure"),
      Rollback: reached("Rollback"),
      Promote: reached("Promote"),
      HoldTrafficStep: reached("HoldTrafficStep"),
      Bake: reached("Bake"),
      Finish: reached("Finish"),
    },
  };
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `analysis-path-${run}`,
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gantry-test-sfn`,
      definition: JSON.stringify(definition),
    }),
  );
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: created.stateMachineArn,
      name: `run-${run}`,
      input: JSON.stringify(input),
    }),
  );
  for (let i = 0; i < 200; i++) {
    const described = await sfn.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    );
    if (described.status === "SUCCEEDED") return JSON.parse(described.output ?? "{}");
    if (described.status !== "RUNNING")
      throw new Error(`execution ended ${described.status}: ${described.error} ${described.cause}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the execution did not end within 10 s");
}

const verdict = {
  decision: "fail",
  failure: "VersionRegressed",
  summary: "version 5 failed 20 of 100 requests (20.0%), version 4 0 of 100 (0.0%)",
};

describe("the analysis failure path, in moto's Step Functions interpreter", () => {
  it("turns a halted rollout's verdict into $.failure and rolls back (traffic steps)", async () => {
    const out = await runFrom("AllStepsHeld", { rollout: { phase: "halted", analysis: verdict } });
    expect(out.reached).toBe("Rollback");
    expect(out.failure).toEqual({ Error: "VersionRegressed", Cause: verdict.summary });
  });

  it("does the same after the bake, with InsufficientData", async () => {
    const insufficient = { ...verdict, decision: "insufficient", failure: "InsufficientData" };
    const out = await runFrom("BakeComplete", {
      rollout: { phase: "halted", analysis: insufficient },
    });
    expect(out.reached).toBe("Rollback");
    expect(out.failure).toEqual({ Error: "InsufficientData", Cause: verdict.summary });
  });

  it("leaves the happy path alone: no analysis field is needed to promote or hold again", async () => {
    expect((await runFrom("AllStepsHeld", { rollout: { phase: "promote" } })).reached).toBe(
      "Promote",
    );
    expect((await runFrom("AllStepsHeld", { rollout: { phase: "steps" } })).reached).toBe(
      "HoldTrafficStep",
    );
    expect((await runFrom("BakeComplete", { rollout: { phase: "baked" } })).reached).toBe("Finish");
  });
});
