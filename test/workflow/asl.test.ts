/**
 * Lints state-machines/workflow.asl.json: asl-validator, plus the rules Gantry relies on that
 * asl-validator does not check (JSONPath only, explicit timeouts, retries, catches routed to
 * rollback or lock release, named Fail states, States.ALL last).
 */
import { readFileSync } from "node:fs";
import {
  FAILURE_NAMES,
  HISTORY_EVENTS,
  STATE_MACHINE_TIMEOUT_SECONDS,
  WORK_SECONDS,
  WORKFLOW_FUNCTIONS,
} from "@gantry/core";
import { loadWorkflowDefinition, WORKFLOW_ASL_PATH } from "@gantry/local";
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  ResultPath?: string | null;
  Retry?: { ErrorEquals: string[]; [key: string]: unknown }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Choices?: { Next: string; Variable?: string; StringEquals?: string }[];
  Default?: string;
  Error?: string;
  CausePath?: string;
  Parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

const raw = readFileSync(WORKFLOW_ASL_PATH, "utf8");
const asl = JSON.parse(raw) as {
  StartAt: string;
  States: Record<string, State>;
  [key: string]: unknown;
};
const states = Object.entries(asl.States);
const tasks = states.filter(([, s]) => s.Type === "Task");

/** States reachable from `from` by Next/Choices/Default (not Catch). */
function successors(name: string): string[] {
  const s = asl.States[name] as State;
  return [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next)].filter(
    (n): n is string => !!n,
  );
}

/** The normal (non-failure) path from Deploy up to the success end. */
function normalPathFrom(start: string): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...successors(name));
  }
  return seen;
}

