/**
 * verify-preprod with GANTRY_PREPROD_ROLE_ARN set: every read goes through the preprod role, and
 * the three clients share one credentials provider (one AssumeRole per container, not three).
 * Its own file because the setting is read once, when the module's clients are first built.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
} from "@aws-sdk/client-lambda";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { hexToBase64, resolvePlan } from "@gantry/core";
import { SHA_A, testExecution, testRequest } from "@gantry/core/testing";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect, it, vi } from "vitest";
import registry from "../gantry.registry.ts";
import { handler } from "./verify-preprod.ts";

const ROLE_ARN = "arn:aws:iam::210987654321:role/gantry-preprod-reader";

vi.hoisted(() => {
  process.env.AWS_REGION = "us-east-1";
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  process.env.GANTRY_PREPROD_ROLE_ARN = "arn:aws:iam::210987654321:role/gantry-preprod-reader";
});

// A provider that never reaches STS: the mocked clients below never sign a request.
vi.mock("@aws-sdk/credential-providers", () => ({
  fromTemporaryCredentials: vi.fn(() => async () => ({
    accessKeyId: "ASIAEXAMPLE",
    secretAccessKey: "example",
  })),
}));

it("reads preprod through the role, with one credentials provider for all three clients", async () => {
  const request = testRequest();
  const s3 = mockClient(S3Client);
  const lambda = mockClient(LambdaClient);
  const cloudwatch = mockClient(CloudWatchClient);
  s3.on(HeadObjectCommand).resolves({
    ContentLength: 2048,
    ChecksumSHA256: hexToBase64(SHA_A),
    ChecksumType: "FULL_OBJECT",
    ETag: '"src"',
  });
  s3.on(GetObjectCommand).resolves({
    Body: {
      transformToString: async () =>
        JSON.stringify({
          service: "hello-service",
          version: request.version,
          sha256: SHA_A,
          validatedAt: "2026-11-01T11:00:00.000Z",
          validatedBy: "ci-bot",
        }),
    } as never,
  });
  lambda.on(GetAliasCommand).resolves({ Name: "live", FunctionVersion: "12", RevisionId: "r" });
  lambda
    .on(GetFunctionConfigurationCommand)
    .resolves({ Version: "12", CodeSha256: hexToBase64(SHA_A) });
  cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      {
        AlarmName: "hello-service-preprod-errors",
        StateValue: "OK",
        StateUpdatedTimestamp: new Date("2026-11-01T10:00:00.000Z"),
      },
    ],
  });

  const state = {
    request,
    execution: testExecution(),
    plan: resolvePlan(registry, "prod", request, { timeScale: 1 }),
  };
  const evidence = await handler(state, {} as Context);

  expect(evidence).toMatchObject({ required: true, preprodVersion: "12" });
  for (const mock of [s3, lambda, cloudwatch]) expect(mock.calls().length).toBeGreaterThan(0);
  expect(vi.mocked(fromTemporaryCredentials)).toHaveBeenCalledTimes(1);
  expect(vi.mocked(fromTemporaryCredentials)).toHaveBeenCalledWith({
    params: { RoleArn: ROLE_ARN, RoleSessionName: "gantry-verify-preprod" },
  });
});
