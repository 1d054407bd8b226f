import { HistoryReader } from "@gantry/core";
import { regressedHistory, verifiedTrigger } from "@gantry/core/testing";
import { describe, expect, it } from "vitest";
import { summarize } from "./summary.ts";

describe("summarize", () => {
  it("takes the end from the history when DescribeExecution has not caught up", () => {
    const reader = new HistoryReader();
    reader.apply([
      {
        id: 1,
        type: "ExecutionStarted",
        timestamp: new Date(1_000),
        executionStartedEventDetails: { input: "{}" },
      },
      {
        id: 2,
        type: "ExecutionFailed",
        timestamp: new Date(3_500),
        executionFailedEventDetails: { error: "ApprovalRejected", cause: "rejected by bob" },
      },
    ]);
    const summary = summarize(
      { executionArn: "arn:x:gantry-prod:n", name: "n", status: "RUNNING" },
      reader.progress,
    );
    expect(summary).toMatchObject({
      status: "FAILED",
      result: "rejected",
      exitCode: 4,
      error: "ApprovalRejected",
      cause: "rejected by bob",
      durationSeconds: 2.5,
      startedAt: "1970-01-01T00:00:01.000Z",
    });
  });

  it("reads the outcome from a succeeded execution's output", () => {
    const summary = summarize(
      {
        executionArn: "a",
        status: "SUCCEEDED",
        output: JSON.stringify({ outcome: { status: "deployed", version: "7" } }),
      },
      new HistoryReader().progress,
    );
    expect(summary).toMatchObject({
      result: "deployed",
      exitCode: 0,
      outcome: { version: "7" },
      states: [],
    });
  });

  it("knows the stage from the state machine's name when the history has no plan", () => {
    const summary = summarize(
      {
        executionArn: "arn:aws:states:us-east-1:1:execution:gantry-preprod:n",
        stateMachineArn: "arn:aws:states:us-east-1:1:stateMachine:gantry-preprod",
        status: "RUNNING",
      },
      new HistoryReader().progress,
    );
    expect(summary).toMatchObject({ stage: "preprod", result: "running", exitCode: 0 });
  });

  it("carries the trigger ValidateInput accepted: verified claims, never the ID token", () => {
    const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";
    const verified = verifiedTrigger({
      issuer: "http://127.0.0.1:8084/oidc",
      sha: "3f2a9c1e0b12aabbccddeeff0011223344556677",
    });
    const input = { service: "hello-service", trigger: { actor: "octocat", idToken } };
    const reader = new HistoryReader();
    reader.apply([
      {
        id: 1,
        type: "ExecutionStarted",
        timestamp: new Date(1_000),
        executionStartedEventDetails: { input: JSON.stringify(input) },
      },
      {
        id: 2,
        type: "TaskStateEntered",
        timestamp: new Date(1_001),
        stateEnteredEventDetails: { name: "ValidateInput", input: JSON.stringify({ input }) },
      },
      {
        id: 3,
        type: "TaskStateExited",
        timestamp: new Date(1_002),
        stateExitedEventDetails: {
          name: "ValidateInput",
          output: JSON.stringify({
            request: { ...input, trigger: { actor: "octocat", verified } },
          }),
        },
      },
    ]);
    const summary = summarize({ executionArn: "arn:x:gantry-prod:n", name: "n" }, reader.progress);
    expect(summary.actor).toBe("octocat");
    expect(summary.trigger).toEqual({ actor: "octocat", ciRunUrl: null, verified });
    expect(JSON.stringify(summary)).not.toContain(idToken);
  });

  it("has no trigger before ValidateInput accepted the request: the actor stays a claim", () => {
    const reader = new HistoryReader();
    reader.apply([
      {
        id: 1,
        type: "ExecutionStarted",
        timestamp: new Date(1_000),
        executionStartedEventDetails: { input: JSON.stringify({ trigger: { actor: "mallory" } }) },
      },
    ]);
    const summary = summarize({ executionArn: "arn:x:gantry-prod:n", name: "n" }, reader.progress);
    expect(summary).toMatchObject({ actor: "mallory", trigger: null });
  });

  it("carries every verdict of the version analysis, as objects, and the rollback it caused", () => {
    const reader = new HistoryReader();
    reader.apply(regressedHistory());
    const summary = summarize(
      { executionArn: "arn:x:gantry-prod:n", status: "FAILED" },
      reader.progress,
    );
    expect(summary.analysis.map((v) => [v.state, v.weight, v.decision])).toEqual([
      ["CheckAlarms", 10, "pass"],
      ["CheckAlarms", 25, "fail"],
    ]);
    expect(summary.analysis[1]).toMatchObject({
      failure: "VersionRegressed",
      newVersion: { requests: 120, failures: 31 },
      errorRate: { pValue: 3.1e-25, regressed: true },
    });
    expect(summary).toMatchObject({
      result: "rolled-back",
      exitCode: 3,
      error: "VersionRegressed",
      fixFor: [],
    });
    // A JSON document for machines: the verdicts survive the round trip as they are.
    expect(JSON.parse(JSON.stringify(summary)).analysis).toEqual(summary.analysis);
  });

  it("has an empty analysis and no fix for a deployment without them", () => {
    const summary = summarize(
      { executionArn: "a", status: "RUNNING" },
      new HistoryReader().progress,
    );
    expect(summary.analysis).toEqual([]);
    expect(summary.fixFor).toEqual([]);
  });
});
