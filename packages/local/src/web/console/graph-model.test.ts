import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type AslDefinition, describeRule, graphOf } from "./graph-model.ts";

const asl = JSON.parse(
  readFileSync(new URL("../../../../../state-machines/workflow.asl.json", import.meta.url), "utf8"),
) as AslDefinition;

describe("graphOf (the deployment ASL)", () => {
  const graph = graphOf(asl);
  const edge = (from: string, to: string, kind?: string) =>
    graph.edges.filter((e) => e.from === from && e.to === to && (!kind || e.kind === kind));

  it("has a node for every state, typed", () => {
    expect(graph.nodes.map((n) => n.name).sort()).toEqual(Object.keys(asl.States).sort());
    expect(graph.nodes.find((n) => n.name === "AllStepsHeld")?.type).toBe("Choice");
    expect(graph.nodes.find((n) => n.name === "ApprovalGate")?.callback).toBe(true);
    // The holds are Tasks that wait for their token now, not Wait states.
    for (const hold of ["HoldTrafficStep", "Bake"]) {
      expect(graph.nodes.find((n) => n.name === hold)).toMatchObject({
        type: "Task",
        callback: true,
      });
    }
    expect(graph.nodes.find((n) => n.name === "CheckAlarms")?.callback).toBeUndefined();
  });

  it("draws Next, Choice and Default edges, and the alarm-wait loops", () => {
    expect(edge("Deploy", "Canary", "next")).toHaveLength(1);
    expect(edge("HoldTrafficStep", "CheckAlarms", "next")).toHaveLength(1);
    expect(edge("CheckAlarms", "AllStepsHeld", "next")).toHaveLength(1);
    expect(edge("AllStepsHeld", "HoldTrafficStep", "default")[0]?.label).toBe("otherwise");
    expect(edge("AllStepsHeld", "Promote", "choice")[0]?.label).toBe("phase = promote");
    expect(edge("BakeComplete", "Bake", "default")).toHaveLength(1);
    // The bake's hold Task goes on to its check by Next, and by its States.Timeout Catch.
    expect(edge("Bake", "CheckBakeAlarms", "next")).toHaveLength(1);
    expect(edge("CheckBakeAlarms", "BakeComplete")).toHaveLength(1);
  });

  it("draws every Catch as a catch edge labelled with its errors", () => {
    const toRollback = ["Deploy", "Canary", "HoldTrafficStep", "CheckAlarms", "Promote", "Bake"];
    for (const from of [...toRollback, "CheckBakeAlarms"]) {
      expect(edge(from, "Rollback", "catch")[0]?.label).toBe("States.ALL");
    }
    // A hold that got no callback times out into its check: the check runs whatever happened.
    expect(edge("HoldTrafficStep", "CheckAlarms", "catch")[0]?.label).toBe("States.Timeout");
    expect(edge("Bake", "CheckBakeAlarms", "catch")[0]?.label).toBe("States.Timeout");
    expect(edge("ApprovalGate", "NoteApprovalTimeout", "catch")[0]?.label).toBe("States.Timeout");
    // Rollback goes on either way: a Next and a Catch to the same state are two edges.
    expect(
      edge("Rollback", "FinishAfterFailure")
        .map((e) => e.kind)
        .sort(),
    ).toEqual(["catch", "next"]);
    expect(new Set(graph.edges.map((e) => e.id)).size).toBe(graph.edges.length);
  });

  it("groups the Fail states ReportFailure chooses between, behind one edge", () => {
    expect(graph.groups).toHaveLength(1);
    const group = graph.groups[0];
    expect(group?.from).toBe("ReportFailure");
    expect(group?.members).toContain("AlarmTriggered");
    expect(group?.members).toContain("DeploymentFailed"); // the Default
    expect(group?.members).not.toContain("CleanupFailed"); // reached by a Catch
    const into = graph.edges.filter((e) => e.to === group?.id);
    expect(into).toHaveLength(1);
    expect(into[0]?.targets).toEqual(group?.members);
    expect(into[0]?.label).toBe("by outcome.error");
    expect(graph.nodes.find((n) => n.name === "AlarmTriggered")?.group).toBe(group?.id);
  });
});

describe("describeRule", () => {
  it("reads the common comparisons", () => {
    expect(describeRule({ Variable: "$.a.b", NumericGreaterThan: 3 })).toBe("b > 3");
    expect(describeRule({ Variable: "$.x", BooleanEquals: true })).toBe("x = true");
    expect(describeRule({ Variable: "$.x", StringEqualsPath: "$.y" })).toBe("x = $.y");
    expect(describeRule({ And: [{}, {}] })).toBe("all of 2 rules");
    expect(describeRule({ Not: { Variable: "$.x", IsPresent: true } })).toBe(
      "not (x present: true)",
    );
  });
});
