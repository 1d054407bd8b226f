import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FINISHING_STATES, stageOfStateMachine, WORKFLOW_STATES } from "./names.ts";

interface State {
  readonly Type: string;
  readonly Next?: string;
  readonly Resource?: string;
  readonly ResultPath?: string | null;
  readonly Parameters?: Record<string, unknown>;
  readonly Catch?: readonly { readonly Next: string; readonly ResultPath?: string }[];
}

const asl = JSON.parse(
  readFileSync(new URL("../../../../state-machines/workflow.asl.json", import.meta.url), "utf8"),
) as { States: Record<string, State> };
const states = Object.entries(asl.States);
const state = (name: string): State => {
  const found = asl.States[name];
  if (!found) throw new Error(`${name} is not a state of workflow.asl.json`);
  return found;
};
const tasksOf = (functionKey: string) =>
  states
    .filter(([, s]) => s.Type === "Task" && s.Resource === `\${${functionKey}FunctionArn}`)
    .map(([name]) => name)
    .sort();

describe("the state names the history reader relies on", () => {
  it("are all states of state-machines/workflow.asl.json", () => {
    for (const name of Object.values(WORKFLOW_STATES))
      expect(asl.States, name).toHaveProperty(name);
  });

  it("the approval gate and the two holds are the Tasks that wait for a task token", () => {
    const waiting = states
      .filter(([, s]) => s.Resource?.endsWith(".waitForTaskToken"))
      .map(([name]) => name)
      .sort();
    expect(waiting).toEqual(
      [WORKFLOW_STATES.approvalGate, WORKFLOW_STATES.holdTrafficStep, WORKFLOW_STATES.bake].sort(),
    );
    expect(state(WORKFLOW_STATES.approvalGate)).toMatchObject({
      Type: "Task",
      Next: WORKFLOW_STATES.verifyApproval,
    });
  });

  it("VerifyApproval writes the verified decision to $.approval", () => {
    expect(state(WORKFLOW_STATES.verifyApproval)).toMatchObject({
      Type: "Task",
      Resource: `\${VerifyApprovalFunctionArn}`,
      ResultPath: "$.approval",
    });
  });

  it("Rollback reads $.failure, writes $.rollback, and catches its own failure as $.rollbackFailure", () => {
    const rollback = state(WORKFLOW_STATES.rollback);
    expect(rollback).toMatchObject({
      Type: "Task",
      Resource: `\${RollbackFunctionArn}`,
      ResultPath: "$.rollback",
    });
    expect(rollback.Catch?.map((c) => c.ResultPath)).toEqual(["$.rollbackFailure"]);
    const into = states.flatMap(([, s]) =>
      (s.Catch ?? []).filter((c) => c.Next === WORKFLOW_STATES.rollback),
    );
    expect(into.length).toBeGreaterThan(0);
    for (const c of into) expect(c.ResultPath).toBe("$.failure");
  });

  it("the finishing states are the Tasks of the finish function, and write $.outcome", () => {
    expect([...FINISHING_STATES].sort()).toEqual(tasksOf("Finish"));
    expect(state(WORKFLOW_STATES.finish).Parameters).toMatchObject({ result: "succeeded" });
    expect(state(WORKFLOW_STATES.finishAfterFailure).Parameters).toMatchObject({
      result: "failed",
    });
    for (const name of FINISHING_STATES) expect(state(name).ResultPath, name).toBe("$.outcome");
  });

  it("each alarm check follows its hold Task, however the hold ends, and writes $.rollout", () => {
    const checks = [WORKFLOW_STATES.checkAlarms, WORKFLOW_STATES.checkBakeAlarms];
    expect([...checks].sort()).toEqual(tasksOf("CheckAlarms"));
    const holds = [
      [WORKFLOW_STATES.holdTrafficStep, WORKFLOW_STATES.checkAlarms],
      [WORKFLOW_STATES.bake, WORKFLOW_STATES.checkBakeAlarms],
    ] as const;
    for (const [hold, check] of holds) {
      expect(state(check).ResultPath, check).toBe("$.rollout");
      // The reader shows a hold's end and alarms from the state's input: the whole state.
      expect(state(hold), hold).toMatchObject({
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: { FunctionName: `\${HoldFunctionArn}`, Payload: { "rollout.$": "$.rollout" } },
        ResultPath: null,
        Next: check,
      });
      expect(
        state(hold).Catch?.find((c) => c.Next === check),
        hold,
      ).toBeDefined();
      const into = states.filter(
        ([, s]) => s.Next === check || (s.Catch ?? []).some((c) => c.Next === check),
      );
      expect(
        into.map(([name]) => name),
        check,
      ).toEqual([hold]);
    }
  });
});

describe("stageOfStateMachine", () => {
  it("reads the stage from a state machine's name or ARN", () => {
    expect(stageOfStateMachine("arn:aws:states:us-east-1:1:stateMachine:gantry-preprod")).toBe(
      "preprod",
    );
    expect(
      stageOfStateMachine("arn:aws:states:us-east-1:1:stateMachine:gantry-prod-Workflow"),
    ).toBe("prod");
    expect(stageOfStateMachine("gantry-prod")).toBe("prod");
    expect(stageOfStateMachine("gantry-preprod")).toBe("preprod");
  });

  it("says nothing for a name without a stage", () => {
    expect(stageOfStateMachine("arn:aws:states:us-east-1:1:stateMachine:other")).toBeUndefined();
    expect(stageOfStateMachine("gantry-production")).toBeUndefined();
    expect(stageOfStateMachine(undefined)).toBeUndefined();
    expect(stageOfStateMachine("")).toBeUndefined();
  });
});
