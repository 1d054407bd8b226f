import { type DeploymentUpdate, HistoryReader } from "@gantry/core";
import { regressedVerdict, testSample, testVerdict, verifiedTrigger } from "@gantry/core/testing";
import { describe, expect, it } from "vitest";
import type { OutputStream } from "../io.ts";
import type { DeploymentSummary } from "../summary.ts";
import { formatDuration, orList, table } from "./format.ts";
import { JsonRenderer } from "./json.ts";
import { PlainRenderer } from "./plain.ts";
import { isLiveTerminal } from "./select.ts";
import {
  describeApproval,
  describeSummary,
  describeTraffic,
  describeUpdate,
  describeVerdict,
} from "./text.ts";
import { ANSI, TtyRenderer } from "./tty.ts";

function sink(tty = false): OutputStream & { text: string } {
  const out = {
    text: "",
    isTTY: tty,
    columns: 100,
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  };
  return out;
}

const T = Date.parse("2026-11-22T10:00:00.000Z");
const context = { executionName: "hello-service-3f2a9c1e0b12-ab12cd34", stage: "prod" };
const progress = new HistoryReader().progress;

const summary: DeploymentSummary = {
  executionArn: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:x",
  name: "x",
  stateMachineArn: null,
  stage: "prod",
  service: "hello-service",
  version: "3f2a9c1e0b12aabb",
  artifact: { key: null, sha256: null },
  actor: "octocat",
  status: "FAILED",
  result: "rolled-back",
  exitCode: 3,
  outcome: { status: "rolled-back" },
  error: "AlarmTriggered",
  cause: "errors in ALARM",
  startedAt: new Date(T).toISOString(),
  stoppedAt: new Date(T + 65_000).toISOString(),
  durationSeconds: 65,
  states: [],
  traffic: null,
  approval: null,
  rollback: null,
  trigger: null,
  fixFor: [],
  analysis: [],
};

const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";
const verified = verifiedTrigger({
  sha: "3f2a9c1e0b12aabbccddeeff0011223344556677",
  workflow: "release",
  runId: "42",
});

describe("formatting", () => {
  it("formats durations and lists for people", () => {
    expect(formatDuration(19)).toBe("19 ms");
    expect(formatDuration(1_234)).toBe("1.2 s");
    expect(formatDuration(125_000)).toBe("2 min 05 s");
    expect(formatDuration(3_720_000)).toBe("1 h 02 min");
    expect(orList(["a"])).toBe("a");
    expect(orList(["a", "b", "c"])).toBe("a, b or c");
    expect(
      table([
        ["NAME", "X"],
        ["long-name", "y"],
      ]),
    ).toBe("NAME       X\nlong-name  y");
  });

  it("describes traffic, approvals and the end", () => {
    expect(
      describeTraffic({ weight: 25, phase: "steps", newVersion: "7", previousVersion: "6" }),
    ).toBe("traffic: 25% on version 7, 75% on version 6");
    expect(
      describeTraffic({ weight: 0, phase: "rolled-back", newVersion: "7", previousVersion: "6" }),
    ).toBe("traffic: 100% back on version 6");
    expect(
      describeTraffic({ weight: 0, phase: "promote", newVersion: "6", previousVersion: "6" }),
    ).toContain("nothing to shift");
    expect(
      describeApproval(
        { status: "waiting", approvers: ["a@x.io", "b@x.io"] },
        { ...context, webEndpoint: "http://127.0.0.1:8084" },
      ),
    ).toEqual([
      "approval: waiting for a@x.io or b@x.io; links emailed to a@x.io, b@x.io (local outbox: http://127.0.0.1:8084/outbox)",
      `approval: or at a terminal, as a registered operator: gantry approve ${context.executionName} [--as <approver>]`,
    ]);
    expect(describeSummary(summary)).toEqual([
      "Rolled back: hello-service 3f2a9c1e0b12 was not deployed to prod in 1 min 05 s. AlarmTriggered: errors in ALARM",
      `execution ${summary.executionArn}`,
      "exit code 3 (rolled back)",
    ]);
    expect(
      describeUpdate(
        { kind: "state-entered", at: T, state: "AllStepsHeld", type: "Choice" },
        context,
      ),
    ).toEqual([]);
  });
});

