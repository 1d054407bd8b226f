import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { S3ArtifactStore } from "@gantry/aws";
import { type ObjectInfo, sha256Hex } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Moto, s3Config, startMoto } from "../support/moto.ts";

const PREPROD = "gantry-test-preprod";
const PROD = "gantry-test-prod";
const MiB = 1024 * 1024;
const BYTES = Buffer.from("PK\u0003\u0004 pretend this is a zip of hello-service 1.4.0");
const SHA = sha256Hex(BYTES);
const PROVENANCE = {
  sha256: SHA,
  metadata: { "gantry-version": "1.4.0", "gantry-sha256": SHA },
  tags: { "gantry-service": "hello-service", "gantry-version": "1.4.0" },
};

let moto: Moto;
let s3: S3Client;
let store: S3ArtifactStore;

async function upload(bucket: string, key: string, body: Uint8Array): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ChecksumAlgorithm: "SHA256" }),
  );
}

async function download(bucket: string, key: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new Error(`no body for s3://${bucket}/${key}`);
  return out.Body.transformToByteArray();
}

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(s3Config(moto.endpoint));
  store = new S3ArtifactStore(s3);
  await s3.send(new CreateBucketCommand({ Bucket: PREPROD }));
  await s3.send(new CreateBucketCommand({ Bucket: PROD }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: PROD,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
});

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

