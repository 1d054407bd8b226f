import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { TransientError } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { S3RecordStore } from "./s3-records.ts";

const BUCKET = "acme-gantry-state-prod";
const KEY = "locks/hello-service.json";
const LOCK = { owner: "arn:aws:states:us-east-1:123456789012:execution:deploy:run-1" };

const s3Error = (name: string, status: number, fault: "client" | "server" = "client") =>
  new S3ServiceException({
    name,
    message: `${name}!`,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
const throttled = () => s3Error("SlowDown", 503, "server");
const preconditionFailed = () => s3Error("PreconditionFailed", 412);
const body = (text: string) =>
  ({ transformToString: async () => text }) as unknown as GetObjectCommandOutput["Body"];

let s3: S3Client;
let mock: AwsClientStub<S3Client>;
let records: S3RecordStore;

beforeEach(() => {
  s3 = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(s3);
  records = new S3RecordStore(s3, BUCKET);
});

describe("S3RecordStore.getBytes", () => {
  it("returns the bytes exactly as stored, and their ETag, without parsing them", async () => {
    const garbled = new Uint8Array([0, 0, 123, 34, 111]);
    mock.on(GetObjectCommand).resolves({
      Body: {
        transformToByteArray: async () => garbled,
        transformToString: async () => Buffer.from(garbled).toString("utf8"),
      } as unknown as GetObjectCommandOutput["Body"],
      ETag: '"g"',
    });
    await expect(records.getBytes(KEY)).resolves.toEqual({ bytes: garbled, etag: '"g"' });
    await expect(records.get(KEY)).rejects.toThrow(SyntaxError);
  });

  it("returns undefined for a missing record", async () => {
    mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: "no key", $metadata: { httpStatusCode: 404 } }));
    await expect(records.getBytes(KEY)).resolves.toBeUndefined();
  });
});

