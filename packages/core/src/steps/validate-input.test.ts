import { describe, expect, it } from "vitest";
import { InvalidInput } from "../errors.ts";
import type { ExecutionRef } from "../state.ts";
import { testExecution, testRegistry, testRequest } from "../testing/fixtures.ts";
import { validateInput } from "./validate-input.ts";

const deps = { registry: testRegistry(), stage: "prod" as const };

describe("validateInput", () => {
  it("returns the request, the execution and the plan for the stage", () => {
    const execution = testExecution();
    const result = validateInput({ input: testRequest(), execution }, deps);
    expect(result.request).toEqual(testRequest());
    expect(result.execution).toBe(execution);
    expect(result.plan).toMatchObject({ stage: "prod", service: "hello-service", timeScale: 1 });
  });

  it("applies the time scale it is given", () => {
    const result = validateInput(
      { input: testRequest(), execution: testExecution() },
      { ...deps, timeScale: 0.5 },
    );
    expect(result.plan.rollout.stepWaitSeconds).toBe(30);
  });

  it("refuses a malformed request with InvalidInput", () => {
    expect(() =>
      validateInput({ input: { ...testRequest(), bucket: "x" }, execution: testExecution() }, deps),
    ).toThrow(new InvalidInput([{ field: "bucket", reason: "is not a known field" }]));
  });

  it.each([
    ["no execution", undefined],
    ["no id", { ...testExecution(), id: "" }],
    ["no name", { ...testExecution(), name: "" }],
    ["no start time", { ...testExecution(), startedAt: "" }],
  ])("refuses a request when the execution context is missing (%s)", (_, execution) => {
    expect(() =>
      validateInput({ input: testRequest(), execution: execution as ExecutionRef }, deps),
    ).toThrow(
      new InvalidInput([{ field: "(execution)", reason: "the execution context is missing" }]),
    );
  });

  it("refuses an unregistered service with InvalidInput", () => {
    expect(() =>
      validateInput(
        { input: testRequest({ service: "nope", key: "nope/x.zip" }), execution: testExecution() },
        deps,
      ),
    ).toThrow(InvalidInput);
  });
});
