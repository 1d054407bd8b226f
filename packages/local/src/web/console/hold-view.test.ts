import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../control-plane/history.ts";
import { renderStatePanel, renderSummary } from "./execution-page.ts";
import { ExecutionTracker } from "./execution-status.ts";
import type { ExecutionListing } from "./executions.ts";
import { layoutGraph } from "./graph-layout.ts";
import { type AslDefinition, graphOf } from "./graph-model.ts";
import { nodeView } from "./graph-svg.ts";
import { holdOf, renderHold } from "./hold-view.ts";

// The deployed workflow: its hold states are the ones the console must read.
const asl = JSON.parse(
  readFileSync(new URL("../../../../../state-machines/workflow.asl.json", import.meta.url), "utf8"),
) as AslDefinition;
const graph = graphOf(asl);

const T = Date.UTC(2026, 11, 1, 10, 0, 0);
const ENDS = T + 6_000;
const ALARM = "hello-prod-errors";
const holdInput = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    plan: { stage: "prod", alarms: [ALARM, "hello-prod-latency"] },
    execution: { id: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:e1" },
    rollout: {
      phase: "steps",
      weight: 10,
      newVersion: "4",
      previousVersion: "3",
      holdEndsAt: new Date(ENDS).toISOString(),
      holdTimeoutSeconds: 8,
      ...overrides,
    },
  });

/** The events the local control plane records for a hold: a callback Task on the hold function. */
function history() {
  const events: HistoryEvent[] = [];
  const add = (type: string, at: number, details: Record<string, unknown> = {}) =>
    events.push({
      id: events.length + 1,
      previousEventId: events.length,
      timestamp: at,
      type,
      ...details,
    });
  add("ExecutionStarted", T - 1000, { executionStartedEventDetails: { input: "{}" } });
  const enter = (name: string, at: number, input = holdInput()) => {
    add("TaskStateEntered", at, { stateEnteredEventDetails: { name, input } });
    add("TaskScheduled", at, { taskScheduledEventDetails: { resourceType: "lambda" } });
    add("TaskStarted", at);
    add("TaskSubmitted", at + 5, { taskSubmittedEventDetails: { output: "{}" } });
  };
  const exit = (name: string, at: number, output = holdInput()) =>
    add("TaskStateExited", at, { stateExitedEventDetails: { name, output } });
  return { events, add, enter, exit };
}

function tracked(events: readonly HistoryEvent[]) {
  const tracker = new ExecutionTracker(graph);
  for (const event of events) tracker.apply(event);
  return tracker;
}

const listing = {
  executionArn: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:e1",
  name: "e1",
  service: "hello-service",
  stage: "prod",
  version: "4",
  startDate: T - 1000,
} as ExecutionListing;

describe("a hold while it waits", () => {
  const h = history();
  h.enter("HoldTrafficStep", T);
  const tracker = tracked(h.events);

  it("reads the share, the deadline and the alarms from the state's input", () => {
    expect(holdOf(tracker.run("HoldTrafficStep"))).toEqual({
      state: "HoldTrafficStep",
      check: "CheckAlarms",
      bake: false,
      version: "4",
      weight: 10,
      endsAt: ENDS,
      alarms: [ALARM, "hello-prod-latency"],
      ending: "waiting",
    });
  });

  it("says so in the summary: what is held, until when, and what ends it early", () => {
    const text = renderSummary({ listing, tracker, now: T + 1_500 }).value;
    expect(text).toContain("data-hold-now");
    expect(text).toContain('data-hold="waiting"');
    expect(text).toContain("<strong>v4 at 10%</strong> of traffic");
    expect(text).toContain(`datetime="${new Date(ENDS).toISOString()}"`);
    expect(text).toContain("10:00:06.000</time> UTC (4.5 s left)");
    expect(text).toContain(`<code data-hold-alarm="${ALARM}">${ALARM}</code>`);
    expect(text).toContain("ends early, with a rollback, if any of them enters ALARM");
    // Past its deadline, still waiting: its callback (or its timeout) is on the way.
    expect(renderSummary({ listing, tracker, now: ENDS + 10 }).value).toContain(
      "(its time is up: waiting for its schedule, or its timeout)",
    );
  });

  it("draws the hold's node as waiting, not merely running", () => {
    const node = graph.nodes.find((n) => n.name === "HoldTrafficStep");
    expect(node?.callback).toBe(true);
    const view = nodeView(node as NonNullable<typeof node>, tracker.run("HoldTrafficStep"));
    expect(view).toMatchObject({ status: "running", caption: "waiting" });
    // A plain Task that runs is running.
    expect(
      nodeView({ name: "Deploy", type: "Task" }, {
        ...view,
        name: "Deploy",
        type: "Task",
        visits: 1,
      } as never).caption,
    ).toBe("running");
  });

  it("leaves the summary alone once the hold has ended", () => {
    const later = history();
    later.enter("HoldTrafficStep", T);
    later.add("TaskSucceeded", ENDS + 3, { taskSucceededEventDetails: { output: "{}" } });
    later.exit("HoldTrafficStep", ENDS + 3);
    later.add("TaskStateEntered", ENDS + 4, {
      stateEnteredEventDetails: { name: "CheckAlarms", input: holdInput() },
    });
    const text = renderSummary({ listing, tracker: tracked(later.events), now: ENDS + 5 }).value;
    expect(text).not.toContain("data-hold");
  });
});

