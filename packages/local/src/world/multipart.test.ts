import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BucketError } from "./bucket-errors.ts";
import { LocalBuckets } from "./buckets.ts";
import { checksumOf, compositeChecksum, multipartEtag } from "./checksums.ts";
import { MultipartUploads, newUploadId } from "./multipart.ts";

const REF = { bucket: "artifacts-preprod", key: "big/object.bin" };

let dir: string;
let buckets: LocalBuckets;
let uploads: MultipartUploads;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-multipart-"));
  buckets = new LocalBuckets(dir);
  await buckets.createBucket(REF.bucket);
  // Parts of 4 bytes and more, so the tests stay small (S3's minimum is 5 MiB).
  uploads = new MultipartUploads(dir, buckets, { minPartBytes: 4 });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const PARTS = [Buffer.from("first part "), Buffer.from("second part "), Buffer.from("end")];

async function uploadAll(uploadId: string, parts = PARTS) {
  const stored = [];
  for (const [index, part] of parts.entries())
    stored.push(await uploads.uploadPart(REF, uploadId, index + 1, [part]));
  return stored;
}

describe("multipart uploads", () => {
  it("completes into one object with S3's ETag and a full-object CRC64NVME by default", async () => {
    const upload = await uploads.create(REF, {
      metadata: { a: "b" },
      content: { contentType: "text/plain" },
    });
    const parts = await uploadAll(upload.uploadId);
    expect(parts.map((p) => p.etag)).toEqual(PARTS.map((p) => `"${md5(p)}"`));
    // Nothing is visible before completion.
    expect(await buckets.head(REF)).toBeUndefined();
    const meta = await uploads.complete(
      REF,
      upload.uploadId,
      parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
    );
    const whole = Buffer.concat(PARTS);
    expect(meta.etag).toBe(multipartEtag(PARTS.map(md5)));
    expect(meta.size).toBe(whole.length);
    expect(meta.sha256).toBe(createHash("sha256").update(whole).digest("hex"));
    expect(meta.checksum).toEqual({
      algorithm: "CRC64NVME",
      value: await checksumOf("CRC64NVME", whole),
      type: "FULL_OBJECT",
    });
    expect(meta).toMatchObject({ metadata: { a: "b" }, contentType: "text/plain" });
    expect(meta.parts?.map((p) => p.size)).toEqual(PARTS.map((p) => p.length));
    expect((await buckets.get(REF))?.bytes.equals(whole)).toBe(true);
    // The upload is gone, its parts with it.
    await expect(uploads.get(REF, upload.uploadId)).rejects.toMatchObject({ name: "NoSuchUpload" });
    expect(readdirSync(join(dir, REF.bucket, "uploads"))).toEqual([]);
  });

  it("keeps a composite checksum of the part checksums when the upload asked for one", async () => {
    const upload = await uploads.create(REF, {
      checksum: { algorithm: "CRC32", type: "COMPOSITE" },
    });
    const parts = await uploadAll(upload.uploadId);
    const partSums = await Promise.all(PARTS.map((p) => checksumOf("CRC32", p)));
    expect(parts.map((p) => p.checksum)).toEqual(partSums);
    const meta = await uploads.complete(
      REF,
      upload.uploadId,
      parts.map((p, i) => ({
        partNumber: p.partNumber,
        etag: p.etag,
        checksums: { CRC32: partSums[i] ?? "" },
      })),
    );
    expect(meta.checksum).toEqual({
      algorithm: "CRC32",
      value: await compositeChecksum("CRC32", partSums),
      type: "COMPOSITE",
    });
    expect(meta.checksum?.value.endsWith("-3")).toBe(true);
  });

  it("keeps a full-object CRC32 when the upload asked for FULL_OBJECT, and checks a stated one", async () => {
    const upload = await uploads.create(REF, {
      checksum: { algorithm: "CRC32", type: "FULL_OBJECT" },
    });
    const parts = await uploadAll(upload.uploadId);
    const list = parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag }));
    await expect(
      uploads.complete(REF, upload.uploadId, list, {
        checksum: { algorithm: "CRC32", value: await checksumOf("CRC32", Buffer.from("other")) },
      }),
    ).rejects.toMatchObject({ name: "BadDigest" });
    const value = await checksumOf("CRC32", Buffer.concat(PARTS));
    const meta = await uploads.complete(REF, upload.uploadId, list, {
      checksum: { algorithm: "CRC32", value },
    });
    expect(meta.checksum).toEqual({ algorithm: "CRC32", value, type: "FULL_OBJECT" });
  });

  it("completes only the parts listed, and replaces a part uploaded twice", async () => {
    const upload = await uploads.create(REF);
    await uploadAll(upload.uploadId);
    const again = await uploads.uploadPart(REF, upload.uploadId, 2, [Buffer.from("SECOND PART ")]);
    const listed = await uploads.listParts(REF, upload.uploadId);
    expect(listed.map((p) => p.etag)).toEqual([
      `"${md5(PARTS[0] as Buffer)}"`,
      again.etag,
      `"${md5(PARTS[2] as Buffer)}"`,
    ]);
    const meta = await uploads.complete(REF, upload.uploadId, [
      { partNumber: 1, etag: listed[0]?.etag ?? "" },
      { partNumber: 2, etag: again.etag },
    ]);
    expect((await buckets.get(REF))?.bytes.toString()).toBe("first part SECOND PART ");
    expect(meta.etag.endsWith('-2"')).toBe(true);
  });

  it.each([
    ["InvalidPartOrder", [2, 1]],
    ["InvalidPart", [1, 4]],
    ["MalformedXML", []],
  ] as const)("refuses a completion with %s", async (code, numbers) => {
    const upload = await uploads.create(REF);
    const parts = await uploadAll(upload.uploadId);
    await expect(
      uploads.complete(
        REF,
        upload.uploadId,
        numbers.map((n) => ({ partNumber: n, etag: parts[n - 1]?.etag ?? '"none"' })),
      ),
    ).rejects.toMatchObject({ name: code });
    expect(await buckets.head(REF)).toBeUndefined();
  });

  it("refuses a part with another ETag, and parts under the minimum size but the last", async () => {
    const upload = await uploads.create(REF);
    const parts = await uploadAll(upload.uploadId, [Buffer.from("ab"), Buffer.from("cdef")]);
    await expect(
      uploads.complete(REF, upload.uploadId, [{ partNumber: 1, etag: '"0123"' }]),
    ).rejects.toMatchObject({ name: "InvalidPart" });
    await expect(
      uploads.complete(
        REF,
        upload.uploadId,
        parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
      ),
    ).rejects.toMatchObject({ name: "EntityTooSmall" });
  });

  it("answers NoSuchUpload for unknown, malformed, aborted or other keys' upload ids", async () => {
    const upload = await uploads.create(REF);
    for (const id of ["nope", "../../etc/passwd", "A".repeat(43)])
      await expect(uploads.uploadPart(REF, id, 1, [Buffer.from("x")])).rejects.toMatchObject({
        name: "NoSuchUpload",
      });
    await expect(
      uploads.listParts({ ...REF, key: "other" }, upload.uploadId),
    ).rejects.toMatchObject({ name: "NoSuchUpload" });
    await uploads.abort(REF, upload.uploadId);
    await expect(
      uploads.complete(REF, upload.uploadId, [{ partNumber: 1, etag: "x" }]),
    ).rejects.toThrow(BucketError);
  });

  it("refuses part numbers outside 1..10000", async () => {
    const upload = await uploads.create(REF);
    for (const n of [0, 10_001, 1.5])
      await expect(
        uploads.uploadPart(REF, upload.uploadId, n, [Buffer.from("x")]),
      ).rejects.toMatchObject({
        name: "InvalidArgument",
      });
  });

  it("completes under conditions: If-None-Match fails when the key exists, and nothing changes", async () => {
    await buckets.put(REF, Buffer.from("already here"));
    const upload = await uploads.create(REF);
    const parts = await uploadAll(upload.uploadId);
    await expect(
      uploads.complete(
        REF,
        upload.uploadId,
        parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
        { ifNoneMatch: "*" },
      ),
    ).rejects.toMatchObject({ name: "PreconditionFailed" });
    expect((await buckets.get(REF))?.bytes.toString()).toBe("already here");
  });
});

describe("upload ids", () => {
  it("never start with a character a command line reads as an option", () => {
    for (let i = 0; i < 2_000; i++)
      expect(newUploadId()).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{42,}$/);
  });
});
