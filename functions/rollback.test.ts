/**
 * Rollback's real exported `handler` over mocked AWS SDK clients (functions/testing.ts): the alias
 * back on the previous version with no weights, verified.
 */
import { GetAliasCommand, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { rejectionOf } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as rollback } from "./rollback.ts";
import {
  aliasUpdateSent,
  awsError,
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

describe("rollback", () => {
  const state = { ...STATE, rollout: rolloutOf({ stepIndex: 1, weight: 25 }) };

  beforeEach(() => {
    lambda
      .on(GetAliasCommand)
      .resolvesOnce({
        Name: "live",
        FunctionVersion: "6",
        RoutingConfig: { AdditionalVersionWeights: { "7": 0.25 } },
        RevisionId: "r3",
      })
      .resolvesOnce({ Name: "live", FunctionVersion: "6", RevisionId: "r4" });
    lambda.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "6" });
  });

  it("restores the previous version with no weights and verifies it", async () => {
    const report = await rollback(state, context);
    expect(report).toEqual({ restoredVersion: "6", removedVersion: "7", verifiedAt: iso(NOW) });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r3"));
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(2);
  });

  it("fails with RollbackFailed when UpdateAlias is denied", async () => {
    lambda
      .on(UpdateAliasCommand)
      .rejects(awsError("AccessDeniedException", 403, "not authorized to perform UpdateAlias"));
    const error = await rejectionOf(rollback(state, context));
    expect(error.name).toBe("RollbackFailed");
    expect(error.message).toContain("AccessDeniedException");
    expect(error.message).toContain("hello-service-prod:live");
  });
});
