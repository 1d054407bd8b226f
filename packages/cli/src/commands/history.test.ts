import { testVerdict } from "@gantry/core/testing";
import { describe, expect, it } from "vitest";
import { historyLine, withoutIdTokens } from "./history.ts";

describe("gantry history", () => {
  it("never prints the caller's ID token, in the execution's input or a state's", () => {
    const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";
    const input = JSON.stringify({ service: "s", trigger: { actor: "octocat", idToken } });
    const events = [
      {
        id: 1,
        type: "ExecutionStarted",
        timestamp: new Date(0),
        executionStartedEventDetails: { input },
      },
      {
        id: 2,
        type: "TaskStateEntered",
        timestamp: new Date(1),
        stateEnteredEventDetails: { name: "ValidateInput", input: `{"input":${input}}` },
      },
    ];
    const shown = withoutIdTokens(events);
    expect(JSON.stringify(shown)).not.toContain(idToken);
    expect(JSON.parse(shown[0]?.executionStartedEventDetails?.input ?? "{}")).toEqual({
      service: "s",
      trigger: { actor: "octocat", idToken: "(ID token, not shown)" },
    });
    expect(shown[1]?.type).toBe("TaskStateEntered");
    expect(events[0]?.executionStartedEventDetails?.input).toBe(input); // a copy
    expect(historyLine(events[1] as never)).toContain("ValidateInput");
  });

  it("adds the version verdict to a check's line, and nothing for a check without one", () => {
    const exit = (name: string, output: string) => ({
      id: 7,
      type: "TaskStateExited",
      timestamp: new Date(0),
      stateExitedEventDetails: { name, output },
    });
    const verdict = JSON.stringify({ rollout: { analysis: testVerdict() } });
    expect(historyLine(exit("CheckAlarms", verdict))).toMatch(
      /TaskStateExited {15}CheckAlarms: analysis at 10%: pass — version 2 0 of 130 failed/,
    );
    expect(historyLine(exit("CheckBakeAlarms", verdict))).toContain("CheckBakeAlarms: analysis");
    expect(historyLine(exit("CheckAlarms", "{}"))).toMatch(/CheckAlarms$/);
    expect(historyLine(exit("CheckAlarms", "not json"))).toMatch(/CheckAlarms$/);
    // Other states carry $.rollout.analysis on: only the check that gave it says it.
    expect(historyLine(exit("Rollback", verdict))).toMatch(/Rollback$/);
  });
});
