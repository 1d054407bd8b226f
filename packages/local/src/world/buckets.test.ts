import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArtifactChecksumMismatch, sha256Hex } from "@gantry/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BucketError } from "./bucket-errors.ts";
import { LocalBuckets } from "./buckets.ts";
import { checksumOf } from "./checksums.ts";

const SOURCE = { bucket: "artifacts-preprod", key: "hello-service/v1.zip" };
const DEST = { bucket: "artifacts-prod", key: "hello-service/v1.zip" };
const BYTES = Buffer.from("the artifact's bytes");
const COPY_OPTIONS = {
  sha256: sha256Hex(BYTES),
  metadata: { "gantry-version": "v1" },
  tags: { "gantry-service": "hello-service" },
};

let dir: string;
let buckets: LocalBuckets;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-buckets-"));
  buckets = new LocalBuckets(dir);
  await buckets.createBucket(SOURCE.bucket);
  await buckets.createBucket(DEST.bucket);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function verifiedSource() {
  await buckets.put(SOURCE, BYTES, { metadata: { origin: "ci" } });
  const head = await buckets.head(SOURCE);
  if (!head) throw new Error("the source was not stored");
  return head;
}

describe("LocalBuckets", () => {
  it("stores an object with its SHA-256, and refuses a body that does not match the stated digest", async () => {
    const meta = await buckets.put(SOURCE, BYTES);
    expect(meta.sha256).toBe(sha256Hex(BYTES));
    await expect(
      buckets.put(SOURCE, BYTES, { expectedSha256: sha256Hex("other") }),
    ).rejects.toThrow(BucketError);
    expect((await buckets.get(SOURCE))?.bytes.equals(BYTES)).toBe(true);
  });

  it("honours If-None-Match and If-Match", async () => {
    const first = await buckets.put(SOURCE, BYTES, { ifNoneMatch: "*" });
    await expect(buckets.put(SOURCE, BYTES, { ifNoneMatch: "*" })).rejects.toThrow(
      "already exists",
    );
    await expect(buckets.put(SOURCE, Buffer.from("x"), { ifMatch: '"stale"' })).rejects.toThrow(
      "changed",
    );
    await buckets.put(SOURCE, Buffer.from("x"), { ifMatch: first.etag });
    expect((await buckets.get(SOURCE))?.bytes.toString()).toBe("x");
  });

  it("copies the bytes with their digest, a new version, and the copy's own metadata and tags", async () => {
    const source = await verifiedSource();
    const copy = await buckets.copy(source, DEST, COPY_OPTIONS);
    expect(copy).toMatchObject({ ...DEST, size: BYTES.length, sha256: sha256Hex(BYTES) });
    expect(copy.versionId).not.toBe(source.versionId);
    expect(copy.metadata).toEqual(COPY_OPTIONS.metadata);
    const stored = await buckets.get(DEST);
    expect(stored?.bytes.equals(BYTES)).toBe(true);
    expect(stored?.meta.tags).toEqual(COPY_OPTIONS.tags);
  });

  it("refuses to copy a source replaced after it was verified, and copies nothing", async () => {
    const source = await verifiedSource();
    await buckets.put(SOURCE, Buffer.from("swapped bytes"));
    await expect(buckets.copy(source, DEST, COPY_OPTIONS)).rejects.toThrow(
      ArtifactChecksumMismatch,
    );
    await expect(buckets.head(DEST)).resolves.toBeUndefined();
  });

  it("deletes only the ETag it was given", async () => {
    const meta = await buckets.put(SOURCE, BYTES);
    await expect(buckets.delete(SOURCE, '"stale"')).resolves.toBe(false);
    await expect(buckets.delete(SOURCE, meta.etag)).resolves.toBe(true);
    await expect(buckets.head(SOURCE)).resolves.toBeUndefined();
  });
});

describe("files at rest", () => {
  it("keeps every object, its metadata and their directories to the local user (0600/0700)", async () => {
    const records = buckets.records(SOURCE.bucket);
    await records.create("approval-tokens/abc.json", { taskToken: "secret" });
    await records.put("approvals/abc.decision.json", { decision: "approved" });
    await buckets.put(SOURCE, BYTES);
    await buckets.copy((await buckets.head(SOURCE)) as never, DEST, COPY_OPTIONS);
    const { readdirSync, statSync } = await import("node:fs");
    const walk = (path: string): string[] =>
      statSync(path).isDirectory()
        ? [path, ...readdirSync(path).flatMap((name) => walk(join(path, name)))]
        : [path];
    const paths = walk(dir).filter((p) => p !== dir);
    expect(paths.length).toBeGreaterThan(8);
    for (const path of paths) {
      const mode = statSync(path).mode & 0o777;
      expect({ path, mode: mode.toString(8) }).toEqual({
        path,
        mode: statSync(path).isDirectory() ? "700" : "600",
      });
    }
  });
});

