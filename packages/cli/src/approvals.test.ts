import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { ApprovalRefused } from "@gantry/core";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { AwsApprovalDesk } from "./approvals.ts";

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const BUCKET = "gantry-state-prod-123456789012-us-east-1";
const ID = "A".repeat(24);
const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello-1";
const NOW = Date.parse("2026-11-22T10:00:00Z");

/** The state bucket as an in-memory map, with S3's conditional create. */
let objects: Map<string, string>;

function body(text: string): GetObjectCommandOutput["Body"] {
  return { transformToString: async () => text } as unknown as GetObjectCommandOutput["Body"];
}

beforeEach(() => {
  s3.reset();
  sfn.reset();
  objects = new Map([
    [
      `approvals/${ID}.json`,
      JSON.stringify({
        id: ID,
        stage: "prod",
        service: "hello-service",
        version: "3f2a9c1",
        execution: { id: EXECUTION, name: "hello-1" },
        approvers: ["alice@example.com"],
        requestedAt: "2026-11-22T09:00:00Z",
        expiresAt: "2026-11-23T09:00:00Z",
      }),
    ],
    [`approval-tokens/${ID}.json`, JSON.stringify({ approvalId: ID, taskToken: "token-1" })],
  ]);
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    const text = objects.get(input.Key);
    if (text === undefined)
      throw Object.assign(new Error("NoSuchKey"), {
        name: "NoSuchKey",
        $metadata: { httpStatusCode: 404 },
      });
    return { Body: body(text), ETag: '"e"' };
  });
  s3.on(PutObjectCommand).callsFake(
    async (input: { Key: string; Body: string; IfNoneMatch?: string }) => {
      if (input.IfNoneMatch === "*" && objects.has(input.Key)) {
        throw Object.assign(new Error("PreconditionFailed"), {
          name: "PreconditionFailed",
          $metadata: { httpStatusCode: 412 },
        });
      }
      objects.set(input.Key, input.Body);
      return { ETag: '"e2"' };
    },
  );
  s3.on(ListObjectsV2Command).callsFake(async (input: { Prefix: string }) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key })),
  }));
  sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

function desk() {
  return new AwsApprovalDesk({ s3: new S3Client({}), sfn: new SFNClient({}) }, BUCKET, () => NOW);
}

describe("AwsApprovalDesk", () => {
  it("lists what is waiting and decides through the approval service, recorded once", async () => {
    expect((await desk().pending()).map((a) => a.id)).toEqual([ID]);
    const result = await desk().decide({
      approvalId: ID,
      action: "approve",
      operator: "alice@example.com",
      comment: "ship it",
    });
    expect(result).toMatchObject({
      decision: {
        decision: "approved",
        by: "alice@example.com",
        channel: "operator",
        comment: "ship it",
      },
      execution: { id: EXECUTION, name: "hello-1" },
    });
    expect(JSON.parse(objects.get(`approvals/${ID}.decision.json`) ?? "{}")).toMatchObject({
      decision: "approved",
      channel: "operator",
    });
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(sent?.taskToken).toBe("token-1");
    expect(JSON.parse(sent?.output ?? "{}")).toMatchObject({
      how: "operator",
      by: "alice@example.com",
    });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: BUCKET,
      IfNoneMatch: "*",
    });

    // The decision is spent: a second one is refused, and nothing is waiting any more.
    await expect(
      desk().decide({ approvalId: ID, action: "reject", operator: "alice@example.com" }),
    ).rejects.toMatchObject({ name: "ApprovalRefused", status: 409 });
    expect(await desk().pending()).toEqual([]);
  });

  it("refuses someone who is not an approver, before writing anything", async () => {
    const error = await desk()
      .decide({ approvalId: ID, action: "reject", operator: "mallory@example.com" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalRefused);
    expect((error as ApprovalRefused).status).toBe(403);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });
});
