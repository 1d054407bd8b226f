/**
 * The AWS SDK for JavaScript v3 (@aws-sdk/client-s3 and @aws-sdk/lib-storage) as a client of
 * the local S3 endpoint. Where it adds coverage: it sends streamed bodies in aws-chunked
 * encoding with a trailing CRC32 (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`),
 * knows every algorithm (CRC32C and CRC64NVME included), asks for checksums on every GetObject
 * and validates them, and sends DeleteObjects with a CRC32 instead of Content-MD5.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { expect } from "vitest";
import {
  type Check,
  type ConformanceTarget,
  conformance,
  jsClient,
  sha256,
  uniqueKey,
} from "./support/harness.ts";

const MiB = 1024 * 1024;
const key = (name: string) => uniqueKey("js-sdk", name);

const clients = new Map<string, S3Client>();
function s3(t: ConformanceTarget): S3Client {
  let client = clients.get(t.name);
  if (!client) {
    client = jsClient(t);
    clients.set(t.name, client);
  }
  return client;
}

async function bytesOf(
  t: ConformanceTarget,
  Bucket: string,
  Key: string,
  extra: Record<string, unknown> = {},
) {
  const out = await s3(t).send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return { out, bytes: Buffer.from((await out.Body?.transformToByteArray()) ?? []) };
}

/** CRC32 (big-endian bytes), computed here with node:zlib. */
function crc32Of(data: Buffer): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out;
}

/** Splits a buffer into a stream of odd-sized chunks (a body of unknown length). */
function streamOf(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65_521) chunks.push(data.subarray(i, i + 65_521));
  return Readable.from(chunks);
}

