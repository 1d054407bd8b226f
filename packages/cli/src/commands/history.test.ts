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
});
