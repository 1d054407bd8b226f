/**
 * boto3 (with moto's Python; botocore 1.43, s3transfer 0.17) as a client of the local S3
 * endpoint. This botocore computes a CRC32 for every upload by default (the SDKs' default since
 * early 2025) and, over plain HTTP, sends it as a header; s3transfer uploads above 8 MB in 8 MB
 * parts with per-part CRC32s (a composite checksum) and downloads with parallel ranged GETs.
 * Without the CRT it knows CRC32, SHA1 and SHA256.
 */
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { expect } from "vitest";
import {
  boto3,
  boto3Ok,
  type Check,
  conformance,
  sha256,
  sha256File,
  uniqueKey,
} from "./support/harness.ts";

const MiB = 1024 * 1024;
const key = (name: string) => uniqueKey("boto3", name);
const text = (value: string) => ({ text: value });

/** CRC32 as base64, computed here with node:zlib (the check's own arithmetic). */
function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString("base64");
}

const checks: Check[] = [
  {
    operation: "upload_file / download_file (multipart)",
    name: "40 MiB through s3transfer (5 parts, per-part CRC32) round-trips byte-exact",
    moto: "moto 5.2.1's HeadObject returns the composite CRC32 without its -5 suffix and without x-amz-checksum-type, though its GetObject has both (AWS: <checksum of part checksums>-5 and COMPOSITE on both)",
    timeout: 300_000,
    async run(t, scratch) {
      const file = join(scratch, "up.bin");
      const data = randomBytes(40 * MiB);
      writeFileSync(file, data);
      const k = key("40MiB.bin");
      const up = await boto3(t, "upload_file", { file, bucket: t.bucket, key: k });
      expect(up.error).toBeUndefined();
      const down = join(scratch, "down.bin");
      const got = await boto3(t, "download_file", { bucket: t.bucket, key: k, file: down });
      expect(got.error).toBeUndefined();
      expect(await sha256File(down)).toBe(sha256(data));
      const head = await boto3Ok(t, "head_object", {
        Bucket: t.bucket,
        Key: k,
        ChecksumMode: "ENABLED",
      });
      expect(head.ETag).toMatch(/-5"$/);
      const partSums = Array.from({ length: 5 }, (_, i) =>
        Buffer.from(crc32Base64(data.subarray(i * 8 * MiB, (i + 1) * 8 * MiB)), "base64"),
      );
      expect(head.ChecksumCRC32).toBe(`${crc32Base64(Buffer.concat(partSums))}-5`);
      expect(head.ChecksumType).toBe("COMPOSITE");
    },
  },
  {
    operation: "copy (managed, multipart)",
    name: "s3transfer copies 20 MiB between buckets (UploadPartCopy) byte-exact",
    timeout: 180_000,
    async run(t, scratch) {
      const file = join(scratch, "src.bin");
      const data = randomBytes(20 * MiB);
      writeFileSync(file, data);
      const from = key("copy-src.bin");
      const to = key("copy-dst.bin");
      expect(
        (await boto3(t, "upload_file", { file, bucket: t.bucket, key: from })).error,
      ).toBeUndefined();
      const copied = await boto3(t, "copy", {
        source: { Bucket: t.bucket, Key: from },
        bucket: t.other,
        key: to,
      });
      expect(copied.error).toBeUndefined();
      const got = await boto3Ok(t, "get_object", { Bucket: t.other, Key: to });
      expect(got.Body.sha256).toBe(sha256(data));
    },
  },
  {
    operation: "PutObject (CRC32)",
    name: "put_object sends its default CRC32; it is verified, returned and kept",
    async run(t) {
      const k = key("crc32.txt");
      const put = await boto3Ok(t, "put_object", {
        Bucket: t.bucket,
        Key: k,
        Body: text("hello world"),
      });
      expect(put.ChecksumCRC32).toBe("DUoRhQ==");
      const got = await boto3Ok(t, "get_object", {
        Bucket: t.bucket,
        Key: k,
        ChecksumMode: "ENABLED",
      });
      expect(got.ChecksumCRC32).toBe("DUoRhQ==");
      expect(got.Body.text).toBe("hello world");
    },
  },
  {
    operation: "PutObject (CRC32)",
    name: "a stated CRC32 that does not match is BadDigest",
    moto: "moto 5.2.1 stores the object although its x-amz-checksum-crc32 does not match (AWS: 400 BadDigest)",
    async run(t) {
      const k = key("crc32-bad.txt");
      const bad = await boto3(t, "call", {
        method: "put_object",
        params: { Bucket: t.bucket, Key: k, Body: text("hello world"), ChecksumCRC32: "AAAAAA==" },
      });
      expect(bad.error).toMatchObject({ code: "BadDigest", status: 400 });
      const head = await boto3(t, "call", {
        method: "head_object",
        params: { Bucket: t.bucket, Key: k },
      });
      expect(head.error?.status).toBe(404);
    },
  },
  {
    operation: "PutObject (SHA1, SHA256)",
    name: "ChecksumAlgorithm SHA1 and SHA256 are verified and returned with checksum mode",
    async run(t) {
      for (const algorithm of ["SHA1", "SHA256"] as const) {
        const k = key(`sum-${algorithm}`);
        const expected = createHash(algorithm.toLowerCase()).update("hello world").digest("base64");
        const put = await boto3Ok(t, "put_object", {
          Bucket: t.bucket,
          Key: k,
          Body: text("hello world"),
          ChecksumAlgorithm: algorithm,
        });
        expect(put[`Checksum${algorithm}`]).toBe(expected);
        const head = await boto3Ok(t, "head_object", {
          Bucket: t.bucket,
          Key: k,
          ChecksumMode: "ENABLED",
        });
        expect(head[`Checksum${algorithm}`]).toBe(expected);
      }
    },
  },
  {
    operation: "PutObject (Content-MD5)",
    name: "a ContentMD5 that does not match is BadDigest",
    moto: "moto 5.2.1 stores the object although its Content-MD5 does not match (AWS: 400 BadDigest)",
    async run(t) {
      const bad = await boto3(t, "call", {
        method: "put_object",
        params: {
          Bucket: t.bucket,
          Key: key("md5-bad"),
          Body: text("hello"),
          ContentMD5: createHash("md5").update("other").digest("base64"),
        },
      });
      expect(bad.error).toMatchObject({ code: "BadDigest", status: 400 });
    },
  },
  {
    operation: "HeadObject / GetObject (headers)",
    name: "content type, encoding, disposition, language, cache control, expiry and metadata come back",
    async run(t) {
      const k = key("headers.txt");
      await boto3Ok(t, "put_object", {
        Bucket: t.bucket,
        Key: k,
        Body: text("{}"),
        ContentType: "application/json",
        ContentEncoding: "identity",
        ContentDisposition: "inline",
        ContentLanguage: "en",
        CacheControl: "no-cache",
        Expires: "2030-01-01T00:00:00Z",
        Metadata: { owner: "ci", "build-id": "42" },
      });
      const head = await boto3Ok(t, "head_object", { Bucket: t.bucket, Key: k });
      expect(head).toMatchObject({
        ContentType: "application/json",
        ContentEncoding: "identity",
        ContentDisposition: "inline",
        ContentLanguage: "en",
        CacheControl: "no-cache",
        Metadata: { owner: "ci", "build-id": "42" },
        ContentLength: 2,
      });
      expect(head.Expires ?? head.ExpiresString).toContain("2030");
    },
  },
  {
    operation: "GetObject (Range)",
    name: "Range gives 206 with Content-Range; suffix ranges; past the end is InvalidRange (416)",
    async run(t) {
      const k = key("range.txt");
      await boto3Ok(t, "put_object", { Bucket: t.bucket, Key: k, Body: text("0123456789") });
      const mid = await boto3Ok(t, "get_object", { Bucket: t.bucket, Key: k, Range: "bytes=2-4" });
      expect(mid).toMatchObject({ _status: 206, ContentRange: "bytes 2-4/10", ContentLength: 3 });
      expect(mid.Body.text).toBe("234");
      const tail = await boto3Ok(t, "get_object", { Bucket: t.bucket, Key: k, Range: "bytes=-3" });
      expect(tail.Body.text).toBe("789");
      const past = await boto3(t, "call", {
        method: "get_object",
        params: { Bucket: t.bucket, Key: k, Range: "bytes=20-30" },
      });
      expect(past.error).toMatchObject({ code: "InvalidRange", status: 416 });
    },
  },
  {
    operation: "GetObject (conditional)",
    name: "IfModifiedSince later than the object is 304; IfUnmodifiedSince earlier is 412",
    async run(t) {
      const k = key("cond.txt");
      await boto3Ok(t, "put_object", { Bucket: t.bucket, Key: k, Body: text("x") });
      const head = await boto3Ok(t, "head_object", { Bucket: t.bucket, Key: k });
      const modified = Date.parse(head.LastModified);
      const later = new Date(modified + 1000).toISOString();
      const earlier = new Date(modified - 3600_000).toISOString();
      const notModified = await boto3(t, "call", {
        method: "get_object",
        params: { Bucket: t.bucket, Key: k, IfModifiedSince: later },
      });
      expect(notModified.error?.status).toBe(304);
      const failed = await boto3(t, "call", {
        method: "get_object",
        params: { Bucket: t.bucket, Key: k, IfUnmodifiedSince: earlier },
      });
      expect(failed.error).toMatchObject({ code: "PreconditionFailed", status: 412 });
      const served = await boto3Ok(t, "get_object", {
        Bucket: t.bucket,
        Key: k,
        IfModifiedSince: earlier,
      });
      expect(served.Body.text).toBe("x");
    },
  },
  {
    operation: "PutObject (conditional)",
    name: "IfNoneMatch * on an existing key is 412; IfMatch on another ETag is 412",
    async run(t) {
      const k = key("cas.txt");
      const first = await boto3Ok(t, "put_object", {
        Bucket: t.bucket,
        Key: k,
        Body: text("one"),
        IfNoneMatch: "*",
      });
      const again = await boto3(t, "call", {
        method: "put_object",
        params: { Bucket: t.bucket, Key: k, Body: text("two"), IfNoneMatch: "*" },
      });
      expect(again.error).toMatchObject({ code: "PreconditionFailed", status: 412 });
      const stale = await boto3(t, "call", {
        method: "put_object",
        params: {
          Bucket: t.bucket,
          Key: k,
          Body: text("two"),
          IfMatch: '"0123456789abcdef0123456789abcdef"',
        },
      });
      expect(stale.error).toMatchObject({ code: "PreconditionFailed", status: 412 });
      await boto3Ok(t, "put_object", {
        Bucket: t.bucket,
        Key: k,
        Body: text("two"),
        IfMatch: first.ETag,
      });
      const got = await boto3Ok(t, "get_object", { Bucket: t.bucket, Key: k });
      expect(got.Body.text).toBe("two");
    },
  },
  {
    operation: "ListObjectsV2",
    name: "the paginator with Delimiter, MaxKeys, StartAfter and FetchOwner",
    async run(t) {
      const base = key("list");
      for (const name of ["a/1", "a/2", "b", "c", "d/e/f"])
        await boto3Ok(t, "put_object", {
          Bucket: t.bucket,
          Key: `${base}/${name}`,
          Body: text(name),
        });
      const pages = (
        await boto3(t, "paginate", {
          method: "list_objects_v2",
          params: { Bucket: t.bucket, Prefix: `${base}/`, Delimiter: "/", MaxKeys: 2 },
        })
      ).ok as {
        Contents?: { Key: string; Size: number; StorageClass: string }[];
        CommonPrefixes?: { Prefix: string }[];
        KeyCount: number;
      }[];
      expect(pages.length).toBe(2);
      expect(pages.flatMap((p) => (p.CommonPrefixes ?? []).map((c) => c.Prefix))).toEqual([
        `${base}/a/`,
        `${base}/d/`,
      ]);
      expect(pages.flatMap((p) => (p.Contents ?? []).map((c) => c.Key))).toEqual([
        `${base}/b`,
        `${base}/c`,
      ]);
      expect(pages.map((p) => p.KeyCount)).toEqual([2, 2]);
      const after = await boto3Ok(t, "list_objects_v2", {
        Bucket: t.bucket,
        Prefix: `${base}/`,
        StartAfter: `${base}/b`,
        FetchOwner: true,
      });
      expect(after.Contents.map((c: { Key: string }) => c.Key)).toEqual([
        `${base}/c`,
        `${base}/d/e/f`,
      ]);
      expect(after.Contents[0].Owner.ID).toBeTruthy();
      expect(after.Contents[0].StorageClass).toBe("STANDARD");
    },
  },
  {
    operation: "ListObjects (v1)",
    name: "Marker and NextMarker, as bucket.objects.all() and older tools use them",
    moto: "moto 5.2.1 does not count common prefixes against MaxKeys with a delimiter: 3 entries for MaxKeys 2, IsTruncated false, no NextMarker (AWS: keys and prefixes count, NextMarker when truncated)",
    async run(t) {
      const base = key("v1");
      for (const name of ["x/1", "y", "z"])
        await boto3Ok(t, "put_object", {
          Bucket: t.bucket,
          Key: `${base}/${name}`,
          Body: text(name),
        });
      const first = await boto3Ok(t, "list_objects", {
        Bucket: t.bucket,
        Prefix: `${base}/`,
        Delimiter: "/",
        MaxKeys: 2,
      });
      expect(first.IsTruncated).toBe(true);
      expect(first.NextMarker).toBe(`${base}/y`);
      const second = await boto3Ok(t, "list_objects", {
        Bucket: t.bucket,
        Prefix: `${base}/`,
        Delimiter: "/",
        Marker: first.NextMarker,
      });
      expect(second.Contents.map((c: { Key: string }) => c.Key)).toEqual([`${base}/z`]);
    },
  },
  {
    operation: "DeleteObjects",
    name: "deletes a batch of keys (with the Content-MD5 or checksum S3 requires)",
    async run(t) {
      const base = key("batch");
      const keys = ["1", "2", "3"].map((n) => `${base}/${n}`);
      for (const k of keys)
        await boto3Ok(t, "put_object", { Bucket: t.bucket, Key: k, Body: text(k) });
      const out = await boto3Ok(t, "delete_objects", {
        Bucket: t.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: false },
      });
      expect(out.Deleted.map((d: { Key: string }) => d.Key).sort()).toEqual(keys);
      const listed = await boto3Ok(t, "list_objects_v2", { Bucket: t.bucket, Prefix: `${base}/` });
      expect(listed.KeyCount).toBe(0);
    },
  },
  {
    operation: "CopyObject",
    name: "MetadataDirective REPLACE, and CopySourceIfNoneMatch on the source's ETag is 412",
    async run(t) {
      const from = key("from.txt");
      const to = key("to.txt");
      const put = await boto3Ok(t, "put_object", {
        Bucket: t.bucket,
        Key: from,
        Body: text("copy me"),
        Metadata: { a: "1" },
      });
      const refused = await boto3(t, "call", {
        method: "copy_object",
        params: {
          Bucket: t.other,
          Key: to,
          CopySource: { Bucket: t.bucket, Key: from },
          CopySourceIfNoneMatch: put.ETag,
        },
      });
      expect(refused.error).toMatchObject({ code: "PreconditionFailed", status: 412 });
      await boto3Ok(t, "copy_object", {
        Bucket: t.other,
        Key: to,
        CopySource: { Bucket: t.bucket, Key: from },
        MetadataDirective: "REPLACE",
        Metadata: { b: "2" },
        ContentType: "text/plain",
      });
      const head = await boto3Ok(t, "head_object", { Bucket: t.other, Key: to });
      expect(head).toMatchObject({
        Metadata: { b: "2" },
        ContentType: "text/plain",
        ETag: put.ETag,
      });
    },
  },
  {
    operation: "Multipart (low level)",
    name: "UploadPart, ListParts and CompleteMultipartUpload with SHA256: composite checksum",
    moto: "moto 5.2.1's HeadObject returns the composite SHA256 without its -2 suffix and without x-amz-checksum-type, though its GetObject has both (AWS: <checksum of part checksums>-2 and COMPOSITE on both)",
    timeout: 120_000,
    async run(t, scratch) {
      const k = key("mpu.bin");
      const parts = [randomBytes(5 * MiB), randomBytes(1000)];
      const created = await boto3Ok(t, "create_multipart_upload", {
        Bucket: t.bucket,
        Key: k,
        ChecksumAlgorithm: "SHA256",
      });
      const done = [];
      for (const [index, part] of parts.entries()) {
        const file = join(scratch, `part${index}`);
        writeFileSync(file, part);
        const out = await boto3Ok(t, "upload_part", {
          Bucket: t.bucket,
          Key: k,
          UploadId: created.UploadId,
          PartNumber: index + 1,
          Body: { file },
          ChecksumAlgorithm: "SHA256",
        });
        done.push({ PartNumber: index + 1, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 });
      }
      const listed = await boto3Ok(t, "list_parts", {
        Bucket: t.bucket,
        Key: k,
        UploadId: created.UploadId,
      });
      expect(listed.Parts.map((p: { PartNumber: number }) => p.PartNumber)).toEqual([1, 2]);
      await boto3Ok(t, "complete_multipart_upload", {
        Bucket: t.bucket,
        Key: k,
        UploadId: created.UploadId,
        MultipartUpload: { Parts: done },
      });
      const head = await boto3Ok(t, "head_object", {
        Bucket: t.bucket,
        Key: k,
        ChecksumMode: "ENABLED",
      });
      const binary = Buffer.concat(parts.map((p) => createHash("sha256").update(p).digest()));
      expect(head.ChecksumSHA256).toBe(`${createHash("sha256").update(binary).digest("base64")}-2`);
      expect(head.ChecksumType).toBe("COMPOSITE");
    },
  },
  {
    operation: "Multipart (low level)",
    name: "a part smaller than 5 MiB but the last is EntityTooSmall; a wrong ETag is InvalidPart",
    async run(t) {
      const k = key("small-parts.bin");
      const created = await boto3Ok(t, "create_multipart_upload", { Bucket: t.bucket, Key: k });
      const parts = [];
      for (const n of [1, 2]) {
        const out = await boto3Ok(t, "upload_part", {
          Bucket: t.bucket,
          Key: k,
          UploadId: created.UploadId,
          PartNumber: n,
          Body: text(`part ${n}`),
        });
        parts.push({ PartNumber: n, ETag: out.ETag });
      }
      const wrong = await boto3(t, "call", {
        method: "complete_multipart_upload",
        params: {
          Bucket: t.bucket,
          Key: k,
          UploadId: created.UploadId,
          MultipartUpload: {
            Parts: [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }],
          },
        },
      });
      expect(wrong.error).toMatchObject({ code: "InvalidPart", status: 400 });
      const small = await boto3(t, "call", {
        method: "complete_multipart_upload",
        params: {
          Bucket: t.bucket,
          Key: k,
          UploadId: created.UploadId,
          MultipartUpload: { Parts: parts },
        },
      });
      expect(small.error).toMatchObject({ code: "EntityTooSmall", status: 400 });
    },
  },
  {
    operation: "NoSuchUpload",
    name: "UploadPart, ListParts and CompleteMultipartUpload on an unknown upload id",
    moto: "moto 5.2.1 answers UploadPart on an unknown upload id with 500 InternalError (AWS: 404 NoSuchUpload)",
    async run(t) {
      const k = key("no-upload.bin");
      for (const [method, extra] of [
        ["upload_part", { PartNumber: 1, Body: text("x") }],
        ["list_parts", {}],
        [
          "complete_multipart_upload",
          { MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } },
        ],
      ] as const) {
        const out = await boto3(t, "call", {
          method,
          params: { Bucket: t.bucket, Key: k, UploadId: "not-an-upload-id", ...extra },
        });
        expect(out.error, method).toMatchObject({ code: "NoSuchUpload", status: 404 });
      }
    },
  },
  {
    operation: "NoSuchBucket / NoSuchKey",
    name: "S3's codes and statuses for a missing bucket and a missing key",
    async run(t) {
      const bucket = await boto3(t, "call", {
        method: "get_object",
        params: { Bucket: `missing-${Date.now()}`, Key: "k" },
      });
      expect(bucket.error).toMatchObject({ code: "NoSuchBucket", status: 404 });
      const list = await boto3(t, "call", {
        method: "list_objects_v2",
        params: { Bucket: `missing-${Date.now()}` },
      });
      expect(list.error).toMatchObject({ code: "NoSuchBucket", status: 404 });
      const object = await boto3(t, "call", {
        method: "get_object",
        params: { Bucket: t.bucket, Key: key("none") },
      });
      expect(object.error).toMatchObject({ code: "NoSuchKey", status: 404 });
      const head = await boto3(t, "call", {
        method: "head_bucket",
        params: { Bucket: `missing-${Date.now()}` },
      });
      expect(head.error?.status).toBe(404);
    },
  },
  {
    operation: "Outside the subset",
    name: "versioning, ACLs, object lock and Select answer NotImplemented (501)",
    only: "local",
    async run(t) {
      const k = key("subset.txt");
      await boto3Ok(t, "put_object", { Bucket: t.bucket, Key: k, Body: text("x") });
      for (const [method, params] of [
        ["get_bucket_versioning", { Bucket: t.bucket }],
        ["list_object_versions", { Bucket: t.bucket }],
        ["get_object_acl", { Bucket: t.bucket, Key: k }],
        ["get_object_legal_hold", { Bucket: t.bucket, Key: k }],
        ["get_bucket_policy", { Bucket: t.bucket }],
      ] as const) {
        const out = await boto3(t, "call", { method, params });
        expect(out.error, method).toMatchObject({ code: "NotImplemented", status: 501 });
      }
    },
  },
];

conformance("boto3", checks);
