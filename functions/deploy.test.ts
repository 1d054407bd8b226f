/**
 * Deploy's real exported `handler` over mocked AWS SDK clients (functions/testing.ts): the code
 * update and the version it publishes (CodeSha256 checked), moving no traffic, and the names of
 * its failures.
 */
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { rejectionOf, SHA_A } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as deploy } from "./deploy.ts";
import {
  APPROVAL,
  ARTIFACT,
  ARTIFACT_KEY,
  commandsSent,
  context,
  EXECUTION,
  iso,
  lambda,
  lambdaMeta,
  NOW,
  REQUEST,
  SHA_A_BASE64,
  STATE,
  setUpHandlerTests,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("deploy", () => {
  const state = { ...STATE, approval: APPROVAL, artifact: ARTIFACT };

  beforeEach(() => {
    lambda.on(GetAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RevisionId: "alias-rev",
    });
    lambda.on(UpdateFunctionCodeCommand).resolves({
      LastUpdateStatus: "Successful",
      CodeSha256: SHA_A_BASE64,
      RevisionId: "rev-updating",
    });
    lambda.on(GetFunctionConfigurationCommand).resolves({
      Version: "$LATEST",
      CodeSha256: SHA_A_BASE64,
      RevisionId: "rev-latest",
    });
    lambda.on(PublishVersionCommand).resolves({ Version: "7", CodeSha256: SHA_A_BASE64 });
  });

  it("updates the code from the stage's copy and publishes a version with the artifact's CodeSha256, moving no traffic", async () => {
    const rollout = await deploy(state, context);
    expect(rollout).toEqual({
      newVersion: "7",
      previousVersion: "6",
      codeSha256: SHA_A,
      phase: "steps",
      stepIndex: -1,
      weight: 0,
      startedAt: iso(NOW),
      holdEndsAt: iso(NOW),
      nextCheckAt: iso(NOW),
      holdTimeoutSeconds: 61,
      checks: 0,
    });
    expect(commandsSent(lambda)).toEqual([
      "GetAliasCommand",
      "UpdateFunctionCodeCommand",
      "GetFunctionConfigurationCommand",
      "PublishVersionCommand",
    ]);
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      Name: "live",
    });
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      S3Bucket: "acme-gantry-artifacts-prod",
      S3Key: ARTIFACT_KEY,
      S3ObjectVersion: "dest-v1",
      Publish: false,
    });
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      Qualifier: "$LATEST",
    });
    expect(lambda.commandCalls(PublishVersionCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      CodeSha256: SHA_A_BASE64,
      RevisionId: "rev-latest",
      Description: `gantry hello-service ${REQUEST.version} (${EXECUTION.name})`,
    });
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it("fails with ConcurrentModification when PublishVersion's RevisionId no longer matches", async () => {
    lambda.on(PublishVersionCommand).rejects(
      new PreconditionFailedException({
        ...lambdaMeta,
        message: "The Revision Id provided does not match the latest Revision Id.",
      }),
    );
    const error = await rejectionOf(deploy(state, context));
    expect(error.name).toBe("ConcurrentModification");
    expect(error.message).toContain("hello-service-prod");
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it("fails with TargetNotFound when the alias does not exist, and changes nothing", async () => {
    lambda
      .on(GetAliasCommand)
      .rejects(new ResourceNotFoundException({ ...lambdaMeta, message: "Alias not found" }));
    const error = await rejectionOf(deploy(state, context));
    expect(error.name).toBe("TargetNotFound");
    expect(error.message).toContain("hello-service-prod:live");
    expect(commandsSent(lambda)).toEqual(["GetAliasCommand"]);
  });
});