describe("S3RecordStore.get", () => {
  it("returns the parsed record and its ETag", async () => {
    mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(LOCK)), ETag: '"e1"' });
    await expect(records.get(KEY)).resolves.toEqual({ value: LOCK, etag: '"e1"' });
    expect(mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: KEY,
    });
  });

  it("returns undefined for a missing record", async () => {
    mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: "no key", $metadata: { httpStatusCode: 404 } }));
    await expect(records.get(KEY)).resolves.toBeUndefined();
  });

  it("fails for a missing bucket", async () => {
    const error = new NoSuchBucket({ message: "no bucket", $metadata: { httpStatusCode: 404 } });
    mock.on(GetObjectCommand).rejects(error);
    await expect(records.get(KEY)).rejects.toBe(error);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(GetObjectCommand).rejects(original);
    const error = await rejectionOf(records.get(KEY));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("S3RecordStore.create", () => {
  it("writes only if the key is free (If-None-Match: *) and returns the new ETag", async () => {
    mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    await expect(records.create(KEY, LOCK)).resolves.toEqual({ value: LOCK, etag: '"e1"' });
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: KEY,
      Body: JSON.stringify(LOCK),
      ContentType: "application/json",
      IfNoneMatch: "*",
    });
  });

  it("returns undefined when the record exists (412 PreconditionFailed)", async () => {
    mock.on(PutObjectCommand).rejects(preconditionFailed());
    await expect(records.create(KEY, LOCK)).resolves.toBeUndefined();
  });

  it("turns a simultaneous conditional write (409 ConditionalRequestConflict) into TransientError", async () => {
    const original = s3Error("ConditionalRequestConflict", 409);
    mock.on(PutObjectCommand).rejects(original);
    const error = await rejectionOf(records.create(KEY, LOCK));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(PutObjectCommand).rejects(original);
    const error = await rejectionOf(records.create(KEY, LOCK));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("passes other errors through", async () => {
    const original = s3Error("AccessDenied", 403);
    mock.on(PutObjectCommand).rejects(original);
    await expect(records.create(KEY, LOCK)).rejects.toBe(original);
  });
});

describe("S3RecordStore.replace", () => {
  it("writes only if the record still has the ETag (If-Match)", async () => {
    mock.on(PutObjectCommand).resolves({ ETag: '"e2"' });
    const next = { ...LOCK, brokeStaleLockOf: "run-0" };
    await expect(records.replace(KEY, next, '"e1"')).resolves.toEqual({
      value: next,
      etag: '"e2"',
    });
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: KEY,
      Body: JSON.stringify(next),
      ContentType: "application/json",
      IfMatch: '"e1"',
    });
  });

  it("returns undefined when the record changed (412 PreconditionFailed)", async () => {
    mock.on(PutObjectCommand).rejects(preconditionFailed());
    await expect(records.replace(KEY, LOCK, '"e1"')).resolves.toBeUndefined();
  });

  it("returns undefined when the record is gone (404 on If-Match): it changed", async () => {
    mock.on(PutObjectCommand).rejects(
      Object.assign(new Error("NoSuchKey"), {
        name: "NoSuchKey",
        $metadata: { httpStatusCode: 404 },
      }),
    );
    await expect(records.replace(KEY, LOCK, '"e1"')).resolves.toBeUndefined();
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(PutObjectCommand).rejects(original);
    const error = await rejectionOf(records.replace(KEY, LOCK, '"e1"'));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("S3RecordStore.put", () => {
  it("writes without a condition", async () => {
    mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    await expect(records.put("deployments/hello-service/run-1.json", { ok: true })).resolves.toBe(
      undefined,
    );
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: "deployments/hello-service/run-1.json",
      Body: '{"ok":true}',
      ContentType: "application/json",
    });
  });

  it("turns throttling into TransientError", async () => {
    mock.on(PutObjectCommand).rejects(throttled());
    await expect(records.put(KEY, LOCK)).rejects.toBeInstanceOf(TransientError);
  });
});

describe("S3RecordStore.delete", () => {
  it("deletes only if the record still has the ETag (If-Match) and returns true", async () => {
    mock.on(DeleteObjectCommand).resolves({});
    await expect(records.delete(KEY, '"e1"')).resolves.toBe(true);
    expect(mock.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: KEY,
      IfMatch: '"e1"',
    });
  });

  it("returns false when the record changed (412 PreconditionFailed)", async () => {
    mock.on(DeleteObjectCommand).rejects(preconditionFailed());
    await expect(records.delete(KEY, '"e1"')).resolves.toBe(false);
  });

  it("returns false when the record is gone (404)", async () => {
    mock
      .on(DeleteObjectCommand)
      .rejects(new NoSuchKey({ message: "no key", $metadata: { httpStatusCode: 404 } }));
    await expect(records.delete(KEY, '"e1"')).resolves.toBe(false);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(DeleteObjectCommand).rejects(original);
    const error = await rejectionOf(records.delete(KEY, '"e1"'));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("passes other errors through", async () => {
    const original = s3Error("AccessDenied", 403);
    mock.on(DeleteObjectCommand).rejects(original);
    await expect(records.delete(KEY, '"e1"')).rejects.toBe(original);
  });
});

describe("S3RecordStore.list", () => {
  it("follows continuation tokens and returns every key under the prefix", async () => {
    mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: "approvals/a.json" }, { Key: "approvals/b.json" }],
        IsTruncated: true,
        NextContinuationToken: "t1",
      })
      .resolvesOnce({ Contents: [{ Key: "approvals/c.json" }], IsTruncated: false });
    await expect(records.list("approvals/")).resolves.toEqual([
      "approvals/a.json",
      "approvals/b.json",
      "approvals/c.json",
    ]);
    const inputs = mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { Bucket: BUCKET, Prefix: "approvals/", ContinuationToken: undefined },
      { Bucket: BUCKET, Prefix: "approvals/", ContinuationToken: "t1" },
    ]);
  });

  it("returns an empty list for an empty prefix", async () => {
    mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    await expect(records.list("approvals/")).resolves.toEqual([]);
  });

  it("turns throttling into TransientError", async () => {
    mock.on(ListObjectsV2Command).rejects(throttled());
    await expect(records.list("approvals/")).rejects.toBeInstanceOf(TransientError);
  });
});
