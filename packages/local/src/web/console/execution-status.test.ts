import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../control-plane/history.ts";
import { ExecutionTracker } from "./execution-status.ts";
import { graphOf } from "./graph-model.ts";

const graph = graphOf({
  StartAt: "Work",
  States: {
    Work: {
      Type: "Task",
      Next: "Wait",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Undo" }],
    },
    Wait: { Type: "Wait", Next: "Check" },
    Check: {
      Type: "Task",
      Next: "Done?",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Undo" }],
    },
    "Done?": {
      Type: "Choice",
      Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "Deployed" }],
      Default: "Wait",
    },
    Undo: { Type: "Task", Next: "Broken" },
    Deployed: { Type: "Succeed" },
    Broken: { Type: "Fail", Error: "Broken" },
  },
} as never);

/** A small history builder: the events the control plane records, with ids and times. */
function history() {
  const events: HistoryEvent[] = [];
  const add = (type: string, details: Record<string, unknown> = {}) =>
    events.push({
      id: events.length + 1,
      previousEventId: events.length,
      timestamp: 1000 + events.length,
      type,
      ...details,
    });
  const enter = (name: string, kind = "Task", input = "{}") =>
    add(`${kind}StateEntered`, { stateEnteredEventDetails: { name, input } });
  const exit = (name: string, kind = "Task", output = "{}") =>
    add(`${kind}StateExited`, { stateExitedEventDetails: { name, output } });
  const fail = (error: string, cause = "") =>
    add("LambdaFunctionFailed", { lambdaFunctionFailedEventDetails: { error, cause } });
  const ok = () =>
    add("LambdaFunctionSucceeded", { lambdaFunctionSucceededEventDetails: { output: "{}" } });
  add("ExecutionStarted", { executionStartedEventDetails: { input: '{"service":"s"}' } });
  return { events, add, enter, exit, fail, ok };
}

function tracked(events: readonly HistoryEvent[]) {
  const tracker = new ExecutionTracker(graph);
  const rows = events.map((e) => tracker.apply(e));
  return { tracker, rows, status: (name: string) => tracker.statuses().get(name) };
}

describe("ExecutionTracker", () => {
  it("runs, loops and succeeds: last visit wins, visits are counted, edges taken", () => {
    const h = history();
    h.enter("Work");
    h.add("LambdaFunctionScheduled");
    const { tracker, status } = tracked(h.events);
    expect(status("Work")).toBe("running");
    expect(tracker.current).toBe("Work");
    expect(status("Wait")).toBe("not-reached");

    h.ok();
    h.exit("Work");
    for (let i = 0; i < 3; i++) {
      h.enter("Wait", "Wait");
      h.exit("Wait", "Wait");
      h.enter("Check", "Task", `{"i":${i}}`);
      h.ok();
      h.exit("Check", "Task", `{"o":${i}}`);
      h.enter("Done?", "Choice");
      h.exit("Done?", "Choice");
    }
    h.enter("Deployed", "Succeed");
    h.exit("Deployed", "Succeed");
    h.add("ExecutionSucceeded", {
      executionSucceededEventDetails: { output: '{"outcome":{"status":"deployed"}}' },
    });
    const done = tracked(h.events);
    expect(done.tracker.status).toBe("SUCCEEDED");
    expect(done.status("Check")).toBe("succeeded");
    expect(done.tracker.run("Check")).toMatchObject({
      visits: 3,
      input: '{"i":2}',
      output: '{"o":2}',
    });
    expect(done.status("Deployed")).toBe("succeeded");
    expect(done.status("Undo")).toBe("not-reached");
    const taken = done.tracker.takenEdges();
    expect(taken.has("Work->Wait:next")).toBe(true);
    expect(taken.has("Done?->Wait:default")).toBe(true);
    expect(taken.has("Done?->Deployed:choice")).toBe(true);
    expect(taken.has("Work->Undo:catch")).toBe(false);
    expect(done.tracker.progress.outcome).toBe("deployed");
  });

  it("a retry that then succeeds is succeeded; a caught failure is caught; the Fail state failed", () => {
    const h = history();
    h.enter("Work");
    h.fail("TransientError");
    h.add("LambdaFunctionScheduled");
    h.ok();
    h.exit("Work");
    h.enter("Wait", "Wait");
    h.exit("Wait", "Wait");
    h.enter("Check");
    h.fail("AlarmTriggered", "errors in ALARM");
    h.exit("Check", "Task", '{"failure":{}}');
    h.enter("Undo");
    h.ok();
    h.exit("Undo");
    h.enter("Broken", "Fail");
    h.add("ExecutionFailed", { executionFailedEventDetails: { error: "Broken", cause: "c" } });
    const { tracker, status, rows } = tracked(h.events);
    expect(status("Work")).toBe("succeeded");
    expect(tracker.run("Work")?.error).toBe("TransientError"); // shown as an earlier attempt
    expect(status("Check")).toBe("caught");
    expect(tracker.run("Check")).toMatchObject({
      error: "AlarmTriggered",
      cause: "errors in ALARM",
    });
    expect(status("Undo")).toBe("succeeded");
    expect(status("Broken")).toBe("failed");
    expect(tracker.status).toBe("FAILED");
    expect(tracker.progress.error).toBe("Broken");
    expect(tracker.takenEdges().has("Check->Undo:catch")).toBe(true);
    expect(tracker.focus()).toBe("Check"); // the original error, not the Fail state
    // Task events are attributed to the state being run.
    expect(rows.find((r) => r.type === "LambdaFunctionFailed")?.state).toBe("Work");
    expect(rows.find((r) => r.type === "ExecutionFailed")?.state).toBeUndefined();
  });

  it("a state the execution was stopped in failed", () => {
    const h = history();
    h.enter("Work");
    h.add("ExecutionAborted", {
      executionAbortedEventDetails: { error: "OperatorStop", cause: "wrong version" },
    });
    const { tracker, status } = tracked(h.events);
    expect(tracker.status).toBe("ABORTED");
    expect(status("Work")).toBe("failed");
    expect(tracker.run("Work")?.error).toBe("OperatorStop");
    expect(tracker.run("Work")?.cause).toBe("wrong version");
    expect(tracker.run("Work")?.exitedAt).toBeUndefined(); // never left: the execution ended in it
    expect(tracker.current).toBeUndefined();
    expect(tracker.progress.outcome).toBe("aborted");
  });

  it("ignores nothing it cannot place: unknown states still get runs", () => {
    const h = history();
    h.enter("NotInTheGraph", "Pass");
    const { tracker } = tracked(h.events);
    expect(tracker.run("NotInTheGraph")?.status).toBe("running");
  });
});
