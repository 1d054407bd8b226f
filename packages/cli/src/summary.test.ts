import { describe, expect, it } from "vitest";
import { ProgressTracker } from "./progress.ts";
import { stageFromStateMachine, summarize } from "./summary.ts";

describe("summarize", () => {
  it("takes the end from the history when DescribeExecution has not caught up", () => {
    const tracker = new ProgressTracker();
    tracker.apply([
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
      tracker.progress,
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
      new ProgressTracker().progress,
    );
    expect(summary).toMatchObject({
      result: "deployed",
      exitCode: 0,
      outcome: { version: "7" },
      states: [],
    });
  });

  it("knows the stage from the state machine's name", () => {
    expect(stageFromStateMachine("arn:aws:states:us-east-1:1:stateMachine:gantry-preprod")).toBe(
      "preprod",
    );
    expect(
      stageFromStateMachine("arn:aws:states:us-east-1:1:stateMachine:gantry-prod-Pipeline"),
    ).toBe("prod");
    expect(stageFromStateMachine("arn:aws:states:us-east-1:1:stateMachine:other")).toBeUndefined();
  });
});
