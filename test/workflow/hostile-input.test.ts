import { describe, expect, it } from "vitest";
import { WorkflowHarness } from "../support/workflow-harness.ts";

/**
 * Hostile StartExecution inputs (issue 19): any JSON text reaches ValidateInput, which names
 * what is wrong; nothing ends States.Runtime or a TypeError.
 */
describe("hostile input ends InvalidInput, named", () => {
  it.each([
    [null, "null"],
    [false, "boolean"],
    [0, "number"],
    ["", "string"],
    [[], "array"],
  ])("input %j", async (input, kind) => {
    const world = new WorkflowHarness();
    const run = await world.run("prod", input);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("InvalidInput");
    expect(run.cause).toContain(`the input must be a JSON object, got ${kind}`);
    expect(run.states).toEqual([
      "ValidateInput",
      "DiscardRawInput",
      "FinishAfterFailure",
      "ReportFailure",
      "InvalidInput",
    ]);
    expect(world.records.prod.data.size).toBe(0);
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])(
    "service %s is an unknown service",
    async (service) => {
      const world = new WorkflowHarness();
      const request = { ...world.publish("aaaaaaa", {}), service };
      const run = await world.run("prod", request);
      expect(run.error).toBe("InvalidInput");
      expect(run.cause).toMatch(/service: (is not a registered service|must be a service name)/);
      expect(world.records.prod.data.size).toBe(0);
    },
  );
});
