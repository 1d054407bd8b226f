/**
 * Promote's real exported `handler` over mocked AWS SDK clients (functions/testing.ts): the whole
 * alias for the new version, read back, and the start of the bake.
 */
import { GetAliasCommand, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { rejectionOf } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as promote } from "./promote.ts";
import {
  aliasUpdateSent,
  commandsSent,
  context,
  iso,
  lambda,
  liveAliasUpdate,
  NOW,
  rolloutOf,
  STATE,
  setUpHandlerTests,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("promote", () => {
  const atLastStep = rolloutOf({ phase: "promote", stepIndex: 2, weight: 50 });
  const state = { ...STATE, rollout: atLastStep };

  beforeEach(() => {
    lambda.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "7" });
  });

  it("gives the new version the whole alias, reads it back and starts the bake", async () => {
    lambda
      .on(GetAliasCommand)
      .resolvesOnce({
        Name: "live",
        FunctionVersion: "6",
        RoutingConfig: { AdditionalVersionWeights: { "7": 0.5 } },
        RevisionId: "r5",
      })
      .resolvesOnce({ Name: "live", FunctionVersion: "7", RevisionId: "r6" });
    const rollout = await promote(state, context);
    expect(rollout).toEqual({
      ...atLastStep,
      phase: "bake",
      weight: 100,
      holdStartedAt: iso(NOW),
      holdEndsAt: iso(NOW + 600_000),
      nextCheckAt: iso(NOW + 60_000),
      // The bake Task's timeout: the 600 s bake plus the 60 s grace.
      holdTimeoutSeconds: 660,
    });
    expect(commandsSent(lambda)).toEqual([
      "GetAliasCommand",
      "UpdateAliasCommand",
      "GetAliasCommand",
    ]);
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("7", "r5"));
  });

  it("fails with ConcurrentModification when the alias read back is still weighted", async () => {
    lambda.on(GetAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "7",
      RoutingConfig: { AdditionalVersionWeights: { "8": 0.2 } },
      RevisionId: "r9",
    });
    const error = await rejectionOf(promote(state, context));
    expect(error.name).toBe("ConcurrentModification");
    expect(error.message).toContain("20% to 8");
  });
});