describe("the trigger and automatic approvals", () => {
  it("says what was verified, in one line", () => {
    expect(
      describeUpdate({ kind: "trigger", at: T, trigger: { actor: "octocat", verified } }, context),
    ).toEqual([
      "trigger: octocat — verified by token.actions.githubusercontent.com: acme/hello-service@refs/heads/main, commit 3f2a9c1e0b12, workflow release, run 42",
    ]);
  });

  it("marks an unverified trigger as a claim", () => {
    expect(
      describeUpdate({ kind: "trigger", at: T, trigger: { actor: "dependabot[bot]" } }, context),
    ).toEqual(["trigger: dependabot[bot] (unverified claim)"]);
  });

  it("names the auto-approval rule that matched verified claims", () => {
    expect(
      describeApproval(
        {
          status: "approved",
          approvers: [],
          how: "auto",
          by: "auto-approve rule 1",
          rule: { index: 0, matched: "actor dependabot[bot], ref refs/heads/main" },
        },
        context,
      ),
    ).toEqual([
      "approval: approved automatically by rule 1 (actor dependabot[bot], ref refs/heads/main) on verified claims",
    ]);
  });

  it("ends with the trigger, and never prints an ID token", () => {
    const lines = describeSummary({
      ...summary,
      trigger: { actor: "octocat", ciRunUrl: null, verified },
    });
    expect(lines).toContain(
      "trigger: octocat — verified by token.actions.githubusercontent.com: acme/hello-service@refs/heads/main, commit 3f2a9c1e0b12, workflow release, run 42",
    );
    expect(
      describeSummary({ ...summary, trigger: { actor: "x", ciRunUrl: null, verified: null } }),
    ).toContain("trigger: x (unverified claim)");
    // The summary carries no token; the started line shows the request without it either.
    const reader = new HistoryReader();
    const updates = reader.apply([
      {
        id: 1,
        type: "ExecutionStarted",
        timestamp: new Date(T),
        executionStartedEventDetails: {
          input: JSON.stringify({
            service: "hello-service",
            trigger: { actor: "octocat", idToken },
          }),
        },
      },
    ]);
    const started = updates.flatMap((u) => describeUpdate(u, context));
    expect(started).toEqual([
      "execution started: hello-service ? (sha256 ?…) for octocat (claimed)",
    ]);
    const text = [...lines, ...started].join("\n");
    expect(text).not.toContain(idToken);
    expect(text).not.toMatch(/eyJ/);
  });
});

describe("holds", () => {
  it("says until when a hold waits and which alarms end it at once", () => {
    const lines = describeUpdate(
      {
        kind: "state-entered",
        at: T,
        state: "HoldTrafficStep",
        type: "Task",
        until: T + 60_000,
        watching: ["hello-prod-errors", "hello-prod-latency"],
      },
      context,
    );
    expect(lines).toEqual([
      "HoldTrafficStep started (waits until 10:01:00 UTC); ends at once if hello-prod-errors, hello-prod-latency enters ALARM",
    ]);
  });
});

