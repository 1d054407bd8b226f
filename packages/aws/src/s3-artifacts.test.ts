import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import {
  ArtifactChecksumMismatch,
  hexToBase64,
  type ObjectInfo,
  sha256Hex,
  TransientError,
} from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { isNotFound, isPreconditionFailed, S3ArtifactStore } from "./s3-artifacts.ts";

const SHA = sha256Hex("hello artifact");
const OTHER_SHA = sha256Hex("other bytes");
const ETAG = '"8cb520fd6c46f7e47b9e0a2d5e26cba4"';
const SOURCE = { bucket: "acme-artifacts-preprod", key: "hello-service/3f2a9c1.zip" };
const DEST = { bucket: "acme-artifacts-prod", key: "hello-service/3f2a9c1.zip" };
/** The source as copy-artifact verified it (its HEAD): what a copy is pinned to. */
const VERIFIED: ObjectInfo = {
  ...SOURCE,
  size: 14,
  sha256: SHA,
  etag: ETAG,
  versionId: "src-v1",
  metadata: {},
};
const OPTIONS = {
  sha256: SHA,
  metadata: { "gantry-version": "1.4.0", "gantry-sha256": SHA },
  tags: { "gantry-service": "hello-service", "gantry-version": "1.4.0" },
};
const MiB = 1024 * 1024;

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

beforeEach(() => {
  s3 = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(s3);
});

