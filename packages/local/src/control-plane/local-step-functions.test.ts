/**
 * The control plane's hard limits, as Step Functions enforces them: 25,000 history events per
 * execution, and 256 KiB of data per state, both fatal past every Retry and Catch.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TaskTokenRegistry } from "../engine/task-tokens.ts";
import type { TaskHandler } from "../engine/workflow-engine.ts";
import { LocalStepFunctions, MAX_HISTORY_EVENTS } from "./local-step-functions.ts";

const TASK_ARN = "arn:aws:lambda:us-east-1:000000000000:function:big";

let dir: string;
let stepFunctions: LocalStepFunctions | undefined;
let abandoned: { error: string; cause: string }[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gantry-step-functions-"));
  abandoned = [];
});

afterEach(async () => {
  await stepFunctions?.shutdown();
  stepFunctions = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function open(definition: object, handler?: TaskHandler): Promise<LocalStepFunctions> {
  stepFunctions = await LocalStepFunctions.open({
    dir,
    tokens: new TaskTokenRegistry(),
    stateMachines: [
      {
        name: "limits",
        definition: definition as StateMachineDefinition,
        definitionText: JSON.stringify(definition),
        handlers: handler ? { [TASK_ARN]: handler } : {},
      },
    ],
    onAbandoned: async (_machine, _state, error, cause) => {
      abandoned.push({ error, cause });
    },
  });
  return stepFunctions;
}

async function finished(cp: LocalStepFunctions, arn: string) {
  for (let i = 0; i < 6000; i++) {
    const described = cp.describeExecution(arn);
    if (described.status !== "RUNNING") return described;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the execution did not end");
}

describe("the history quota", () => {
  it("fails an execution at 25,000 events with States.Runtime, past its Catch, and hands it to cleanup", async () => {
    // A loop that never ends by itself ($.stop is never set): four events per round.
    const cp = await open({
      StartAt: "Again",
      States: {
        Again: { Type: "Pass", Next: "Over" },
        Over: {
          Type: "Choice",
          Choices: [{ Variable: "$.stop", IsPresent: true, Next: "Done" }],
          Default: "Again",
        },
        Done: { Type: "Succeed" },
      },
    });
    const started = cp.startExecution({
      stateMachineArn: cp.listStateMachines()[0]?.stateMachineArn ?? "",
      name: "forever",
      input: "{}",
    });
    const done = await finished(cp, started.executionArn);
    expect(done).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(done.cause).toContain("25000 events");
    const events = cp.getExecutionHistory({
      executionArn: started.executionArn,
      maxResults: 1000,
      reverseOrder: true,
    }).events;
    const last = events[0];
    expect(last?.type).toBe("ExecutionFailed");
    expect(last?.id).toBeLessThanOrEqual(MAX_HISTORY_EVENTS);
    expect(last?.id).toBeGreaterThan(MAX_HISTORY_EVENTS - 5);
    expect(abandoned).toEqual([{ error: "States.Runtime", cause: done.cause }]);
  }, 120_000);
});

describe("the state size quota", () => {
  const catching = {
    StartAt: "Big",
    States: {
      Big: {
        Type: "Task",
        Resource: TASK_ARN,
        TimeoutSeconds: 10,
        ResultPath: "$.result",
        Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }],
        Next: "Done",
      },
      Caught: { Type: "Succeed" },
      Done: { Type: "Succeed" },
    },
  };

  it("fails with States.DataLimitExceeded when a task's result passes 256 KiB; States.ALL does not catch it", async () => {
    const cp = await open(catching, async () => ({ blob: "x".repeat(300_000) }));
    const started = cp.startExecution({
      stateMachineArn: cp.listStateMachines()[0]?.stateMachineArn ?? "",
      name: "big-result",
      input: "{}",
    });
    const done = await finished(cp, started.executionArn);
    expect(done).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect(done.cause).toContain("the result of state Big");
    expect(abandoned.map((a) => a.error)).toEqual(["States.DataLimitExceeded"]);
  });

  it("fails when the state the result joins would pass 256 KiB, though each part fits", async () => {
    const cp = await open(catching, async () => ({ blob: "y".repeat(150_000) }));
    const started = cp.startExecution({
      stateMachineArn: cp.listStateMachines()[0]?.stateMachineArn ?? "",
      name: "big-state",
      input: JSON.stringify({ carried: "z".repeat(150_000) }),
    });
    const done = await finished(cp, started.executionArn);
    expect(done).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect(done.cause).toContain("the output of state Big");
  });

  it("lets a state of 200 KiB through", async () => {
    const cp = await open(catching, async () => ({ blob: "y".repeat(100_000) }));
    const started = cp.startExecution({
      stateMachineArn: cp.listStateMachines()[0]?.stateMachineArn ?? "",
      name: "fits",
      input: JSON.stringify({ carried: "z".repeat(100_000) }),
    });
    expect((await finished(cp, started.executionArn)).status).toBe("SUCCEEDED");
  });
});