const checks: Check[] = [
  {
    operation: "Upload (lib-storage, multipart)",
    name: "40 MiB from a stream in 8 MiB parts with the SDK's checksums round-trips byte-exact",
    timeout: 300_000,
    async run(t) {
      const data = randomBytes(40 * MiB);
      const k = key("upload.bin");
      const upload = new Upload({
        client: s3(t),
        params: { Bucket: t.bucket, Key: k, Body: streamOf(data) },
        partSize: 8 * MiB,
        queueSize: 4,
      });
      const done = await upload.done();
      expect(done.ETag).toMatch(/-5"$/);
      const { out, bytes } = await bytesOf(t, t.bucket, k, { ChecksumMode: "ENABLED" });
      expect(sha256(bytes)).toBe(sha256(data));
      expect(out.ContentLength).toBe(data.length);
      // lib-storage asks for CRC32 per part: a composite checksum, computed here independently.
      const parts = Array.from({ length: 5 }, (_, i) =>
        crc32Of(data.subarray(i * 8 * MiB, (i + 1) * 8 * MiB)),
      );
      expect(out.ChecksumCRC32).toBe(`${crc32Of(Buffer.concat(parts)).toString("base64")}-5`);
      expect(out.ChecksumType).toBe("COMPOSITE");
    },
  },
  {
    operation: "PutObject (aws-chunked, trailing CRC32)",
    name: "a streamed body is decoded, its trailing CRC32 verified, returned and kept",
    async run(t) {
      const data = randomBytes(300_000);
      const k = key("chunked.bin");
      const put = await s3(t).send(
        new PutObjectCommand({
          Bucket: t.bucket,
          Key: k,
          Body: streamOf(data),
          ContentLength: data.length,
        }),
      );
      const crc = crc32Of(data);
      expect(put.ChecksumCRC32).toBe(crc.toString("base64"));
      const { out, bytes } = await bytesOf(t, t.bucket, k, { ChecksumMode: "ENABLED" });
      expect(bytes.equals(data)).toBe(true);
      expect(out.ChecksumCRC32).toBe(crc.toString("base64"));
    },
  },
  {
    operation: "PutObject (CRC32C, CRC64NVME, SHA1, SHA256)",
    name: "every algorithm is verified and returned, and GetObject's checksum validates",
    async run(t) {
      for (const algorithm of ["CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const) {
        const k = key(`sum-${algorithm}`);
        const put = await s3(t).send(
          new PutObjectCommand({
            Bucket: t.bucket,
            Key: k,
            Body: "hello world",
            ChecksumAlgorithm: algorithm,
          }),
        );
        const field = `Checksum${algorithm}` as const;
        expect(put[field], algorithm).toBeTruthy();
        const head = await s3(t).send(
          new HeadObjectCommand({ Bucket: t.bucket, Key: k, ChecksumMode: "ENABLED" }),
        );
        expect(head[field], algorithm).toBe(put[field]);
        const { bytes } = await bytesOf(t, t.bucket, k, { ChecksumMode: "ENABLED" });
        expect(bytes.toString()).toBe("hello world");
      }
    },
  },
  {
    operation: "PutObject (SHA256)",
    name: "a stated SHA-256 that does not match is BadDigest",
    moto: "moto 5.2.1 stores the object although its x-amz-checksum-sha256 does not match (AWS: 400 BadDigest)",
    async run(t) {
      const wrong = createHash("sha256").update("other").digest("base64");
      await expect(
        s3(t).send(
          new PutObjectCommand({
            Bucket: t.bucket,
            Key: key("bad"),
            Body: "data",
            ChecksumSHA256: wrong,
          }),
        ),
      ).rejects.toMatchObject({ name: "BadDigest", $metadata: { httpStatusCode: 400 } });
    },
  },
  {
    operation: "GetObject (Range)",
    name: "a ranged GET with the SDK's checksum mode gets its bytes (no whole-object checksum on a range)",
    async run(t) {
      const data = randomBytes(10_000);
      const k = key("range.bin");
      await s3(t).send(new PutObjectCommand({ Bucket: t.bucket, Key: k, Body: data }));
      const { out, bytes } = await bytesOf(t, t.bucket, k, {
        Range: "bytes=100-199",
        ChecksumMode: "ENABLED",
      });
      expect(out.ContentRange).toBe("bytes 100-199/10000");
      expect(bytes.equals(data.subarray(100, 200))).toBe(true);
      await expect(
        s3(t).send(new GetObjectCommand({ Bucket: t.bucket, Key: k, Range: "bytes=10000-" })),
      ).rejects.toMatchObject({ name: "InvalidRange", $metadata: { httpStatusCode: 416 } });
    },
  },
  {
    operation: "ListObjectsV2",
    name: "paginateListObjectsV2 with a delimiter walks every page",
    async run(t) {
      const base = key("pages");
      const names = ["a", "b", "c", "d/1", "d/2", "e"];
      for (const name of names)
        await s3(t).send(
          new PutObjectCommand({ Bucket: t.bucket, Key: `${base}/${name}`, Body: name }),
        );
      const keys: string[] = [];
      const prefixes: string[] = [];
      let pages = 0;
      for await (const page of paginateListObjectsV2(
        { client: s3(t), pageSize: 2 },
        { Bucket: t.bucket, Prefix: `${base}/`, Delimiter: "/" },
      )) {
        pages++;
        keys.push(...(page.Contents ?? []).map((c) => c.Key ?? ""));
        prefixes.push(...(page.CommonPrefixes ?? []).map((c) => c.Prefix ?? ""));
      }
      expect(pages).toBe(3);
      expect(keys).toEqual(["a", "b", "c", "e"].map((n) => `${base}/${n}`));
      expect(prefixes).toEqual([`${base}/d/`]);
    },
  },
  {
    operation: "DeleteObjects",
    name: "a batch delete sent with the SDK's CRC32 (no Content-MD5)",
    async run(t) {
      const base = key("batch");
      const keys = ["1", "2"].map((n) => `${base}/${n}`);
      for (const Key of keys)
        await s3(t).send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: "x" }));
      const out = await s3(t).send(
        new DeleteObjectsCommand({
          Bucket: t.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })) },
        }),
      );
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(keys);
    },
  },
  {
    operation: "CopyObject",
    name: "copies with a new checksum algorithm when asked (ChecksumAlgorithm on the copy)",
    async run(t) {
      const from = key("from.txt");
      const to = key("to.txt");
      await s3(t).send(new PutObjectCommand({ Bucket: t.bucket, Key: from, Body: "hello world" }));
      const copied = await s3(t).send(
        new CopyObjectCommand({
          Bucket: t.other,
          Key: to,
          CopySource: `${t.bucket}/${from}`,
          ChecksumAlgorithm: "SHA256",
        }),
      );
      const expected = createHash("sha256").update("hello world").digest("base64");
      expect(copied.CopyObjectResult?.ChecksumSHA256).toBe(expected);
      const head = await s3(t).send(
        new HeadObjectCommand({ Bucket: t.other, Key: to, ChecksumMode: "ENABLED" }),
      );
      expect(head.ChecksumSHA256).toBe(expected);
    },
  },
  {
    operation: "NoSuchBucket / NoSuchKey",
    name: "the SDK raises NoSuchBucket, NoSuchKey and (for HEAD) NotFound",
    async run(t) {
      await expect(
        s3(t).send(new GetObjectCommand({ Bucket: `missing-${Date.now()}`, Key: "k" })),
      ).rejects.toMatchObject({ name: "NoSuchBucket" });
      await expect(
        s3(t).send(new GetObjectCommand({ Bucket: t.bucket, Key: key("none") })),
      ).rejects.toMatchObject({ name: "NoSuchKey" });
      await expect(
        s3(t).send(new HeadObjectCommand({ Bucket: t.bucket, Key: key("none") })),
      ).rejects.toMatchObject({ name: "NotFound", $metadata: { httpStatusCode: 404 } });
    },
  },
  {
    operation: "PutObject (conditional)",
    name: "IfNoneMatch * refuses to replace an object (PreconditionFailed)",
    async run(t) {
      const k = key("once.txt");
      await s3(t).send(
        new PutObjectCommand({ Bucket: t.bucket, Key: k, Body: "first", IfNoneMatch: "*" }),
      );
      await expect(
        s3(t).send(
          new PutObjectCommand({ Bucket: t.bucket, Key: k, Body: "second", IfNoneMatch: "*" }),
        ),
      ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
      expect((await bytesOf(t, t.bucket, k)).bytes.toString()).toBe("first");
    },
  },
  {
    operation: "Outside the subset",
    name: "GetBucketVersioning answers NotImplemented (501), never a made-up status",
    only: "local",
    async run(t) {
      await expect(
        s3(t).send(new GetBucketVersioningCommand({ Bucket: t.bucket })),
      ).rejects.toMatchObject({
        name: "NotImplemented",
        $metadata: { httpStatusCode: 501 },
      });
    },
  },
];

conformance("js-sdk", checks);