describe("the workflow definition", () => {
  it("passes asl-validator with its placeholders substituted", () => {
    const { definition } = loadWorkflowDefinition("prod");
    const { isValid, errorsText } = aslValidator(definition, { checkArn: true, checkPaths: true });
    expect(errorsText("\n")).toBe("");
    expect(isValid).toBe(true);
  });

  it("uses JSONPath only: no JSONata, Assign, Arguments, Output or Variables", () => {
    expect(raw).not.toMatch(/"QueryLanguage"|"Assign"|"Arguments"|"Output"|\{%/);
  });

  it("never writes a ResultPath of '$' (the local engine stores it under a literal key)", () => {
    for (const [name, s] of states) {
      expect(s.ResultPath, name).not.toBe("$");
      for (const c of s.Catch ?? []) expect(c.ResultPath, `${name} catch`).not.toBe("$");
    }
  });

  it("names every function through a known <Key>FunctionArn placeholder", () => {
    const placeholders = new Set(
      [...raw.matchAll(/\$\{([A-Za-z]+)FunctionArn\}/g)].map((m) => m[1]),
    );
    expect([...placeholders].sort()).toEqual(Object.keys(WORKFLOW_FUNCTIONS).sort());
  });

  it("gives every Task an explicit timeout", () => {
    for (const [name, s] of tasks) {
      expect(s.TimeoutSeconds !== undefined || s.TimeoutSecondsPath !== undefined, name).toBe(true);
    }
  });

  it("retries transient AWS errors with backoff on every Task, with well-formed retriers", () => {
    const known = new Set([
      "ErrorEquals",
      "IntervalSeconds",
      "MaxAttempts",
      "BackoffRate",
      "MaxDelaySeconds",
      "JitterStrategy",
      "Comment",
    ]);
    for (const [name, s] of tasks) {
      const retrier = (s.Retry ?? []).find((r) => r.ErrorEquals.includes("TransientError"));
      expect(retrier, name).toBeDefined();
      expect(retrier?.ErrorEquals, name).toEqual(
        expect.arrayContaining(["Lambda.ServiceException", "Lambda.TooManyRequestsException"]),
      );
      expect(Number(retrier?.BackoffRate), name).toBeGreaterThan(1);
      expect(Number(retrier?.MaxAttempts), name).toBeGreaterThanOrEqual(3);
      for (const r of s.Retry ?? [])
        for (const key of Object.keys(r))
          expect(known.has(key), `${name}: Retry.${key}`).toBe(true);
    }
  });

  it("puts States.ALL last in every Catch and Retry list", () => {
    for (const [name, s] of states) {
      for (const list of [s.Catch ?? [], s.Retry ?? []]) {
        list.forEach((entry, i) => {
          if (entry.ErrorEquals.includes("States.ALL")) {
            expect(entry.ErrorEquals, name).toEqual(["States.ALL"]);
            expect(i, name).toBe(list.length - 1);
          }
        });
      }
    }
  });

  it("routes every failure after the deploy starts to Rollback", () => {
    // A rollout the version analysis halted reaches Rollback through a Choice and
    // NoteAnalysisFailure, not a Catch: those two are its failure path, not the normal one.
    expect(asl.States.NoteAnalysisFailure?.Next).toBe("Rollback");
    const failurePath = ["Rollback", "FinishAfterFailure"];
    const afterDeploy = [...normalPathFrom("Deploy")].filter(
      (n) => asl.States[n]?.Type === "Task" && n !== "Finish" && !failurePath.includes(n),
    );
    expect(afterDeploy.sort()).toEqual([
      "Bake",
      "Canary",
      "CheckAlarms",
      "CheckBakeAlarms",
      "Deploy",
      "HoldTrafficStep",
      "Promote",
    ]);
    for (const name of afterDeploy) {
      const catchers = asl.States[name]?.Catch ?? [];
      expect(catchers.at(-1), name).toMatchObject({
        ErrorEquals: ["States.ALL"],
        Next: "Rollback",
      });
    }
  });

  it("releases the lock on every failure path before the deploy, and after a rollback", () => {
    for (const name of ["AcquireLock", "VerifyPreprod", "ApprovalGate", "CopyArtifact"]) {
      expect(asl.States[name]?.Catch?.at(-1), name).toMatchObject({
        ErrorEquals: ["States.ALL"],
        Next: "FinishAfterFailure",
      });
    }
    expect(asl.States.Rollback?.Next).toBe("FinishAfterFailure");
    expect(asl.States.Rollback?.Catch?.at(-1)).toMatchObject({
      Next: "FinishAfterFailure",
      ResultPath: "$.rollbackFailure",
    });
    expect(asl.States.FinishAfterFailure?.Next).toBe("ReportFailure");
    expect(asl.States.Finish?.Next).toBe("Deployed");
  });

  it("drops the raw input when validation fails, so nothing downstream reads unvalidated fields", () => {
    expect(asl.States.ValidateInput?.Catch).toEqual([
      { ErrorEquals: ["States.ALL"], Next: "DiscardRawInput" },
    ]);
    expect(asl.States.DiscardRawInput).toMatchObject({
      Type: "Pass",
      Parameters: { "failure.$": "$" },
    });
  });

  it("ends every failure in a Fail state named after what happened", () => {
    const fails = states.filter(([, s]) => s.Type === "Fail");
    for (const [name, s] of fails) expect(s.Error, name).toBe(name);
    const routed = (asl.States.ReportFailure?.Choices ?? []).map((c) => c.StringEquals);
    for (const failure of FAILURE_NAMES) {
      expect(asl.States[failure]?.Type, failure).toBe("Fail");
      if (failure !== "DeploymentFailed") expect(routed, failure).toContain(failure);
    }
    expect(asl.States.ReportFailure?.Default).toBe("DeploymentFailed");
  });

  it("waits for the approval with a task token and a timeout of its own", () => {
    const gate = asl.States.ApprovalGate as State;
    expect(gate.Resource).toBe("arn:aws:states:::lambda:invoke.waitForTaskToken");
    expect(gate.TimeoutSecondsPath).toBe("$.plan.approval.timeoutSeconds");
    expect((gate.Parameters?.Payload as Record<string, unknown> | undefined)?.["taskToken.$"]).toBe(
      "$$.Task.Token",
    );
    expect(gate.Catch?.[0]).toMatchObject({
      ErrorEquals: ["States.Timeout"],
      Next: "NoteApprovalTimeout",
    });
  });

  it("holds each traffic step and the bake with one hold Task, one check Task and one Choice per hold", () => {
    for (const [hold, check, choice] of [
      ["HoldTrafficStep", "CheckAlarms", "AllStepsHeld"],
      ["Bake", "CheckBakeAlarms", "BakeComplete"],
    ] as const) {
      expect(asl.States[hold], hold).toMatchObject({
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: {
          FunctionName: `\${HoldFunctionArn}`,
          Payload: {
            "taskToken.$": "$$.Task.Token",
            "plan.$": "$.plan",
            "execution.$": "$.execution",
            "rollout.$": "$.rollout",
          },
        },
        TimeoutSecondsPath: "$.rollout.holdTimeoutSeconds",
        // Completing a token proves nothing: the hold's output is dropped, the check decides.
        ResultPath: null,
        Next: check,
      });
      // A hold that times out (its end-of-hold callback lost) is checked all the same, with the
      // state untouched; anything else (AlarmTriggered from an alarm's event) rolls back.
      expect(asl.States[hold]?.Catch, hold).toEqual([
        { ErrorEquals: ["States.Timeout"], ResultPath: null, Next: check },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "Rollback" },
      ]);
      expect(asl.States[check]).toMatchObject({
        Type: "Task",
        Resource: `\${CheckAlarmsFunctionArn}`,
        ResultPath: "$.rollout",
        Next: choice,
      });
      expect(asl.States[choice]?.Type).toBe("Choice");
      expect(asl.States[choice]?.Default).toBe(hold);
    }
    // No polling Wait is left on the way to a check.
    const checks: (string | undefined)[] = ["CheckAlarms", "CheckBakeAlarms"];
    for (const [name, s] of states)
      if (s.Type === "Wait") expect(checks, name).not.toContain(s.Next);
  });
});

