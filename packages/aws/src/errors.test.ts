import { S3ServiceException } from "@aws-sdk/client-s3";
import { TransientError } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { aws, errorName, httpStatusOf, isTransient } from "./errors.ts";

function awsError(fields: {
  name: string;
  status?: number;
  fault?: "client" | "server";
}): S3ServiceException {
  return new S3ServiceException({
    name: fields.name,
    message: `${fields.name} happened`,
    $fault: fields.fault ?? "client",
    $metadata: fields.status === undefined ? {} : { httpStatusCode: fields.status },
  });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:443`), { code });
}

describe("isTransient", () => {
  it.each([
    ["ThrottlingException", awsError({ name: "ThrottlingException", status: 400 })],
    ["Throttling", awsError({ name: "Throttling", status: 400 })],
    ["TooManyRequestsException", awsError({ name: "TooManyRequestsException", status: 429 })],
    ["SlowDown", awsError({ name: "SlowDown", status: 503, fault: "server" })],
    ["RequestLimitExceeded", awsError({ name: "RequestLimitExceeded", status: 400 })],
    [
      "ProvisionedThroughputExceededException",
      awsError({ name: "ProvisionedThroughputExceededException" }),
    ],
    [
      "ResourceConflictException (Lambda update in progress)",
      awsError({ name: "ResourceConflictException", status: 409 }),
    ],
    [
      "ConditionalRequestConflict (S3)",
      awsError({ name: "ConditionalRequestConflict", status: 409 }),
    ],
    ["TimeoutError", Object.assign(new Error("socket timed out"), { name: "TimeoutError" })],
    ["HTTP 500 with an unknown name", awsError({ name: "Whatever", status: 500 })],
    ["HTTP 503 with an unknown name", awsError({ name: "Whatever", status: 503 })],
    ["a server fault without a status", awsError({ name: "Whatever", fault: "server" })],
    [
      "$retryable set",
      Object.assign(awsError({ name: "Whatever", status: 400 }), { $retryable: {} }),
    ],
    ["ECONNRESET", networkError("ECONNRESET")],
    ["ECONNREFUSED", networkError("ECONNREFUSED")],
    ["ETIMEDOUT", networkError("ETIMEDOUT")],
    ["EAI_AGAIN", networkError("EAI_AGAIN")],
  ])("is true for %s", (_label, error) => {
    expect(isTransient(error)).toBe(true);
  });

  it.each([
    ["AccessDenied (403)", awsError({ name: "AccessDenied", status: 403 })],
    ["NoSuchKey (404)", awsError({ name: "NoSuchKey", status: 404 })],
    ["PreconditionFailed (412)", awsError({ name: "PreconditionFailed", status: 412 })],
    ["ResourceNotFoundException", awsError({ name: "ResourceNotFoundException", status: 404 })],
    ["PreconditionFailedException", awsError({ name: "PreconditionFailedException", status: 412 })],
    ["ValidationException (400)", awsError({ name: "ValidationException", status: 400 })],
    ["a plain Error", new Error("boom")],
    ["an unknown network code", networkError("EWHATEVER")],
    ["a string", "ThrottlingException"],
    ["null", null],
    ["undefined", undefined],
  ])("is false for %s", (_label, error) => {
    expect(isTransient(error)).toBe(false);
  });
});

describe("httpStatusOf and errorName", () => {
  it("read the status and the name of an AWS error", () => {
    const error = awsError({ name: "NoSuchKey", status: 404 });
    expect(httpStatusOf(error)).toBe(404);
    expect(errorName(error)).toBe("NoSuchKey");
  });

  it("return undefined for values that are not errors", () => {
    expect(httpStatusOf(undefined)).toBeUndefined();
    expect(errorName(undefined)).toBeUndefined();
    expect(httpStatusOf(new Error("x"))).toBeUndefined();
  });
});

describe("aws()", () => {
  it("returns what the call returns", async () => {
    await expect(aws("HeadObject", async () => ({ ContentLength: 3 }))).resolves.toEqual({
      ContentLength: 3,
    });
  });

  it("turns a throttling error into TransientError, keeping the original as cause", async () => {
    const original = awsError({ name: "ThrottlingException", status: 400 });
    const error = await aws("UpdateAlias", () => Promise.reject(original)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ name: "TransientError" });
    expect((error as Error).cause).toBe(original);
    expect((error as Error).message).toBe(
      "UpdateAlias failed transiently (ThrottlingException: ThrottlingException happened)",
    );
  });

  it("turns a 503 into TransientError", async () => {
    const original = awsError({ name: "ServiceUnavailable", status: 503, fault: "server" });
    const error = await aws("PutObject", () => Promise.reject(original)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).cause).toBe(original);
  });

  it("turns a network failure into TransientError", async () => {
    const original = networkError("ECONNRESET");
    const error = await aws("GetObject", () => Promise.reject(original)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).cause).toBe(original);
  });

  it("passes other errors through untouched", async () => {
    const original = awsError({ name: "AccessDenied", status: 403 });
    await expect(aws("GetObject", () => Promise.reject(original))).rejects.toBe(original);
  });
});