describe("how a hold ended", () => {
  it("its time was up: its schedule completed it, and CheckAlarms ran next", async () => {
    const h = history();
    h.enter("HoldTrafficStep", T);
    h.add("TaskSucceeded", ENDS + 3, {
      taskSucceededEventDetails: { output: '{"holdId":"steps-0","endedBy":"time"}' },
    });
    h.exit("HoldTrafficStep", ENDS + 3);
    const tracker = tracked(h.events);
    const hold = holdOf(tracker.run("HoldTrafficStep"));
    expect(hold).toMatchObject({ ending: "time-up", endedAt: ENDS + 3 });
    expect(hold?.error).toBeUndefined();
    const text = renderHold(hold as NonNullable<typeof hold>, ENDS + 10).value;
    expect(text).toContain('data-hold="time-up"');
    expect(text).toContain("its time was up at 10:00:06.003");
    expect(text).toContain("CheckAlarms read the alarms next");
    // The state panel of the hold has it too.
    const layout = await layoutGraph(graph);
    const panel = renderStatePanel({ layout, tracker }, "HoldTrafficStep", ENDS + 10).value;
    expect(panel).toContain("<h3>Hold</h3>");
    expect(panel).toContain('data-hold="time-up"');
    // Other states have no hold.
    expect(renderStatePanel({ layout, tracker }, "ValidateInput").value).not.toContain("data-hold");
  });

  it("a success before its time is no schedule's: it says so, whatever the callback's output claims", () => {
    const h = history();
    h.enter("HoldTrafficStep", T);
    h.add("TaskSucceeded", T + 1_000, {
      taskSucceededEventDetails: { output: '{"endedBy":"time"}' },
    });
    h.exit("HoldTrafficStep", T + 1_000);
    const hold = holdOf(tracked(h.events).run("HoldTrafficStep"));
    expect(hold?.ending).toBe("early");
    const text = renderHold(hold as NonNullable<typeof hold>, T + 2_000).value;
    expect(text).toContain("before its time");
    expect(text).toContain("holds the step again while its time is not up");
  });

  it("an alarm ended it early: AlarmTriggered, caught, rolled back, with the cause in words", () => {
    const cause = `${ALARM} in ALARM since 2026-12-01T10:00:02.000Z (Threshold Crossed) while version 4 had 10% of traffic`;
    const h = history();
    h.enter("HoldTrafficStep", T);
    h.add("TaskFailed", T + 2_010, {
      taskFailedEventDetails: { resourceType: "lambda", error: "AlarmTriggered", cause },
    });
    h.exit(
      "HoldTrafficStep",
      T + 2_010,
      JSON.stringify({ failure: { Error: "AlarmTriggered", Cause: cause } }),
    );
    h.add("TaskStateEntered", T + 2_011, {
      stateEnteredEventDetails: { name: "Rollback", input: "{}" },
    });
    const tracker = tracked(h.events);
    expect(tracker.takenEdges().has("HoldTrafficStep->Rollback:catch")).toBe(true);
    const hold = holdOf(tracker.run("HoldTrafficStep"));
    expect(hold).toMatchObject({
      ending: "alarm",
      error: "AlarmTriggered",
      cause,
      endedAt: T + 2_010,
    });
    const text = renderHold(hold as NonNullable<typeof hold>, T + 3_000).value;
    expect(text).toContain('data-hold="alarm"');
    expect(text).toContain("ended early at 10:00:02.010");
    expect(text).toContain("Rolled back.");
    expect(text).toContain(cause);
  });

  it("an alarm already in ALARM when the hold started: the hold function's own error, read as words", () => {
    const h = history();
    h.enter("Bake", T, holdInput({ phase: "bake", weight: 100 }));
    h.add("TaskFailed", T + 20, {
      taskFailedEventDetails: {
        error: "AlarmTriggered",
        cause: JSON.stringify({
          errorType: "AlarmTriggered",
          errorMessage: `${ALARM} in ALARM`,
          stackTrace: [],
        }),
      },
    });
    h.exit("Bake", T + 20, "{}");
    const hold = holdOf(tracked(h.events).run("Bake"));
    expect(hold).toMatchObject({
      ending: "alarm",
      bake: true,
      check: "CheckBakeAlarms",
      cause: `${ALARM} in ALARM`,
    });
    expect(renderHold(hold as NonNullable<typeof hold>, T).value).toContain(
      "Baking <strong>v4 at 100%</strong>",
    );
  });

  it("no callback came: the Task timed out and the check ran anyway", () => {
    const h = history();
    h.enter("Bake", T, holdInput({ phase: "bake", weight: 100 }));
    h.add("TaskTimedOut", ENDS + 2_000, {
      taskTimedOutEventDetails: { error: "States.Timeout", cause: "" },
    });
    h.exit("Bake", ENDS + 2_000);
    h.add("TaskStateEntered", ENDS + 2_001, {
      stateEnteredEventDetails: { name: "CheckBakeAlarms", input: "{}" },
    });
    const tracker = tracked(h.events);
    expect(tracker.takenEdges().has("Bake->CheckBakeAlarms:catch")).toBe(true);
    const hold = holdOf(tracker.run("Bake"));
    expect(hold).toMatchObject({ ending: "timed-out" });
    expect(hold?.error).toBeUndefined();
    const text = renderHold(hold as NonNullable<typeof hold>, ENDS + 3_000).value;
    expect(text).toContain("the Task timed out at 10:00:08.000");
    expect(text).toContain("CheckBakeAlarms read the alarms anyway");
  });

  it("another error fails it (rolled back); a stop ends it where it was", () => {
    const failed = history();
    failed.enter("HoldTrafficStep", T);
    failed.add("TaskFailed", T + 30, {
      taskFailedEventDetails: { error: "ConfigurationError", cause: "alarms not found: x" },
    });
    failed.exit("HoldTrafficStep", T + 30, "{}");
    expect(holdOf(tracked(failed.events).run("HoldTrafficStep"))).toMatchObject({
      ending: "failed",
      error: "ConfigurationError",
      cause: "alarms not found: x",
    });

    const stopped = history();
    stopped.enter("HoldTrafficStep", T);
    stopped.add("ExecutionAborted", T + 40, {
      executionAbortedEventDetails: { error: "OperatorStop", cause: "wrong version" },
    });
    const hold = holdOf(tracked(stopped.events).run("HoldTrafficStep"));
    expect(hold).toMatchObject({ ending: "stopped", error: "OperatorStop" });
    expect(renderHold(hold as NonNullable<typeof hold>, T + 50).value).toContain(
      "the execution ended while it waited (<code>OperatorStop</code>: wrong version)",
    );
  });
});

