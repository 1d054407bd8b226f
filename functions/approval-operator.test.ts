/**
 * The operator API's real exported handler (behind an AWS_IAM Function URL) over mocked SDK
 * clients: who decides is the IAM principal Lambda hands over, mapped by the registry.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { recordKeys } from "@gantry/core";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import registry from "../gantry.registry.ts";
import { handler } from "./approval-operator.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
const STATE_BUCKET = "acme-gantry-state-prod";
const DECISION_SECRET = "gantry-prod-decision-keys";
const ID = "AbCdEfGhIjKlMnOpQrStUv_-";
const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello-1";
const ALICE = registry.operators?.["alice@example.com"]?.iam?.[0] ?? "";
const context = { functionName: "gantry-prod-approval-operator", awsRequestId: "r1" } as Context;

const body = (value: unknown) =>
  ({
    transformToString: async () => JSON.stringify(value),
  }) as unknown as GetObjectCommandOutput["Body"];
const notFound = () =>
  Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });

function event(principal: string | undefined, decision?: unknown): LambdaFunctionURLEvent {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: decision ? `/operator/approvals/${ID}` : "/operator/approvals",
    rawQueryString: "",
    headers: decision ? { "content-type": "application/json" } : {},
    requestContext: {
      http: { method: decision ? "POST" : "GET" },
      ...(principal ? { authorizer: { iam: { userArn: principal } } } : {}),
    } as never,
    isBase64Encoded: false,
    ...(decision ? { body: JSON.stringify(decision) } : {}),
  };
}

beforeEach(() => {
  for (const mock of [s3, sfn, secrets]) mock.reset();
  vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
  vi.stubEnv("GANTRY_DECISION_KEYS_SECRET", DECISION_SECRET);
  secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ current: "d".repeat(40) }) });
  const stored: Record<string, unknown> = {
    [recordKeys.approval(ID)]: {
      id: ID,
      stage: "prod",
      service: "hello-service",
      version: "3f2a9c1",
      sha256: "a".repeat(64),
      execution: { id: EXECUTION, name: "hello-1", startedAt: "2026-11-01T12:00:00.000Z" },
      trigger: { actor: "octocat" },
      approvers: ["alice@example.com", "bob@example.com"],
      requestedAt: new Date(Date.now() - 1000).toISOString(),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      rollout: { steps: [10], stepWaitSeconds: 60, bakeSeconds: 600, alarms: [] },
    },
    [recordKeys.approvalToken(ID)]: { approvalId: ID, taskToken: "token" },
  };
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    if (!(input.Key in stored)) throw notFound();
    return { Body: body(stored[input.Key]), ETag: '"e"' };
  });
  s3.on(ListObjectsV2Command).resolves({
    Contents: [{ Key: recordKeys.approval(ID) }],
    IsTruncated: false,
  });
  s3.on(PutObjectCommand).resolves({ ETag: '"d"' });
  sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
  sfn.on(SendTaskSuccessCommand).resolves({});
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("approval-operator", () => {
  it("answers 401 when Lambda hands over no IAM principal, and touches nothing", async () => {
    const result = await handler(event(undefined, { action: "approve" }), context);
    expect(result.statusCode).toBe(401);
    expect(s3.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("lists pending approvals for a signed-in principal", async () => {
    const result = await handler(event(ALICE), context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? "{}").approvals.map((a: { id: string }) => a.id)).toEqual([
      ID,
    ]);
  });

  it("decides as the approver the registry maps the principal to, sealed, then completes the task", async () => {
    const result = await handler(event(ALICE, { action: "approve", comment: "ok" }), context);
    expect(result.statusCode, result.body).toBe(200);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: STATE_BUCKET,
      Key: recordKeys.approvalDecision(ID),
      IfNoneMatch: "*",
    });
    expect(JSON.parse(String(put?.Body))).toMatchObject({
      by: "alice@example.com",
      channel: "operator",
      principal: ALICE,
      seal: { mac: expect.any(String) },
    });
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: DECISION_SECRET,
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe("token");
  });

  it("refuses a principal the registry does not map, whatever the body claims", async () => {
    const result = await handler(
      event("arn:aws:iam::111122223333:user/eve", { action: "approve", as: "alice@example.com" }),
      context,
    );
    expect(result.statusCode).toBe(403);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it("breaks a damaged lock for a registered operator: exactly the bytes inspected, audited first", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const garbled = '{"owner":"arn:aws:sta';
    s3.on(GetObjectCommand, { Key: recordKeys.lock("hello-service") }).resolves({
      Body: {
        transformToByteArray: async () => new Uint8Array(Buffer.from(garbled)),
      } as unknown as GetObjectCommandOutput["Body"],
      ETag: '"garbled"',
    });
    s3.on(DeleteObjectCommand).resolves({});
    const unlock = (principal: string) =>
      handler(
        {
          ...event(principal),
          rawPath: "/operator/locks/prod/hello-service",
          headers: { "content-type": "application/json" },
          requestContext: {
            http: { method: "POST" },
            authorizer: { iam: { userArn: principal } },
          } as never,
          body: JSON.stringify({ reason: "bad restore", etag: '"garbled"', forceDamaged: true }),
        },
        context,
      );

    const eve = await unlock("arn:aws:iam::111122223333:user/eve");
    expect(eve.statusCode).toBe(403);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);

    const result = await unlock(ALICE);
    expect(result.statusCode, result.body).toBe(200);
    const [audit, completed] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(audit).toMatchObject({ Bucket: STATE_BUCKET, IfNoneMatch: "*" });
    expect(audit?.Key).toMatch(/^audit\/locks\/hello-service\/.+\.json$/);
    expect(JSON.parse(String(audit?.Body))).toMatchObject({
      principal: ALICE,
      operators: ["alice@example.com"],
      reason: "bad restore",
      stage: "prod",
      previous: { damaged: "is not JSON", base64: Buffer.from(garbled).toString("base64") },
      result: "pending",
    });
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: STATE_BUCKET,
      Key: recordKeys.lock("hello-service"),
      IfMatch: '"garbled"',
    });
    expect(completed).toMatchObject({ Key: audit?.Key, IfMatch: '"d"' });
    expect(JSON.parse(String(completed?.Body)).result).toBe("broken");
  });
});