describe("S3ArtifactStore.head on moto", () => {
  it("reports the full-object SHA-256 (hex) of an object uploaded with ChecksumAlgorithm SHA256", async () => {
    await upload(PREPROD, "hello-service/head.zip", BYTES);
    const head = await store.head({ bucket: PREPROD, key: "hello-service/head.zip" });
    expect(head).toMatchObject({
      bucket: PREPROD,
      key: "hello-service/head.zip",
      size: BYTES.length,
      sha256: SHA,
      metadata: {},
    });
    expect(head?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(head).not.toHaveProperty("versionId"); // unversioned bucket
  });

  it("returns undefined for a missing key", async () => {
    await expect(store.head({ bucket: PREPROD, key: "hello-service/none.zip" })).resolves.toBe(
      undefined,
    );
  });
});

/** The object as copy-artifact would have verified it: what a copy is pinned to. */
async function verified(ref: { bucket: string; key: string }): Promise<ObjectInfo> {
  const head = await store.head(ref);
  if (!head) throw new Error(`s3://${ref.bucket}/${ref.key} was not uploaded`);
  return head;
}

describe("S3ArtifactStore.copy on moto", () => {
  const from = { bucket: PREPROD, key: "hello-service/3f2a9c1 v1+2.zip" };
  const to = { bucket: PROD, key: "hello-service/3f2a9c1 v1+2.zip" };

  beforeAll(async () => {
    await upload(from.bucket, from.key, BYTES);
  });

  it("keeps the SHA-256 across buckets and returns the new version id", async () => {
    const copy = await store.copy(await verified(from), to, PROVENANCE);
    expect(copy).toMatchObject({ ...to, size: BYTES.length, sha256: SHA });
    expect(copy.versionId).toMatch(/.+/);
    const head = await store.head(to);
    expect(head?.sha256).toBe(SHA);
    expect(head?.versionId).toBe(copy.versionId);
    expect(Buffer.from(await download(to.bucket, to.key)).equals(BYTES)).toBe(true);
  });

  it("sets the provenance metadata on the copy", async () => {
    await store.copy(await verified(from), to, PROVENANCE);
    const head = await s3.send(new HeadObjectCommand({ Bucket: to.bucket, Key: to.key }));
    expect(head.Metadata).toEqual(PROVENANCE.metadata);
  });

  it("sets the tags on the copy", async () => {
    await store.copy(
      await verified(from),
      { bucket: PROD, key: "hello-service/tagged.zip" },
      PROVENANCE,
    );
    const tags = await s3.send(
      new GetObjectTaggingCommand({ Bucket: PROD, Key: "hello-service/tagged.zip" }),
    );
    expect(tags.TagSet).toEqual([
      { Key: "gantry-service", Value: "hello-service" },
      { Key: "gantry-version", Value: "1.4.0" },
    ]);
  });
  // The copy's guard against a source replaced after it was verified (CopySourceIfMatch) is
  // tested with a mocked 412 in s3-artifacts.test.ts: moto 5.2.1 ignores the header.
});

describe("S3ArtifactStore multipart copy on moto", () => {
  const size = 11 * MiB;
  const big = randomBytes(size);
  const bigSha = sha256Hex(big);
  const from = { bucket: PREPROD, key: "hello-service/big.zip" };
  const multipart = () =>
    new S3ArtifactStore(s3, { multipartThreshold: 1 * MiB, partSize: 5 * MiB });

  beforeAll(async () => {
    await upload(from.bucket, from.key, big);
  });

  it("produces an object of the right size with the same bytes", async () => {
    const to = { bucket: PROD, key: "hello-service/big-copy.zip" };
    const copy = await multipart().copy(await verified(from), to, {
      ...PROVENANCE,
      sha256: bigSha,
    });
    expect(copy.size).toBe(size);
    expect(copy.etag).toMatch(/-3"$/); // three parts: 5 + 5 + 1 MiB
    expect(sha256Hex(await download(to.bucket, to.key))).toBe(bigSha);
  });

  it("vouches only for the source's own digest, never a wrong one", async () => {
    const copy = await multipart().copy(
      await verified(from),
      { bucket: PROD, key: "hello-service/big-copy-2.zip" },
      { ...PROVENANCE, sha256: bigSha },
    );
    expect(copy.sha256).toBe(bigSha);
  });

  it("claims no digest when asked for one the source does not have", async () => {
    const copy = await multipart().copy(
      await verified(from),
      { bucket: PROD, key: "hello-service/big-copy-3.zip" },
      { ...PROVENANCE, sha256: SHA },
    );
    expect(copy.size).toBe(size);
    expect(copy).not.toHaveProperty("sha256");
  });

  it("does not report the copy's composite checksum as its SHA-256", async () => {
    const to = { bucket: PROD, key: "hello-service/big-copy-4.zip" };
    await multipart().copy(await verified(from), to, { ...PROVENANCE, sha256: bigSha });
    const head = await store.head(to);
    expect(head?.size).toBe(size);
    expect(head).not.toHaveProperty("sha256");
  });

  it("sets metadata and tags on a multipart copy", async () => {
    const to = { bucket: PROD, key: "hello-service/big-copy-5.zip" };
    await multipart().copy(await verified(from), to, { ...PROVENANCE, sha256: bigSha });
    const head = await store.head(to);
    expect(head?.metadata).toEqual(PROVENANCE.metadata);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: to.bucket, Key: to.key }));
    expect(tags.TagSet).toHaveLength(2);
  });
});

describe("S3ArtifactStore JSON on moto", () => {
  const ref = { bucket: PREPROD, key: "validations/hello-service/1.4.0.json" };

  it("writes JSON when the key is free and reads it back", async () => {
    await expect(store.writeJsonIfAbsent(ref, { validatedBy: "ci", run: 42 })).resolves.toBe(true);
    await expect(store.readJson(ref)).resolves.toEqual({ validatedBy: "ci", run: 42 });
  });

  it("does not overwrite: a second write returns false and the first value stays", async () => {
    const key = { ...ref, key: "validations/hello-service/1.5.0.json" };
    await expect(store.writeJsonIfAbsent(key, { first: true })).resolves.toBe(true);
    await expect(store.writeJsonIfAbsent(key, { first: false })).resolves.toBe(false);
    await expect(store.readJson(key)).resolves.toEqual({ first: true });
  });

  it("reads a missing key as undefined", async () => {
    await expect(
      store.readJson({ bucket: PREPROD, key: "validations/none.json" }),
    ).resolves.toBeUndefined();
  });

  it("fails with NoSuchBucket when reading from a missing bucket", async () => {
    await expect(
      store.readJson({ bucket: "gantry-test-missing", key: "validations/x.json" }),
    ).rejects.toMatchObject({ name: "NoSuchBucket" });
  });
});