describe("escaping", () => {
  it("alarm names, versions and causes from the history are text, never markup", () => {
    const evil = '<img src=x onerror="alert(1)">';
    const h = history();
    h.add("TaskStateEntered", T, {
      stateEnteredEventDetails: {
        name: "HoldTrafficStep",
        input: JSON.stringify({
          plan: { alarms: [evil] },
          rollout: { weight: 10, newVersion: evil, holdEndsAt: new Date(ENDS).toISOString() },
        }),
      },
    });
    h.add("TaskFailed", T + 1, {
      taskFailedEventDetails: { error: "AlarmTriggered", cause: evil },
    });
    h.exit("HoldTrafficStep", T + 1, "{}");
    const hold = holdOf(tracked(h.events).run("HoldTrafficStep"));
    const text = renderHold(hold as NonNullable<typeof hold>, T).value;
    expect(text).not.toContain("<img");
    expect(text).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("a hold with no readable input still renders, saying what it can", () => {
    const h = history();
    h.add("TaskStateEntered", T, {
      stateEnteredEventDetails: { name: "HoldTrafficStep", input: "not json" },
    });
    const hold = holdOf(tracked(h.events).run("HoldTrafficStep"));
    expect(hold).toMatchObject({ ending: "waiting", alarms: [] });
    expect(hold?.endsAt).toBeUndefined();
    const text = renderHold(hold as NonNullable<typeof hold>, T).value;
    expect(text).toContain("the new version's share of traffic until its deadline");
    expect(text).toContain("no alarm");
  });
});