describe("version analysis", () => {
  it("says a passed hold's numbers in one line", () => {
    expect(
      describeVerdict(
        testVerdict({
          newVersion: testSample({ version: "5" }),
          previousVersion: testSample({
            version: "4",
            requests: 1170,
            failures: 1,
            realRequests: 1170,
          }),
        }),
      ),
    ).toBe(
      "analysis at 10%: pass — version 5 0 of 130 failed (0.0%) vs version 4 1 of 1,170 (0.1%), Fisher p = 0.91; p99 1.05x",
    );
  });

  it("shows synthetic requests, an unjudged p99, the bake's baseline and a fix's rule", () => {
    const line = describeVerdict(
      testVerdict({
        phase: "bake",
        weight: 100,
        baseline: { from: "a", to: "b" },
        newVersion: testSample({
          requests: 100,
          failures: 1,
          realRequests: 40,
          synthetic: 60,
          syntheticFailures: 1,
        }),
        latency: { judged: false, reason: "version 2 has 40 real requests, fewer than 100" },
        fix: { alarms: ["hello-prod-errors"], metric: "errors", pValue: 0.0004, improved: true },
      }),
    );
    expect(line).toBe(
      "analysis in the bake: pass — version 2 1 of 100 failed (1.0%, 60 synthetic (1 failed)) vs version 1 1 of 1,170 (0.1%) before the rollout, Fisher p = 0.91; p99 not judged (version 2 has 40 real requests, fewer than 100); fix for hello-prod-errors: error rate better than version 1",
    );
    expect(
      describeVerdict(
        testVerdict({ fix: { alarms: ["slow"], metric: "latency", improved: false } }),
      ),
    ).toContain("fix for slow: p99 NOT better than version 1");
  });

  it("names the failure of a verdict that stopped the deployment, with the analysis's reason", () => {
    const failed = regressedVerdict({ weight: 25 });
    expect(describeVerdict(failed)).toBe(
      `analysis at 25%: FAILED VersionRegressed — ${failed.summary}`,
    );
    expect(
      describeVerdict(
        testVerdict({
          decision: "insufficient",
          failure: "InsufficientData",
          summary: "12 requests < 100",
        }),
      ),
    ).toBe("analysis at 10%: FAILED InsufficientData — 12 requests < 100");
    // A verdict read without its failure name still says which one its decision means.
    const { failure: _f, ...unnamed } = regressedVerdict();
    expect(describeVerdict(unnamed)).toMatch(/^analysis at 10%: FAILED VersionRegressed — /);
    expect(describeVerdict({ ...unnamed, decision: "insufficient" })).toMatch(
      /^analysis at 10%: FAILED InsufficientData — /,
    );
    expect(describeVerdict(testVerdict({ decision: "extend", summary: "12 < 100" }))).toBe(
      "analysis at 10%: hold extended — 12 < 100",
    );
    expect(describeVerdict(testVerdict({ decision: "skipped", summary: "the same version" }))).toBe(
      "analysis at 10%: skipped — the same version",
    );
  });

  it("says no requests rather than a rate of nothing", () => {
    expect(
      describeVerdict(testVerdict({ newVersion: testSample({ requests: 0, realRequests: 0 }) })),
    ).toContain("version 2 0 of 0 failed (no requests)");
  });

  it("prints a verdict as it comes, and marks a failed one on a terminal", () => {
    const out = sink();
    new PlainRenderer(out, sink(), context, () => T).update(
      [{ kind: "analysis", at: T, verdict: { ...testVerdict(), state: "CheckAlarms" } }],
      progress,
    );
    expect(out.text).toMatch(
      /^2026-11-22T10:00:00\.000Z {2}analysis at 10%: pass — version 2 0 of 130/,
    );
    const tty = sink(true);
    const renderer = new TtyRenderer(tty, context, () => T, { colour: false, redrawMs: 1000 });
    renderer.update(
      [
        { kind: "analysis", at: T, verdict: { ...testVerdict(), state: "CheckAlarms" } },
        { kind: "analysis", at: T, verdict: { ...regressedVerdict(), state: "CheckAlarms" } },
      ],
      progress,
    );
    renderer.interrupted([]);
    expect(tty.text).toContain("✓ analysis at 10%: pass");
    expect(tty.text).toContain("✗ analysis at 10%: FAILED VersionRegressed");
  });
});