describe("the quota model agrees with the definition", () => {
  const loopTasks = new Set(["HoldTrafficStep", "CheckAlarms", "Bake", "CheckBakeAlarms"]);

  it("uses the state machine's own timeout", () => {
    expect(asl.TimeoutSeconds).toBe(STATE_MACHINE_TIMEOUT_SECONDS);
  });

  it("budgets every Task outside the hold loops: its timeout once, and one retry's backoff", () => {
    const outside = tasks.filter(
      ([name, s]) => !loopTasks.has(name) && s.TimeoutSeconds !== undefined,
    );
    const work = outside.reduce((sum, [, s]) => {
      const backoff = Math.max(0, ...(s.Retry ?? []).map((r) => Number(r.MaxDelaySeconds ?? 0)));
      return sum + (s.TimeoutSeconds ?? 0) + backoff;
    }, 0);
    expect(work).toBeLessThanOrEqual(WORK_SECONDS.fixed);
  });

  it("counts at least the Tasks there are, and one hold Task, one check Task and one Choice per hold", () => {
    expect(tasks.length).toBeLessThanOrEqual(14 + loopTasks.size);
    for (const [hold, check, choice] of [
      ["HoldTrafficStep", "CheckAlarms", "AllStepsHeld"],
      ["Bake", "CheckBakeAlarms", "BakeComplete"],
    ] as const) {
      expect([asl.States[hold]?.Type, asl.States[check]?.Type, asl.States[choice]?.Type]).toEqual([
        "Task",
        "Task",
        "Choice",
      ]);
      expect(asl.States[hold]?.Resource).toMatch(/\.waitForTaskToken$/);
      expect(asl.States[hold]?.Next).toBe(check);
      expect(asl.States[check]?.Next).toBe(choice);
    }
    // A callback Task writes one event more than a plain one (TaskSubmitted, when its function
    // returns): entered, scheduled, started, submitted, succeeded or timed out, exited.
    expect(HISTORY_EVENTS.hold).toBe(HISTORY_EVENTS.task + 1 + HISTORY_EVENTS.task + 2);
  });
});