describe("S3ArtifactStore.head", () => {
  it("reports size, the SHA-256 as hex, etag, version and metadata", async () => {
    mock.on(HeadObjectCommand).resolves({
      ContentLength: 14,
      ChecksumSHA256: hexToBase64(SHA),
      ChecksumType: "FULL_OBJECT",
      ETag: ETAG,
      VersionId: "v-1",
      Metadata: { "gantry-version": "1.4.0" },
    });
    await expect(new S3ArtifactStore(s3).head(SOURCE)).resolves.toEqual({
      ...SOURCE,
      size: 14,
      sha256: SHA,
      etag: ETAG,
      versionId: "v-1",
      metadata: { "gantry-version": "1.4.0" },
    });
  });

  it("asks S3 for the checksum (ChecksumMode ENABLED)", async () => {
    mock.on(HeadObjectCommand).resolves({ ContentLength: 1, ETag: ETAG });
    await new S3ArtifactStore(s3).head(SOURCE);
    expect(mock.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: SOURCE.bucket,
      Key: SOURCE.key,
      ChecksumMode: "ENABLED",
    });
  });

  it('leaves out the version of an unversioned bucket ("null")', async () => {
    mock.on(HeadObjectCommand).resolves({ ContentLength: 1, ETag: ETAG, VersionId: "null" });
    const head = await new S3ArtifactStore(s3).head(SOURCE);
    expect(head).not.toHaveProperty("versionId");
  });

  it("never reports the checksum of a multipart object (ETag with -) as its SHA-256", async () => {
    mock.on(HeadObjectCommand).resolves({
      ContentLength: 11 * MiB,
      // Looks like a plain digest, but it is a checksum of the parts' checksums.
      ChecksumSHA256: hexToBase64(SHA),
      ETag: '"5779c590f7097203402b98482bcfeadf-3"',
    });
    const head = await new S3ArtifactStore(s3).head(SOURCE);
    expect(head?.size).toBe(11 * MiB);
    expect(head).not.toHaveProperty("sha256");
  });

  it("never reports a COMPOSITE checksum as the SHA-256", async () => {
    mock.on(HeadObjectCommand).resolves({
      ContentLength: 14,
      ChecksumSHA256: hexToBase64(SHA),
      ChecksumType: "COMPOSITE",
      ETag: ETAG,
    });
    expect(await new S3ArtifactStore(s3).head(SOURCE)).not.toHaveProperty("sha256");
  });

  it("ignores a checksum that is not a whole SHA-256 (composite -N suffix)", async () => {
    mock.on(HeadObjectCommand).resolves({
      ContentLength: 14,
      ChecksumSHA256: `${hexToBase64(SHA)}-3`,
      ETag: ETAG,
    });
    expect(await new S3ArtifactStore(s3).head(SOURCE)).not.toHaveProperty("sha256");
  });

  it("reports no SHA-256 for an object stored without a checksum", async () => {
    mock.on(HeadObjectCommand).resolves({ ContentLength: 14, ETag: ETAG });
    const head = await new S3ArtifactStore(s3).head(SOURCE);
    expect(head).toEqual({ ...SOURCE, size: 14, etag: ETAG, metadata: {} });
  });

  it("returns undefined for a missing object (NotFound)", async () => {
    mock
      .on(HeadObjectCommand)
      .rejects(new NotFound({ message: "Not Found", $metadata: { httpStatusCode: 404 } }));
    await expect(new S3ArtifactStore(s3).head(SOURCE)).resolves.toBeUndefined();
  });

  it("fails for a missing bucket (a configuration problem, not a missing object)", async () => {
    const error = new NoSuchBucket({ message: "no bucket", $metadata: { httpStatusCode: 404 } });
    mock.on(HeadObjectCommand).rejects(error);
    await expect(new S3ArtifactStore(s3).head(SOURCE)).rejects.toBe(error);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(HeadObjectCommand).rejects(original);
    const error = await rejectionOf(new S3ArtifactStore(s3).head(SOURCE));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("S3ArtifactStore.copy (single request)", () => {
  it("copies server-side with a SHA-256, replaced metadata and tags, pinned to the source ETag", async () => {
    mock.on(CopyObjectCommand).resolves({
      CopyObjectResult: { ETag: '"dest"', ChecksumSHA256: hexToBase64(SHA) },
    });
    await new S3ArtifactStore(s3).copy(VERIFIED, DEST, OPTIONS);
    expect(mock.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: DEST.bucket,
      Key: DEST.key,
      CopySource: `${SOURCE.bucket}/hello-service/3f2a9c1.zip?versionId=src-v1`,
      CopySourceIfMatch: ETAG,
      ChecksumAlgorithm: "SHA256",
      MetadataDirective: "REPLACE",
      Metadata: OPTIONS.metadata,
      TaggingDirective: "REPLACE",
      Tagging: "gantry-service=hello-service&gantry-version=1.4.0",
    });
  });

  it("URL-encodes each segment of the source key and the version id", async () => {
    const from = { ...VERIFIED, key: "hello service/v1+2 ü#?.zip", versionId: "a+b/c" };
    mock.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"dest"' } });
    await new S3ArtifactStore(s3).copy(from, DEST, OPTIONS);
    expect(mock.commandCalls(CopyObjectCommand)[0]?.args[0].input.CopySource).toBe(
      `${SOURCE.bucket}/hello%20service/v1%2B2%20%C3%BC%23%3F.zip?versionId=a%2Bb%2Fc`,
    );
  });

  it("leaves the version out of CopySource when the source has none", async () => {
    const { versionId: _, ...unversioned } = VERIFIED;
    mock.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"dest"' } });
    await new S3ArtifactStore(s3).copy(unversioned, DEST, OPTIONS);
    expect(mock.commandCalls(CopyObjectCommand)[0]?.args[0].input.CopySource).toBe(
      `${SOURCE.bucket}/hello-service/3f2a9c1.zip`,
    );
  });

  it("returns the new object with the SHA-256 S3 computed, as hex", async () => {
    mock.on(CopyObjectCommand).resolves({
      CopyObjectResult: { ETag: '"dest"', ChecksumSHA256: hexToBase64(SHA) },
      VersionId: "dest-v7",
    });
    await expect(new S3ArtifactStore(s3).copy(VERIFIED, DEST, OPTIONS)).resolves.toEqual({
      ...DEST,
      size: 14,
      sha256: SHA,
      etag: '"dest"',
      versionId: "dest-v7",
      metadata: OPTIONS.metadata,
    });
  });

  it("reports the digest S3 computed, not the requested one, when they differ", async () => {
    mock.on(CopyObjectCommand).resolves({
      CopyObjectResult: { ETag: '"dest"', ChecksumSHA256: hexToBase64(OTHER_SHA) },
    });
    const copy = await new S3ArtifactStore(s3).copy(VERIFIED, DEST, OPTIONS);
    expect(copy.sha256).toBe(OTHER_SHA);
  });

  it("reports no SHA-256 when S3 returned no checksum", async () => {
    mock.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"dest"' } });
    const copy = await new S3ArtifactStore(s3).copy(VERIFIED, DEST, OPTIONS);
    expect(copy).not.toHaveProperty("sha256");
    expect(copy).not.toHaveProperty("versionId");
  });

  it("copies the object as the caller read it, without reading it again", async () => {
    mock.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"dest"' } });
    await new S3ArtifactStore(s3).copy(VERIFIED, DEST, OPTIONS);
    expect(mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it("fails with ArtifactChecksumMismatch when the source changed after it was read (412)", async () => {
    const original = preconditionFailed();
    mock.on(CopyObjectCommand).rejects(original);
    const error = await rejectionOf(new S3ArtifactStore(s3).copy(VERIFIED, DEST, OPTIONS));
    expect(error).toBeInstanceOf(ArtifactChecksumMismatch);
    expect(error.message).toBe(
      `s3://${SOURCE.bucket}/${SOURCE.key} changed after it was verified (ETag ${ETAG}); nothing was copied`,
    );
    expect(error.cause).toBe(original);
  });

  it("turns a throttled copy into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(CopyObjectCommand).rejects(original);
    const error = await rejectionOf(new S3ArtifactStore(s3).copy(VERIFIED, DEST, OPTIONS));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("uses a single CopyObject for a source exactly at the threshold", async () => {
    mock.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"dest"' } });
    await new S3ArtifactStore(s3, { multipartThreshold: 14 }).copy(VERIFIED, DEST, OPTIONS);
    expect(mock.commandCalls(CopyObjectCommand)).toHaveLength(1);
    expect(mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });
});

describe("S3ArtifactStore.copy (multipart, above the threshold)", () => {
  const size = 11 * MiB;
  const partSize = 5 * MiB;
  const store = () => new S3ArtifactStore(s3, { multipartThreshold: 10 * MiB, partSize });

  const big: ObjectInfo = { ...VERIFIED, size };

  beforeEach(() => {
    mock.on(HeadObjectCommand, { Bucket: DEST.bucket }).resolves({
      ContentLength: size,
      ChecksumSHA256: hexToBase64(OTHER_SHA), // composite: must not be taken for a digest
      ETag: '"dest-3"',
      VersionId: "dest-v2",
      Metadata: OPTIONS.metadata,
    });
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: "upload-1" });
    mock.on(UploadPartCopyCommand).callsFake((input: { PartNumber: number }) => ({
      CopyPartResult: {
        ETag: `"part-${input.PartNumber}"`,
        ChecksumSHA256: `c${input.PartNumber}`,
      },
    }));
    mock.on(CompleteMultipartUploadCommand).resolves({ VersionId: "dest-v2" });
    mock.on(AbortMultipartUploadCommand).resolves({});
  });

  it("creates the upload with a SHA-256 checksum, metadata and tags", async () => {
    await store().copy(big, DEST, OPTIONS);
    expect(mock.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toEqual({
      Bucket: DEST.bucket,
      Key: DEST.key,
      ChecksumAlgorithm: "SHA256",
      Metadata: OPTIONS.metadata,
      Tagging: "gantry-service=hello-service&gantry-version=1.4.0",
    });
    expect(mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  it("copies consecutive byte ranges of the exact source version", async () => {
    await store().copy(big, DEST, OPTIONS);
    const parts = mock.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input);
    expect(parts.map((p) => [p.PartNumber, p.CopySourceRange])).toEqual([
      [1, `bytes=0-${partSize - 1}`],
      [2, `bytes=${partSize}-${2 * partSize - 1}`],
      [3, `bytes=${2 * partSize}-${size - 1}`],
    ]);
    for (const part of parts) {
      expect(part).toMatchObject({
        Bucket: DEST.bucket,
        Key: DEST.key,
        UploadId: "upload-1",
        CopySource: `${SOURCE.bucket}/hello-service/3f2a9c1.zip?versionId=src-v1`,
        CopySourceIfMatch: ETAG,
      });
    }
  });

  it("completes the upload with every part's ETag and checksum, in order", async () => {
    await store().copy(big, DEST, OPTIONS);
    expect(mock.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input).toEqual({
      Bucket: DEST.bucket,
      Key: DEST.key,
      UploadId: "upload-1",
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"part-1"', ChecksumSHA256: "c1" },
          { PartNumber: 2, ETag: '"part-2"', ChecksumSHA256: "c2" },
          { PartNumber: 3, ETag: '"part-3"', ChecksumSHA256: "c3" },
        ],
      },
    });
  });

  it("vouches for the requested SHA-256 when the source has exactly that digest", async () => {
    await expect(store().copy(big, DEST, OPTIONS)).resolves.toEqual({
      ...DEST,
      size,
      sha256: SHA,
      etag: '"dest-3"',
      versionId: "dest-v2",
      metadata: OPTIONS.metadata,
    });
  });

  it("claims no SHA-256 when the source's digest is not the requested one", async () => {
    const copy = await store().copy(big, DEST, { ...OPTIONS, sha256: OTHER_SHA });
    expect(copy.size).toBe(size);
    expect(copy).not.toHaveProperty("sha256");
  });

  it("claims no SHA-256 when the source itself has no full-object digest", async () => {
    const { sha256: _, ...composite } = big;
    const copy = await store().copy(composite, DEST, OPTIONS);
    expect(copy).not.toHaveProperty("sha256");
  });

  it("fails and aborts the upload when the copy has the wrong size", async () => {
    mock.on(HeadObjectCommand, { Bucket: DEST.bucket }).resolves({
      ContentLength: size - 1,
      ETag: '"dest-3"',
    });
    await expect(store().copy(big, DEST, OPTIONS)).rejects.toThrow(
      `multipart copy to s3://${DEST.bucket}/${DEST.key} has the wrong size`,
    );
    expect(mock.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toEqual({
      Bucket: DEST.bucket,
      Key: DEST.key,
      UploadId: "upload-1",
    });
  });

  it("aborts the upload and reports TransientError when a part copy is throttled", async () => {
    const original = throttled();
    mock.on(UploadPartCopyCommand).rejects(original);
    const error = await rejectionOf(store().copy(big, DEST, OPTIONS));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it("aborts the upload and reports ArtifactChecksumMismatch when the source changed (412)", async () => {
    mock.on(UploadPartCopyCommand).rejects(preconditionFailed());
    const error = await rejectionOf(store().copy(big, DEST, OPTIONS));
    expect(error).toBeInstanceOf(ArtifactChecksumMismatch);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it("keeps the copy's own error when aborting fails too", async () => {
    const original = s3Error("AccessDenied", 403);
    mock.on(UploadPartCopyCommand).rejects(original);
    mock.on(AbortMultipartUploadCommand).rejects(s3Error("NoSuchUpload", 404));
    await expect(store().copy(big, DEST, OPTIONS)).rejects.toBe(original);
  });

  it("fails when S3 returns no UploadId", async () => {
    mock.on(CreateMultipartUploadCommand).resolves({});
    await expect(store().copy(big, DEST, OPTIONS)).rejects.toThrow(
      "CreateMultipartUpload returned no UploadId",
    );
    expect(mock.commandCalls(UploadPartCopyCommand)).toHaveLength(0);
  });
});

describe("S3ArtifactStore.readJson", () => {
  it("parses the object's JSON", async () => {
    mock.on(GetObjectCommand).resolves({ Body: body('{"validatedBy":"ci","n":3}') });
    await expect(new S3ArtifactStore(s3).readJson(SOURCE)).resolves.toEqual({
      validatedBy: "ci",
      n: 3,
    });
    expect(mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: SOURCE.bucket,
      Key: SOURCE.key,
    });
  });

  it("returns undefined for a missing object (NoSuchKey)", async () => {
    mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: "no key", $metadata: { httpStatusCode: 404 } }));
    await expect(new S3ArtifactStore(s3).readJson(SOURCE)).resolves.toBeUndefined();
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(GetObjectCommand).rejects(original);
    const error = await rejectionOf(new S3ArtifactStore(s3).readJson(SOURCE));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("fails on an object that is not JSON", async () => {
    mock.on(GetObjectCommand).resolves({ Body: body("<html>") });
    await expect(new S3ArtifactStore(s3).readJson(SOURCE)).rejects.toThrow(SyntaxError);
  });
});

describe("S3ArtifactStore.writeJsonIfAbsent", () => {
  it("writes JSON only if the key is free (If-None-Match: *) and returns true", async () => {
    mock.on(PutObjectCommand).resolves({ ETag: '"new"' });
    await expect(
      new S3ArtifactStore(s3).writeJsonIfAbsent(SOURCE, { validatedBy: "ci" }),
    ).resolves.toBe(true);
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: SOURCE.bucket,
      Key: SOURCE.key,
      Body: '{"validatedBy":"ci"}',
      ContentType: "application/json",
      IfNoneMatch: "*",
    });
  });

  it("returns false when something is already there (412 PreconditionFailed)", async () => {
    mock.on(PutObjectCommand).rejects(preconditionFailed());
    await expect(new S3ArtifactStore(s3).writeJsonIfAbsent(SOURCE, {})).resolves.toBe(false);
  });

  it("turns a concurrent conditional write (409 ConditionalRequestConflict) into TransientError", async () => {
    const original = s3Error("ConditionalRequestConflict", 409);
    mock.on(PutObjectCommand).rejects(original);
    const error = await rejectionOf(new S3ArtifactStore(s3).writeJsonIfAbsent(SOURCE, {}));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("passes other errors through", async () => {
    const original = s3Error("AccessDenied", 403);
    mock.on(PutObjectCommand).rejects(original);
    await expect(new S3ArtifactStore(s3).writeJsonIfAbsent(SOURCE, {})).rejects.toBe(original);
  });
});

describe("isNotFound and isPreconditionFailed", () => {
  it.each([
    ["NotFound", s3Error("NotFound", 404), true],
    ["NoSuchKey", s3Error("NoSuchKey", 404), true],
    ["an unnamed 404", s3Error("Unknown", 404), true],
    ["NoSuchBucket", s3Error("NoSuchBucket", 404), false],
    ["AccessDenied", s3Error("AccessDenied", 403), false],
  ])("isNotFound(%s) is %s", (_label, error, expected) => {
    expect(isNotFound(error)).toBe(expected);
  });

  it.each([
    ["PreconditionFailed", s3Error("PreconditionFailed", 412), true],
    ["an unnamed 412", s3Error("Unknown", 412), true],
    ["ConditionalRequestConflict", s3Error("ConditionalRequestConflict", 409), false],
    ["NoSuchKey", s3Error("NoSuchKey", 404), false],
  ])("isPreconditionFailed(%s) is %s", (_label, error, expected) => {
    expect(isPreconditionFailed(error)).toBe(expected);
  });
});