describe("PlainRenderer", () => {
  it("prints one timestamped line per event, one line for a state that started and ended in one batch", () => {
    const out = sink();
    const renderer = new PlainRenderer(out, sink(), context, () => T);
    const updates: DeploymentUpdate[] = [
      { kind: "state-entered", at: T, state: "Deploy", type: "Task" },
      { kind: "state-exited", at: T + 19, state: "Deploy", type: "Task", durationMs: 19 },
      {
        kind: "traffic",
        at: T + 19,
        traffic: { weight: 10, phase: "steps", newVersion: "7", previousVersion: "6" },
      },
      {
        kind: "state-entered",
        at: T + 20,
        state: "HoldTrafficStep",
        type: "Wait",
        until: T + 60_000,
      },
    ];
    renderer.update(updates, progress);
    expect(out.text).toBe(
      [
        "2026-11-22T10:00:00.019Z  Deploy done (19 ms)",
        "2026-11-22T10:00:00.019Z  traffic: 10% on version 7, 90% on version 6",
        "2026-11-22T10:00:00.020Z  HoldTrafficStep started (waits until 10:01:00 UTC)",
        "",
      ].join("\n"),
    );
  });

  it("writes an update's lines in one chunk, so a reader of the pipe never sees half of one", () => {
    const chunks: string[] = [];
    const out = { isTTY: false, columns: 100, write: (chunk: string) => chunks.push(chunk) > 0 };
    const renderer = new PlainRenderer(out, sink(), context, () => T);
    const approval = { status: "waiting", approvers: ["alice@example.com"] } as const;
    renderer.update([{ kind: "approval", at: T, approval }], progress);
    expect(chunks).toEqual([
      [
        "2026-11-22T10:00:00.000Z  approval: waiting for alice@example.com; links emailed to alice@example.com",
        `2026-11-22T10:00:00.000Z  approval: or at a terminal, as a registered operator: gantry approve ${context.executionName} [--as <approver>]`,
        "",
      ].join("\n"),
    ]);
  });
});

describe("TtyRenderer", () => {
  it("redraws its live lines in place and leaves the finished lines above them", async () => {
    const out = sink(true);
    let now = T;
    const renderer = new TtyRenderer(out, context, () => now, { colour: false, redrawMs: 5 });
    const reader = new HistoryReader();
    renderer.update(
      reader.apply([
        {
          id: 1,
          type: "ExecutionStarted",
          timestamp: new Date(T),
          executionStartedEventDetails: {
            input: JSON.stringify({ service: "hello-service", version: "3f2a9c1e0b12aa" }),
          },
        },
        {
          id: 2,
          type: "TaskStateEntered",
          timestamp: new Date(T),
          stateEnteredEventDetails: { name: "Deploy", input: "{}" },
        },
      ]),
      reader.progress,
    );
    now += 1500;
    await new Promise((r) => setTimeout(r, 30));
    expect(out.text.startsWith(ANSI.hideCursor)).toBe(true);
    expect(out.text).toContain("hello-service 3f2a9c1e0b12 → prod · Deploy 1.5 s · elapsed 1.5 s");
    expect(out.text).toContain(`${ANSI.up(1)}${ANSI.clearBelow}`);
    renderer.finish({
      ...summary,
      result: "deployed",
      exitCode: 0,
      status: "SUCCEEDED",
      error: null,
      cause: null,
    });
    expect(out.text.endsWith(ANSI.showCursor)).toBe(true);
    expect(out.text).toContain("Deployed hello-service 3f2a9c1e0b12 to prod in 1 min 05 s.");
    const settled = out.text.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(out.text.length).toBe(settled); // no redraws after the end
  });

  it("is chosen for a TTY (or GANTRY_FORCE_TTY=1), never for TERM=dumb or GANTRY_FORCE_TTY=0", () => {
    expect(isLiveTerminal({ stdout: sink(true), env: {} })).toBe(true);
    expect(isLiveTerminal({ stdout: sink(false), env: {} })).toBe(false);
    expect(isLiveTerminal({ stdout: sink(false), env: { GANTRY_FORCE_TTY: "1" } })).toBe(true);
    expect(isLiveTerminal({ stdout: sink(true), env: { GANTRY_FORCE_TTY: "0" } })).toBe(false);
    expect(isLiveTerminal({ stdout: sink(true), env: { TERM: "dumb" } })).toBe(false);
  });
});

describe("JsonRenderer", () => {
  it("writes one document to stdout, and the progress as lines to stderr", () => {
    const out = sink();
    const err = sink();
    const renderer = new JsonRenderer(out, err, context, () => T);
    renderer.intro(["deploying"]);
    renderer.update(
      [{ kind: "state-exited", at: T, state: "Deploy", type: "Task", durationMs: 3 }],
      progress,
    );
    renderer.finish(summary);
    renderer.finish(summary);
    expect(JSON.parse(out.text)).toEqual(summary);
    expect(err.text).toContain("2026-11-22T10:00:00.000Z  Deploy done (3 ms)");
  });
});
