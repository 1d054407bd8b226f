/**
 * VerifyPreprod's real exported `handler` over mocked AWS SDK clients (functions/testing.ts), with
 * the function's own credentials (GANTRY_PREPROD_ROLE_ARN unset): what it reads of preprod, and
 * the names of its failures. The preprod role, which the module reads once, when it first builds
 * its clients, has its own file (verify-preprod.role.test.ts).
 */
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { GetAliasCommand, GetFunctionConfigurationCommand } from "@aws-sdk/client-lambda";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { rejectionOf, SHA_A, T0 } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  ARTIFACT_KEY,
  awsError,
  body,
  cloudwatch,
  context,
  iso,
  lambda,
  REQUEST,
  SHA_A_BASE64,
  SHA_B_BASE64,
  STATE,
  s3,
  setUpHandlerTests,
} from "./testing.ts";
import { handler as verifyPreprod } from "./verify-preprod.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

// Watches whether verify-preprod ever asks for an assumed role's credentials (STS).
vi.mock("@aws-sdk/credential-providers", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@aws-sdk/credential-providers")>();
  return { ...actual, fromTemporaryCredentials: vi.fn(actual.fromTemporaryCredentials) };
});

setUpHandlerTests();

describe("verify-preprod", () => {
  const validation = {
    service: "hello-service",
    version: REQUEST.version,
    sha256: SHA_A,
    validatedAt: iso(T0 - 3_600_000),
    validatedBy: "ci-bot",
    ciRunUrl: "https://ci.example.com/runs/41",
  };

  beforeEach(() => {
    vi.stubEnv("GANTRY_PREPROD_ROLE_ARN", undefined);
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_A_BASE64,
      ChecksumType: "FULL_OBJECT",
      ETag: '"src"',
    });
    s3.on(GetObjectCommand).resolves({ Body: body(validation), ETag: '"v"' });
    lambda.on(GetAliasCommand).resolves({ Name: "live", FunctionVersion: "12", RevisionId: "r" });
    lambda.on(GetFunctionConfigurationCommand).resolves({
      Version: "12",
      CodeSha256: SHA_A_BASE64,
    });
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: "hello-service-preprod-errors",
          StateValue: "OK",
          StateReason: "Threshold Crossed: no datapoints were breaching",
          StateUpdatedTimestamp: new Date(T0 - 60_000),
        },
      ],
    });
  });

  it("returns the evidence after reading the artifact, its validation record, the preprod alias and alarms", async () => {
    const evidence = await verifyPreprod(STATE, context);
    expect(evidence).toEqual({
      required: true,
      validatedAt: validation.validatedAt,
      validatedBy: "ci-bot",
      ciRunUrl: "https://ci.example.com/runs/41",
      preprodVersion: "12",
      alarms: [
        {
          name: "hello-service-preprod-errors",
          state: "OK",
          reason: "Threshold Crossed: no datapoints were breaching",
          updatedAt: iso(T0 - 60_000),
        },
      ],
      bucket: "acme-gantry-artifacts-preprod",
      key: ARTIFACT_KEY,
      sha256: SHA_A,
      codeSha256: SHA_A,
    });
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-gantry-artifacts-preprod",
      Key: ARTIFACT_KEY,
      ChecksumMode: "ENABLED",
    });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-gantry-artifacts-preprod",
      Key: `validations/hello-service/${REQUEST.version}.json`,
    });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-preprod",
      Name: "live",
    });
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-preprod",
      Qualifier: "12",
    });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toMatchObject({
      AlarmNames: ["hello-service-preprod-errors"],
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0); // read-only
  });

  it("uses the function's own credentials (no assumed role, no STS) when GANTRY_PREPROD_ROLE_ARN is unset", async () => {
    await verifyPreprod(STATE, context);
    expect(process.env.GANTRY_PREPROD_ROLE_ARN).toBeUndefined();
    expect(vi.mocked(fromTemporaryCredentials)).not.toHaveBeenCalled();
  });

  it("fails with PreprodNotValidated when there is no validation record", async () => {
    s3.on(GetObjectCommand).rejects(
      awsError("NoSuchKey", 404, "The specified key does not exist."),
    );
    const error = await rejectionOf(verifyPreprod(STATE, context));
    expect(error.name).toBe("PreprodNotValidated");
    expect(error.message).toContain(`no preprod validation record for hello-service`);
    expect(lambda.calls()).toHaveLength(0);
    expect(cloudwatch.calls()).toHaveLength(0);
  });

  it("fails with ArtifactChecksumMismatch when the preprod object has other bytes", async () => {
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_B_BASE64,
      ETag: '"src"',
    });
    const error = await rejectionOf(verifyPreprod(STATE, context));
    expect(error.name).toBe("ArtifactChecksumMismatch");
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});
