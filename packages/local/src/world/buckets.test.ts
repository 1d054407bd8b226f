import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArtifactChecksumMismatch, sha256Hex } from "@gantry/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BucketError, LocalBuckets } from "./buckets.ts";

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
