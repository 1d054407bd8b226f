/**
 * ValidateInput's real exported `handler` (functions/testing.ts): the stage it reads from
 * GANTRY_STAGE, the plan it resolves from the project registry without any AWS call, and the
 * requests it refuses.
 */
import { rejectionOf } from "@gantry/core/testing";
import { describe, expect, it, vi } from "vitest";
import {
  ARTIFACT_KEY,
  cloudwatch,
  context,
  EXECUTION,
  lambda,
  REQUEST,
  s3,
  ses,
  setUpHandlerTests,
  sfn,
} from "./testing.ts";
import { handler as validateInput } from "./validate-input.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("validate-input", () => {
  const event = { input: { ...REQUEST }, execution: EXECUTION };

  it("fails with ConfigurationError when GANTRY_STAGE is not set", async () => {
    const error = await rejectionOf(validateInput(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STAGE");
  });

  it("fails with ConfigurationError when GANTRY_STAGE is not a stage", async () => {
    vi.stubEnv("GANTRY_STAGE", "staging");
    const error = await rejectionOf(validateInput(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("got staging");
  });

  it("resolves the hello-service plan for the stage GANTRY_STAGE names, without any AWS call", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const result = await validateInput(event, context);
    expect(result.request).toEqual(REQUEST);
    expect(result.execution).toEqual(EXECUTION);
    expect(result.plan).toMatchObject({
      stage: "prod",
      service: "hello-service",
      target: { functionName: "hello-service-prod", alias: "live" },
      source: { bucket: "acme-gantry-artifacts-preprod", key: ARTIFACT_KEY },
      destination: { bucket: "acme-gantry-artifacts-prod", key: ARTIFACT_KEY },
      alarms: ["hello-service-prod-errors"],
      rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 60, bakeSeconds: 600 },
      preprod: { bucket: "acme-gantry-artifacts-preprod", functionName: "hello-service-preprod" },
      approval: { required: true, approvers: ["alice@example.com", "bob@example.com"] },
      timeScale: 1,
    });
    for (const mock of [s3, sfn, lambda, cloudwatch, ses]) expect(mock.calls()).toHaveLength(0);
  });

  it("refuses an artifact key outside the service's prefix with InvalidInput", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const input = { ...REQUEST, artifact: { ...REQUEST.artifact, key: "billing/x.zip" } };
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain("artifact.key: must start with hello-service/");
  });

  it("refuses a malformed request with InvalidInput", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const input = { ...REQUEST, artifact: { ...REQUEST.artifact, sha256: "not-a-digest" } };
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain("artifact.sha256");
  });

  it.each([
    [null, "null"],
    [false, "boolean"],
    [0, "number"],
    ["", "string"],
    [["a"], "array"],
  ])("names a StartExecution input that is not an object (%j)", async (input, kind) => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain(`the input must be a JSON object, got ${kind}`);
  });

  it.each(["constructor", "hasOwnProperty", "valueof", "isprototypeof"])(
    "refuses service %s as unregistered, never reading Object.prototype",
    async (service) => {
      vi.stubEnv("GANTRY_STAGE", "prod");
      const input = {
        ...REQUEST,
        service,
        artifact: { ...REQUEST.artifact, key: `${service}/x.zip` },
      };
      const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
      expect(error.name).toBe("InvalidInput");
      expect(error.message).toMatch(
        /service: (is not a registered service|must be a service name)/,
      );
    },
  );
});
