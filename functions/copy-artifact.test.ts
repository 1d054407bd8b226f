/**
 * CopyArtifact's real exported `handler` over mocked AWS SDK clients (functions/testing.ts): the
 * server-side copy with its checksum and conditions, and the names of its failures.
 */
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { rejectionOf, SHA_A, SHA_B } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as copyArtifact } from "./copy-artifact.ts";
import {
  APPROVAL,
  ARTIFACT_KEY,
  awsError,
  context,
  EXECUTION,
  iso,
  NOW,
  REQUEST,
  SHA_A_BASE64,
  SHA_B_BASE64,
  STATE,
  s3,
  setUpHandlerTests,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("copy-artifact", () => {
  const state = { ...STATE, approval: APPROVAL };
  const source = { Bucket: "acme-gantry-artifacts-preprod", Key: ARTIFACT_KEY };
  const destination = { Bucket: "acme-gantry-artifacts-prod", Key: ARTIFACT_KEY };

  beforeEach(() => {
    s3.on(HeadObjectCommand, source).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_A_BASE64,
      ChecksumType: "FULL_OBJECT",
      ETag: '"9b2cf535f27731c9"',
      VersionId: "src-v3",
    });
    s3.on(HeadObjectCommand, destination).rejects(awsError("NotFound", 404));
    s3.on(CopyObjectCommand).resolves({
      CopyObjectResult: { ETag: '"c4ca4238a0b92382"', ChecksumSHA256: SHA_A_BASE64 },
      VersionId: "dest-v1",
    });
  });

  it("copies server-side into the stage bucket with a SHA-256 checksum, conditional on the source's ETag", async () => {
    const artifact = await copyArtifact(state, context);
    expect(artifact).toEqual({
      bucket: "acme-gantry-artifacts-prod",
      key: ARTIFACT_KEY,
      versionId: "dest-v1",
      sha256: SHA_A,
      size: 2048,
      copied: true,
    });
    const heads = s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input);
    expect(heads).toContainEqual({ ...source, ChecksumMode: "ENABLED" });
    expect(heads).toContainEqual({ ...destination, ChecksumMode: "ENABLED" });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-gantry-artifacts-prod",
      Key: ARTIFACT_KEY,
      CopySource: `acme-gantry-artifacts-preprod/${ARTIFACT_KEY}?versionId=src-v3`,
      CopySourceIfMatch: '"9b2cf535f27731c9"',
      ChecksumAlgorithm: "SHA256",
      MetadataDirective: "REPLACE",
      Metadata: {
        "gantry-service": "hello-service",
        "gantry-version": REQUEST.version,
        "gantry-sha256": SHA_A,
        "gantry-execution": EXECUTION.name,
        "gantry-approved-by": "alice@example.com",
        "gantry-promoted-at": iso(NOW),
      },
      TaggingDirective: "REPLACE",
      Tagging: `gantry-service=hello-service&gantry-version=${REQUEST.version}`,
    });
  });

  it("fails with ArtifactChecksumMismatch when the source has another digest, and copies nothing", async () => {
    s3.on(HeadObjectCommand, source).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_B_BASE64,
      ETag: '"9b2cf535f27731c9"',
    });
    const error = await rejectionOf(copyArtifact(state, context));
    expect(error.name).toBe("ArtifactChecksumMismatch");
    expect(error.message).toContain(SHA_B);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  it("fails with ArtifactConflict when the destination already holds other bytes", async () => {
    s3.on(HeadObjectCommand, destination).resolves({
      ContentLength: 999,
      ChecksumSHA256: SHA_B_BASE64,
      ETag: '"other"',
    });
    const error = await rejectionOf(copyArtifact(state, context));
    expect(error.name).toBe("ArtifactConflict");
    expect(error.message).toContain("acme-gantry-artifacts-prod");
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
