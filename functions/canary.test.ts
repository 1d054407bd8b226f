/**
 * Canary's real exported `handler` over mocked AWS SDK clients (functions/testing.ts): the direct
 * invocation of the new version, then its first traffic step, or none.
 */
import { GetAliasCommand, InvokeCommand, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { rejectionOf } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as canary } from "./canary.ts";
import {
  ARTIFACT,
  aliasUpdateSent,
  commandsSent,
  context,
  iso,
  lambda,
  liveAliasUpdate,
  NOW,
  payload,
  rolloutOf,
  STATE,
  sentJson,
  setUpHandlerTests,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("canary", () => {
  const state = { ...STATE, artifact: ARTIFACT, rollout: rolloutOf() };

  beforeEach(() => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      Payload: payload({ statusCode: 200, body: "hello from version 7" }),
    });
    lambda.on(GetAliasCommand).resolves({ Name: "live", FunctionVersion: "6", RevisionId: "r1" });
    lambda.on(UpdateAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
    });
  });

  it("invokes the new version directly, then gives it the first traffic step", async () => {
    const rollout = await canary(state, context);
    expect(rollout).toEqual({
      ...rolloutOf(),
      stepIndex: 0,
      weight: 10,
      holdStartedAt: iso(NOW),
      holdEndsAt: iso(NOW + 60_000),
      nextCheckAt: iso(NOW + 60_000),
      // The hold Task's timeout: the step's 60 s plus the 60 s grace.
      holdTimeoutSeconds: 120,
      canary: {
        version: "7",
        results: [{ name: "GET /hello", passed: true, detail: "ok (version 7)" }],
      },
    });
    expect(commandsSent(lambda)).toEqual([
      "InvokeCommand",
      "GetAliasCommand",
      "UpdateAliasCommand",
    ]);
    const invoke = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(invoke?.FunctionName).toBe("hello-service-prod");
    expect(invoke?.Qualifier).toBe("7");
    expect(sentJson(invoke?.Payload)).toEqual({
      rawPath: "/hello",
      requestContext: { http: { method: "GET" } },
    });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r1", { "7": 0.1 }));
  });

  it("fails with CanaryFailed on a function error, and gives the version no traffic", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      FunctionError: "Unhandled",
      Payload: payload({ errorType: "TypeError", errorMessage: "boom" }),
    });
    const error = await rejectionOf(canary(state, context));
    expect(error.name).toBe("CanaryFailed");
    expect(error.message).toContain("GET /hello: function error (Unhandled): TypeError: boom");
    expect(commandsSent(lambda)).toEqual(["InvokeCommand"]);
  });
});
