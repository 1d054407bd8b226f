/**
 * AcquireLock's real exported `handler` over mocked AWS SDK clients (functions/testing.ts): the
 * conditional writes that take the target's lock, the owner it asks Step Functions about, and the
 * names of its failures.
 */
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import { rejectionOf, T0 } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as acquireLock } from "./acquire-lock.ts";
import {
  awsError,
  body,
  commandsSent,
  context,
  EXECUTION,
  iso,
  NOW,
  OTHER_EXECUTION,
  REQUEST,
  STATE,
  STATE_BUCKET,
  s3,
  sentJson,
  setUpHandlerTests,
  sfn,
} from "./testing.ts";

// Before the function module is imported: a region for the SDK clients, no log output, and
// none of Gantry's settings from the outside.
vi.hoisted(() => {
  process.env.AWS_REGION = "us-east-1";
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("GANTRY_") || name.startsWith("SST_RESOURCE_")) delete process.env[name];
  }
});

setUpHandlerTests();

describe("acquire-lock", () => {
  beforeEach(() => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
  });

  it("fails with ConfigurationError when GANTRY_STATE_BUCKET is not set", async () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", undefined);
    const error = await rejectionOf(acquireLock(STATE, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STATE_BUCKET");
    expect(s3.calls()).toHaveLength(0);
  });

  it("takes a free lock with a conditional create in the state bucket", async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"lock-1"' });
    const grant = await acquireLock(STATE, context);
    expect(grant).toEqual({
      key: "locks/hello-service.json",
      owner: EXECUTION.id,
      acquiredAt: iso(NOW),
    });
    expect(commandsSent(s3)).toEqual(["PutObjectCommand"]);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
      IfNoneMatch: "*",
      ContentType: "application/json",
    });
    expect(put?.IfMatch).toBeUndefined();
    expect(sentJson(put?.Body)).toEqual({
      owner: EXECUTION.id,
      service: "hello-service",
      version: REQUEST.version,
      acquiredAt: iso(NOW),
    });
    expect(sfn.calls()).toHaveLength(0);
  });

  it("fails with DeploymentInProgress when the lock's owner is still RUNNING", async () => {
    s3.on(PutObjectCommand).rejects(awsError("PreconditionFailed", 412));
    s3.on(GetObjectCommand).resolves({
      Body: body({
        owner: OTHER_EXECUTION,
        service: "hello-service",
        version: "1111111",
        acquiredAt: iso(T0),
      }),
      ETag: '"held"',
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });

    const error = await rejectionOf(acquireLock(STATE, context));
    expect(error.name).toBe("DeploymentInProgress");
    expect(error.message).toContain(OTHER_EXECUTION);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: OTHER_EXECUTION,
    });
    // Only the failed create: the running owner's lock is never replaced.
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it("takes over the lock of a finished execution with a conditional replace (IfMatch)", async () => {
    s3.on(PutObjectCommand, { IfNoneMatch: "*" }).rejects(awsError("PreconditionFailed", 412));
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).resolves({ ETag: '"lock-2"' });
    s3.on(GetObjectCommand).resolves({
      Body: body({
        owner: OTHER_EXECUTION,
        service: "hello-service",
        version: "1111111",
        acquiredAt: iso(T0),
      }),
      ETag: '"held"',
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: "FAILED" });

    const grant = await acquireLock(STATE, context);
    expect(grant).toEqual({
      key: "locks/hello-service.json",
      owner: EXECUTION.id,
      acquiredAt: iso(NOW),
      brokeStaleLockOf: OTHER_EXECUTION,
    });
    const replace = s3.commandCalls(PutObjectCommand)[1]?.args[0].input;
    expect(replace).toMatchObject({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
      IfMatch: '"held"',
    });
    expect(sentJson(replace?.Body)).toMatchObject({ brokeStaleLockOf: OTHER_EXECUTION });
  });

  it("turns S3 throttling (SlowDown, 503) into TransientError", async () => {
    s3.on(PutObjectCommand).rejects(awsError("SlowDown", 503, "Please reduce your request rate."));
    const error = await rejectionOf(acquireLock(STATE, context));
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain("PutObject failed transiently (SlowDown");
  });
});
