/**
 * The approval Lambda (Function URL) with its real AWS adapters over mocked SDK clients:
 * the whole path from a link to SendTaskSuccess, and what it must never log.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { S3RecordStore, SfnWorkflowCallbacks } from "@gantry/aws";
import { approvalLink, recordKeys, signingKeysFrom } from "@gantry/core";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createHandler } from "./approval-http.ts";

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const KEYS = signingKeysFrom("s".repeat(48));
const NOW = Date.parse("2026-11-22T10:00:00Z");
const ID = "AAAAAAAAAAAAAAAAAAAAAAAA";
const TOKEN = "AQtask-token-never-to-be-logged";
const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello";

const approval = {
  id: ID,
  stage: "prod",
  service: "hello-service",
  version: "3f2a9c1e0b7d",
  sha256: "b".repeat(64),
  artifactKey: "hello-service/3f2a9c1e0b7d.zip",
  execution: { id: EXECUTION, name: "hello", startedAt: new Date(NOW - 60_000).toISOString() },
  trigger: { actor: "octocat" },
  approvers: ["alice@example.com"],
  requestedAt: new Date(NOW - 1000).toISOString(),
  expiresAt: new Date(NOW + 3_600_000).toISOString(),
  rollout: { steps: [10], stepWaitSeconds: 60, bakeSeconds: 600, alarms: [] },
};

/** A GetObject body: the adapter only reads it with transformToString. */
function body(value: unknown) {
  return {
    transformToString: async () => JSON.stringify(value),
  } as unknown as GetObjectCommandOutput["Body"];
}

let logged: string[];

function handler() {
  const log = new Logger({ serviceName: "gantry", logLevel: "DEBUG" });
  // Capture everything the function logs.
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    logged.push(String(chunk));
    return true;
  });
  return createHandler({
    records: new S3RecordStore(new S3Client({ region: "us-east-1" }), "gantry-state-prod"),
    workflows: new SfnWorkflowCallbacks(new SFNClient({ region: "us-east-1" })),
    secrets: { signingKeys: async () => KEYS },
    decisionKeys: { signingKeys: async () => KEYS },
    clock: { now: () => NOW },
    log,
  });
}

function event(method: string, query: string, form?: string): LambdaFunctionURLEvent {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: `/approvals/${ID}`,
    rawQueryString: query,
    headers: form ? { "content-type": "application/x-www-form-urlencoded" } : {},
    requestContext: {
      http: {
        method,
        path: `/approvals/${ID}`,
        protocol: "HTTP/1.1",
        sourceIp: "192.0.2.1",
        userAgent: "test",
      },
    } as never,
    ...(form
      ? { body: Buffer.from(form).toString("base64"), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}

const context = {
  functionName: "approval-http",
  awsRequestId: "r1",
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

function linkQuery() {
  const url = approvalLink(
    "https://abc.lambda-url.us-east-1.on.aws",
    {
      approvalId: ID,
      action: "approve",
      approver: "alice@example.com",
      expiresAt: Math.floor(NOW / 1000) + 600,
    },
    KEYS.current,
  );
  return new URL(url).search.slice(1);
}

beforeEach(() => {
  logged = [];
  s3.reset();
  sfn.reset();
  s3.on(GetObjectCommand).rejects(
    Object.assign(new Error("NoSuchKey"), {
      name: "NoSuchKey",
      $metadata: { httpStatusCode: 404 },
    }),
  );
  s3.on(GetObjectCommand, { Key: recordKeys.approval(ID) }).callsFake(() => ({
    Body: body(approval),
    ETag: '"a"',
  }));
  s3.on(GetObjectCommand, { Key: recordKeys.approvalToken(ID) }).callsFake(() => ({
    Body: body({ approvalId: ID, taskToken: TOKEN }),
    ETag: '"t"',
  }));
  s3.on(PutObjectCommand).resolves({ ETag: '"d"' });
  sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
  sfn.on(SendTaskSuccessCommand).resolves({});
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the approval Lambda", () => {
  it("answers a GET with the confirmation page and calls nothing that decides", async () => {
    const result = await handler()(event("GET", linkQuery()), context);
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain("Approve the deployment of hello-service");
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it("decides on the POST: a conditional create of the decision, then SendTaskSuccess with the token", async () => {
    const result = await handler()(event("POST", "", `${linkQuery()}&comment=ok`), context);
    expect(result.statusCode).toBe(200);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: "gantry-state-prod",
      Key: recordKeys.approvalDecision(ID),
      IfNoneMatch: "*",
    });
    const success = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(success?.taskToken).toBe(TOKEN);
    expect(JSON.parse(success?.output ?? "{}")).toMatchObject({
      approved: true,
      by: "alice@example.com",
      comment: "ok",
    });
  });

  it("answers 409 when the conditional create loses, and completes nothing", async () => {
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error("PreconditionFailed"), {
        name: "PreconditionFailed",
        $metadata: { httpStatusCode: 412 },
      }),
    );
    const result = await handler()(event("POST", "", linkQuery()), context);
    expect(result.statusCode).toBe(409);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it("never logs the task token, the signature or the signing key", async () => {
    await handler()(event("GET", linkQuery()), context);
    await handler()(event("POST", "", linkQuery()), context);
    const output = logged.join("");
    expect(output).toContain("approval request");
    const signature = new URLSearchParams(linkQuery()).get("sig") as string;
    for (const secret of [TOKEN, signature, KEYS.current.secret])
      expect(output).not.toContain(secret);
  });
});