describe("keys as S3 allows them", () => {
  const KEYS = [
    "plain/key.zip",
    "with space/and+plus=equals",
    "unicode/☃/é",
    "dots/./../x",
    "folder/",
    "a//double",
    "100%/literal%20",
    "x.deadbeef.tmp",
  ];

  it("stores any key, lists them all back in UTF-8 order, and reads each", async () => {
    for (const key of KEYS) await buckets.put({ bucket: SOURCE.bucket, key }, Buffer.from(key));
    const listed = await buckets.list(SOURCE.bucket, "");
    expect(listed).toEqual(
      [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    for (const key of KEYS)
      expect((await buckets.get({ bucket: SOURCE.bucket, key }))?.bytes.toString()).toBe(key);
    expect(await buckets.list(SOURCE.bucket, "unicode/")).toEqual(["unicode/☃/é"]);
  });

  it("refuses, without storing anything, a key the file system cannot hold beside another", async () => {
    await buckets.put({ bucket: SOURCE.bucket, key: "a" }, BYTES);
    await expect(buckets.put({ bucket: SOURCE.bucket, key: "a/b" }, BYTES)).rejects.toMatchObject({
      name: "NotImplemented",
    });
    await buckets.put({ bucket: SOURCE.bucket, key: "c/d" }, BYTES);
    await expect(buckets.put({ bucket: SOURCE.bucket, key: "c" }, BYTES)).rejects.toMatchObject({
      name: "NotImplemented",
    });
    expect(await buckets.list(SOURCE.bucket, "")).toEqual(["a", "c/d"]);
  });

  it("refuses keys over 1,024 bytes", async () => {
    await expect(
      buckets.put({ bucket: SOURCE.bucket, key: "k".repeat(1025) }, BYTES),
    ).rejects.toMatchObject({ name: "KeyTooLongError" });
  });
});

describe("streamed writes", () => {
  it("keeps the checksum asked for, CRC64NVME otherwise, and the content headers", async () => {
    const meta = await buckets.write(SOURCE, [Buffer.from("hello "), Buffer.from("world")], {
      checksumAlgorithm: "CRC32",
      content: { contentType: "text/plain", cacheControl: "no-cache" },
    });
    expect(meta.checksum).toEqual({ algorithm: "CRC32", value: "DUoRhQ==", type: "FULL_OBJECT" });
    expect(meta).toMatchObject({ contentType: "text/plain", cacheControl: "no-cache", size: 11 });
    const plain = await buckets.put(DEST, Buffer.from("hello world"));
    expect(plain.checksum).toEqual({
      algorithm: "CRC64NVME",
      value: await checksumOf("CRC64NVME", Buffer.from("hello world")),
      type: "FULL_OBJECT",
    });
  });

  it("commits nothing when verification refuses the bytes, or there are too many", async () => {
    await expect(
      buckets.write(SOURCE, [BYTES], {
        verify: () => {
          throw new BucketError("BadDigest", "no");
        },
      }),
    ).rejects.toMatchObject({ name: "BadDigest" });
    await expect(
      buckets.write(SOURCE, [BYTES, BYTES], { maxBytes: BYTES.length }),
    ).rejects.toMatchObject({ name: "EntityTooLarge" });
    expect(await buckets.head(SOURCE)).toBeUndefined();
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(join(dir, SOURCE.bucket, "tmp"))).toEqual([]);
  });

  it("pairs an opened object's bytes with its metadata even if it is replaced meanwhile", async () => {
    await buckets.put(SOURCE, Buffer.from("version one"));
    const opened = await buckets.open(SOURCE);
    await buckets.put(SOURCE, Buffer.from("version two, longer"));
    const chunks: Buffer[] = [];
    for await (const chunk of opened?.stream() ?? []) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("version one");
    expect(opened?.meta.size).toBe("version one".length);
  });

  it("answers If-Match on a missing key with NoSuchKey, and deletes conditionally", async () => {
    await expect(buckets.put(SOURCE, BYTES, { ifMatch: '"x"' })).rejects.toMatchObject({
      name: "NoSuchKey",
    });
    const meta = await buckets.put(SOURCE, BYTES);
    await expect(buckets.deleteObject(SOURCE, { ifMatch: '"other"' })).rejects.toMatchObject({
      name: "PreconditionFailed",
    });
    await expect(buckets.deleteObject(SOURCE, { ifMatch: meta.etag.slice(1, -1) })).resolves.toBe(
      true,
    );
    await expect(buckets.deleteObject(SOURCE)).resolves.toBe(false);
    await expect(buckets.deleteObject(SOURCE, { ifMatch: "*" })).rejects.toMatchObject({
      name: "NoSuchKey",
    });
  });
});
