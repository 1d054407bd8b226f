import type { ApprovalRecord } from "@gantry/core";
import { verifiedTrigger } from "@gantry/core/testing";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../control-plane/history.ts";
import { renderApproval, renderStatePanel, renderSummary } from "./execution-page.ts";
import { ExecutionTracker } from "./execution-status.ts";
import type { ExecutionListing } from "./executions.ts";
import { layoutGraph } from "./graph-layout.ts";
import { graphOf } from "./graph-model.ts";

const SHA = "3f2a9c1e0b12aabbccddeeff0011223344556677";
// Shaped like a JWT: the console must never show it.
const ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";
const VERIFIED = verifiedTrigger({
  issuer: "http://127.0.0.1:8084/oidc",
  sha: SHA,
  workflowRef: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
  runId: "42",
});
const INPUT = {
  service: "hello-service",
  version: SHA,
  artifact: { key: "hello-service/x.zip", sha256: "ab".repeat(32) },
  trigger: { actor: "octocat", idToken: ID_TOKEN },
};
const PLAN = { stage: "prod", approval: { required: true, approvers: ["alice@example.com"] } };

const graph = graphOf({
  StartAt: "ValidateInput",
  States: {
    ValidateInput: { Type: "Task", Next: "ApprovalGate" },
    ApprovalGate: { Type: "Task", Next: "VerifyApproval" },
    VerifyApproval: { Type: "Task", Next: "Done" },
    Done: { Type: "Succeed" },
  },
} as never);

const listing = {
  executionArn: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:e1",
  name: "e1",
  service: "hello-service",
  stage: "prod",
  version: SHA,
  startDate: 1_000,
} as ExecutionListing;

function tracked(events: readonly Omit<HistoryEvent, "id" | "previousEventId" | "timestamp">[]) {
  const tracker = new ExecutionTracker(graph);
  for (const [i, event] of events.entries()) {
    tracker.apply({
      id: i + 1,
      previousEventId: i,
      timestamp: 1_000 + i,
      ...event,
    } as HistoryEvent);
  }
  return tracker;
}

const started = {
  type: "ExecutionStarted",
  executionStartedEventDetails: { input: JSON.stringify(INPUT) },
};
const validateEntered = {
  type: "TaskStateEntered",
  stateEnteredEventDetails: {
    name: "ValidateInput",
    input: JSON.stringify({ input: INPUT, execution: { name: "e1" } }),
  },
};
const validateExited = (trigger: unknown) => ({
  type: "TaskStateExited",
  stateExitedEventDetails: {
    name: "ValidateInput",
    output: JSON.stringify({ request: { ...INPUT, trigger }, plan: PLAN }),
  },
});

describe("the trigger on the execution page", () => {
  it("shows the verified claims in full, with a badge", () => {
    const tracker = tracked([
      started,
      validateEntered,
      validateExited({ actor: "octocat", verified: VERIFIED }),
    ]);
    const text = renderSummary({ listing, tracker, now: 2_000 }).value;
    expect(text).toContain('data-trigger="verified"');
    expect(text).toContain(
      `octocat — verified by http://127.0.0.1:8084/oidc: acme/hello-service@refs/heads/main, commit ${SHA}, workflow acme/hello-service/.github/workflows/release.yml@refs/heads/main, run 42`,
    );
    expect(text).not.toContain("unverified");
  });

  it("marks a trigger without verified claims as an unverified claim, escaped", () => {
    const tracker = tracked([started, validateEntered, validateExited({ actor: "<b>x</b>" })]);
    const text = renderSummary({ listing, tracker, now: 2_000 }).value;
    expect(text).toContain('data-trigger="unverified"');
    expect(text).toContain("&lt;b&gt;x&lt;/b&gt; (unverified claim: no ID token)");
    expect(text).not.toContain("<b>x</b>");
  });

  it("shows the claimed actor as unverified until ValidateInput accepted the request", () => {
    const text = renderSummary({ listing, tracker: tracked([started]), now: 2_000 }).value;
    expect(text).toContain("octocat (unverified claim: no ID token)");
  });

  it("never shows the ID token, not even in ValidateInput's input", async () => {
    const tracker = tracked([
      started,
      validateEntered,
      validateExited({ actor: "octocat", verified: VERIFIED }),
    ]);
    const layout = await layoutGraph(graph);
    const panel = renderStatePanel({ layout, tracker }, "ValidateInput").value;
    expect(panel).toContain("(ID token, not shown)");
    const summary = renderSummary({ listing, tracker, now: 2_000 }).value;
    for (const text of [panel, summary]) {
      expect(text).not.toContain(ID_TOKEN);
      expect(text).not.toMatch(/eyJ/);
    }
  });
});

describe("the approval panel", () => {
  const record = {
    id: "a1",
    approvers: ["alice@example.com"],
    requestedAt: "2026-11-22T10:00:00.000Z",
    expiresAt: "2026-11-22T11:00:00.000Z",
    trigger: { actor: "octocat", verified: VERIFIED },
  } as unknown as ApprovalRecord;

  it("says what the approval's trigger was verified by", () => {
    const tracker = tracked([
      started,
      {
        type: "TaskStateEntered",
        stateEnteredEventDetails: { name: "ApprovalGate", input: JSON.stringify({ plan: PLAN }) },
      },
    ]);
    const text = renderApproval(
      { record, messages: [] },
      { gate: tracker.run("ApprovalGate"), verify: undefined, decision: tracker.progress.approval },
    ).value;
    expect(text).toContain('data-trigger="verified"');
    expect(text).toContain("octocat — verified by http://127.0.0.1:8084/oidc");
    const claimed = renderApproval(
      { record: { ...record, trigger: { actor: "dependabot[bot]" } }, messages: [] },
      { gate: tracker.run("ApprovalGate"), verify: undefined, decision: undefined },
    ).value;
    expect(claimed).toContain("dependabot[bot] (unverified claim: no ID token)");
  });

  it("names the rule of an automatic approval", () => {
    const tracker = tracked([
      started,
      {
        type: "TaskStateEntered",
        stateEnteredEventDetails: { name: "ApprovalGate", input: JSON.stringify({ plan: PLAN }) },
      },
      { type: "TaskStateExited", stateExitedEventDetails: { name: "ApprovalGate", output: "{}" } },
      {
        type: "TaskStateEntered",
        stateEnteredEventDetails: { name: "VerifyApproval", input: "{}" },
      },
      {
        type: "TaskStateExited",
        stateExitedEventDetails: {
          name: "VerifyApproval",
          output: JSON.stringify({
            approval: {
              approved: true,
              how: "auto",
              by: "auto-approve rule 1",
              at: "2026-11-22T10:00:01.000Z",
              rule: { index: 0, matched: "actor octocat, ref refs/heads/main" },
              verified: true,
            },
          }),
        },
      },
    ]);
    const text = renderApproval(undefined, {
      gate: tracker.run("ApprovalGate"),
      verify: tracker.run("VerifyApproval"),
      decision: tracker.progress.approval,
    }).value;
    expect(text).toContain("data-auto-approved");
    expect(text).toContain(
      "approved automatically by rule 1 (actor octocat, ref refs/heads/main) on verified claims",
    );
  });
});
