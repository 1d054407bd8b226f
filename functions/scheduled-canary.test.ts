/**
 * The hourly canary's real exported `handler` over mocked AWS SDK clients (functions/testing.ts):
 * every registered service's alias invoked, and the CanaryFailures metric.
 */
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { rejectionOf } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import registry from "../gantry.registry.ts";
import { handler as scheduledCanary } from "./scheduled-canary.ts";
import { context, emfWrittenBy, lambda, payload, sentJson, setUpHandlerTests } from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("scheduled-canary", () => {
  beforeEach(() => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      Payload: payload({ statusCode: 200, body: "hello, world" }),
    });
  });

  it("fails with ConfigurationError when GANTRY_STAGE is not set, invoking nothing", async () => {
    vi.stubEnv("GANTRY_STAGE", undefined);
    const error = await rejectionOf(scheduledCanary({}, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STAGE");
    expect(lambda.calls()).toHaveLength(0);
  });

  it("invokes every registered service's alias and publishes CanaryFailures 0 when all checks pass", async () => {
    let result: unknown;
    const emf = await emfWrittenBy(async () => {
      result = await scheduledCanary({}, context);
    });
    expect(result).toEqual({
      failures: 0,
      services: [
        {
          service: "hello-service",
          target: "hello-service-prod:live",
          results: [{ name: "GET /hello", passed: true, detail: "ok (version 7)" }],
          failures: 0,
        },
      ],
    });
    expect(Object.keys(registry.services)).toEqual(["hello-service"]);
    const invokes = lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input);
    expect(invokes).toHaveLength(1);
    expect(invokes[0]?.FunctionName).toBe("hello-service-prod");
    expect(invokes[0]?.Qualifier).toBe("live");
    expect(sentJson(invokes[0]?.Payload)).toEqual({
      rawPath: "/hello",
      requestContext: { http: { method: "GET" } },
    });
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: "Gantry",
            Dimensions: [["Service", "Stage"]],
            Metrics: [{ Name: "CanaryFailures", Unit: "Count" }],
          },
        ],
      },
      Service: "hello-service",
      Stage: "prod",
      CanaryFailures: 0,
    });
  });

  it("counts a failing check and publishes CanaryFailures 1", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      Payload: payload({ statusCode: 502, body: "bad gateway" }),
    });
    let result: unknown;
    const emf = await emfWrittenBy(async () => {
      result = await scheduledCanary({}, context);
    });
    expect(result).toMatchObject({ failures: 1, services: [{ failures: 1 }] });
    expect(emf.map((document) => [document.Service, document.CanaryFailures])).toEqual([
      ["hello-service", 1],
    ]);
  });
});
