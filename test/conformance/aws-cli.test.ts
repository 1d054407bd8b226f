/**
 * The AWS CLI v2 (Debian's 2.9.x, /usr/bin/aws) as a client of the local S3 endpoint, with its
 * default transfer settings (multipart above 8 MB, 8 MB parts, ranged parallel downloads).
 *
 * The 2.9 line predates the SDKs' default checksums (2.23): it sends Content-MD5 and a signed
 * payload SHA-256 with every PutObject and UploadPart, and a flexible checksum only when asked
 * (`--checksum-algorithm`, `--checksum-crc32`, ...). It knows CRC32, CRC32C (through its bundled
 * CRT), SHA1 and SHA256, not CRC64NVME.
 */
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import {
  aws,
  awsOk,
  type Check,
  type ConformanceTarget,
  cliErrorCode,
  conformance,
  sha256,
  sha256File,
  uniqueKey,
} from "./support/harness.ts";

const MiB = 1024 * 1024;

/** Writes `size` random bytes to a file, streamed; returns its SHA-256. */
async function randomFile(path: string, size: number): Promise<string> {
  const out = createWriteStream(path);
  const hash = createHash("sha256");
  for (let written = 0; written < size; ) {
    const chunk = randomBytes(Math.min(4 * MiB, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, "drain");
    written += chunk.length;
  }
  out.end();
  await once(out, "finish");
  return hash.digest("hex");
}

const key = (name: string) => uniqueKey("aws-cli", name);
const s3url = (bucket: string, k: string) => `s3://${bucket}/${k}`;

function md5Base64(data: string | Buffer): string {
  return createHash("md5").update(data).digest("base64");
}

async function cpRoundTrip(
  t: ConformanceTarget,
  scratch: string,
  size: number,
  expectedParts: number,
) {
  const file = join(scratch, "up.bin");
  const digest = await randomFile(file, size);
  const k = key(`cp-${size}.bin`);
  await awsOk(t, ["s3", "cp", file, s3url(t.bucket, k), "--no-progress"]);
  const head = await awsOk(t, ["s3api", "head-object", "--bucket", t.bucket, "--key", k]);
  expect(head.ContentLength).toBe(size);
  expect(head.ETag).toMatch(
    expectedParts > 1 ? new RegExp(`-${expectedParts}"$`) : /^"[0-9a-f]{32}"$/,
  );
  const down = join(scratch, "down.bin");
  await awsOk(t, ["s3", "cp", s3url(t.bucket, k), down, "--no-progress"]);
  expect(await sha256File(down)).toBe(digest);
  return { key: k, digest };
}

/** The 200 MB object of the first check, downloaded by the second. */
let big: { key: string; digest: string; size: number } | undefined;

const checks: Check[] = [
  {
    operation: "s3 cp (upload, multipart)",
    name: "uploads 200 MiB in 25 parts of 8 MiB, the CLI's defaults",
    only: "local",
    timeout: 600_000,
    async run(t, scratch) {
      const size = 200 * MiB;
      const file = join(scratch, "200MiB.bin");
      const digest = await randomFile(file, size);
      const k = key("200MiB.bin");
      await awsOk(t, ["s3", "cp", file, s3url(t.bucket, k), "--no-progress"]);
      const head = await awsOk(t, ["s3api", "head-object", "--bucket", t.bucket, "--key", k]);
      expect(head.ContentLength).toBe(size);
      expect(head.ETag).toMatch(/-25"$/);
      big = { key: k, digest, size };
    },
  },
  {
    operation: "s3 cp (download, ranged GETs)",
    name: "downloads the 200 MiB object byte-exact (SHA-256)",
    only: "local",
    timeout: 600_000,
    async run(t, scratch) {
      if (!big) throw new Error("the 200 MiB upload did not happen");
      const down = join(scratch, "200MiB.down");
      await awsOk(t, ["s3", "cp", s3url(t.bucket, big.key), down, "--no-progress"]);
      expect(await sha256File(down)).toBe(big.digest);
      await awsOk(t, ["s3", "rm", s3url(t.bucket, big.key)]);
    },
  },
  {
    operation: "s3 cp (upload, multipart)",
    name: "round-trips 20 MiB (3 parts) byte-exact",
    timeout: 180_000,
    async run(t, scratch) {
      await cpRoundTrip(t, scratch, 20 * MiB, 3);
    },
  },
  {
    operation: "s3 cp (upload)",
    name: "round-trips 1 MiB byte-exact, keeping content headers and metadata",
    async run(t, scratch) {
      const file = join(scratch, "page.html");
      writeFileSync(file, randomBytes(MiB));
      const k = key("page.html");
      await awsOk(t, [
        "s3",
        "cp",
        file,
        s3url(t.bucket, k),
        "--no-progress",
        "--cache-control",
        "max-age=60",
        "--content-disposition",
        'attachment; filename="page.html"',
        "--metadata",
        "owner=ci,run=42",
      ]);
      const head = await awsOk(t, ["s3api", "head-object", "--bucket", t.bucket, "--key", k]);
      expect(head).toMatchObject({
        ContentType: "text/html",
        CacheControl: "max-age=60",
        ContentDisposition: 'attachment; filename="page.html"',
        Metadata: { owner: "ci", run: "42" },
        ContentLength: MiB,
      });
      const down = join(scratch, "down.html");
      await awsOk(t, ["s3", "cp", s3url(t.bucket, k), down, "--no-progress"]);
      expect(sha256(readFileSync(down))).toBe(sha256(readFileSync(file)));
    },
  },
  {
    operation: "s3 cp (S3 to S3)",
    name: "copies between buckets server-side, small (CopyObject) and 20 MiB (UploadPartCopy)",
    timeout: 180_000,
    async run(t, scratch) {
      for (const size of [1024, 20 * MiB]) {
        const file = join(scratch, `src-${size}`);
        const digest = await randomFile(file, size);
        const from = key(`copy-src-${size}`);
        const to = key(`copy-dst-${size}`);
        await awsOk(t, ["s3", "cp", file, s3url(t.bucket, from), "--no-progress"]);
        await awsOk(t, ["s3", "cp", s3url(t.bucket, from), s3url(t.other, to), "--no-progress"]);
        const down = join(scratch, `copied-${size}`);
        await awsOk(t, ["s3", "cp", s3url(t.other, to), down, "--no-progress"]);
        expect(await sha256File(down)).toBe(digest);
      }
    },
  },
  {
    operation: "s3 ls",
    name: "lists prefixes as PRE and objects with date, size and name; --recursive lists keys",
    async run(t, scratch) {
      const base = key("ls");
      const file = join(scratch, "f.txt");
      writeFileSync(file, "12345");
      await awsOk(t, ["s3", "cp", file, s3url(t.bucket, `${base}/a.txt`)]);
      await awsOk(t, ["s3", "cp", file, s3url(t.bucket, `${base}/dir/b.txt`)]);
      const listed = await aws(t, ["s3", "ls", s3url(t.bucket, `${base}/`)]);
      expect(listed.code).toBe(0);
      const lines = listed.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^\s+PRE dir\/$/);
      expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+5 a\.txt$/);
      const recursive = await aws(t, ["s3", "ls", s3url(t.bucket, `${base}/`), "--recursive"]);
      expect(recursive.stdout).toContain(`${base}/a.txt`);
      expect(recursive.stdout).toContain(`${base}/dir/b.txt`);
      const buckets = await aws(t, ["s3", "ls"]);
      expect(buckets.stdout).toContain(t.bucket);
    },
  },
  {
    operation: "s3 sync (upload)",
    name: "uploads a tree, then nothing when unchanged, then only the changed file",
    timeout: 120_000,
    async run(t, scratch) {
      const tree = join(scratch, "tree");
      mkdirSync(join(tree, "sub", "deeper"), { recursive: true });
      const files: Record<string, string | Buffer> = {
        "a.txt": "alpha",
        "sub/b.bin": randomBytes(10_000),
        "sub/deeper/c.txt": "gamma",
        "with space.txt": "spaced",
      };
      const past = new Date(Date.now() - 3600_000);
      for (const [name, content] of Object.entries(files)) {
        writeFileSync(join(tree, name), content);
        utimesSync(join(tree, name), past, past);
      }
      const base = key("sync");
      const first = await aws(t, ["s3", "sync", tree, s3url(t.bucket, base), "--no-progress"]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout.match(/^upload: /gm)).toHaveLength(4);
      const listed = await awsOk(t, [
        "s3api",
        "list-objects-v2",
        "--bucket",
        t.bucket,
        "--prefix",
        `${base}/`,
      ]);
      expect(listed.Contents.map((c: { Key: string }) => c.Key).sort()).toEqual(
        Object.keys(files)
          .map((name) => `${base}/${name}`)
          .sort(),
      );
      const again = await aws(t, ["s3", "sync", tree, s3url(t.bucket, base), "--no-progress"]);
      expect(again.stdout.trim()).toBe("");
      writeFileSync(join(tree, "a.txt"), "alpha, longer now");
      const changed = await aws(t, ["s3", "sync", tree, s3url(t.bucket, base), "--no-progress"]);
      expect(changed.stdout.match(/^upload: /gm)).toHaveLength(1);
      expect(changed.stdout).toContain("a.txt");
    },
  },
  {
    operation: "s3 sync (download)",
    name: "downloads a tree byte-exact, then nothing; --delete removes what is gone",
    timeout: 120_000,
    async run(t, scratch) {
      const base = key("syncdown");
      const contents: Record<string, Buffer> = {
        "one.bin": randomBytes(3000),
        "nested/two.bin": randomBytes(5000),
      };
      for (const [name, content] of Object.entries(contents)) {
        const file = join(scratch, name.replace("/", "_"));
        writeFileSync(file, content);
        await awsOk(t, ["s3", "cp", file, s3url(t.bucket, `${base}/${name}`)]);
      }
      const local = join(scratch, "mirror");
      const first = await aws(t, ["s3", "sync", s3url(t.bucket, base), local, "--no-progress"]);
      expect(first.code, first.stderr).toBe(0);
      for (const [name, content] of Object.entries(contents))
        expect(sha256(readFileSync(join(local, name)))).toBe(sha256(content));
      const again = await aws(t, ["s3", "sync", s3url(t.bucket, base), local, "--no-progress"]);
      expect(again.stdout.trim()).toBe("");
      // Mirror back up with --delete after removing a file locally: the key goes.
      const { rmSync } = await import("node:fs");
      rmSync(join(local, "one.bin"));
      const pushed = await aws(t, [
        "s3",
        "sync",
        local,
        s3url(t.bucket, base),
        "--delete",
        "--no-progress",
      ]);
      expect(pushed.stdout).toMatch(/^delete: .*one\.bin$/m);
      const head = await aws(t, [
        "s3api",
        "head-object",
        "--bucket",
        t.bucket,
        "--key",
        `${base}/one.bin`,
      ]);
      expect(cliErrorCode(head)).toBe("404");
    },
  },
  {
    operation: "ListObjectsV2",
    name: "s3api list-objects-v2 --delimiter / gives CommonPrefixes and Contents with S3's fields",
    async run(t, scratch) {
      const base = key("delim");
      const file = join(scratch, "x");
      writeFileSync(file, "xyz");
      for (const name of ["top.txt", "a/1.txt", "a/2.txt", "b/c/3.txt"])
        await awsOk(t, ["s3", "cp", file, s3url(t.bucket, `${base}/${name}`)]);
      const listed = await awsOk(t, [
        "s3api",
        "list-objects-v2",
        "--bucket",
        t.bucket,
        "--prefix",
        `${base}/`,
        "--delimiter",
        "/",
        "--no-paginate",
      ]);
      expect(listed.CommonPrefixes).toEqual([{ Prefix: `${base}/a/` }, { Prefix: `${base}/b/` }]);
      expect(listed.Contents).toHaveLength(1);
      expect(listed.Contents[0]).toMatchObject({
        Key: `${base}/top.txt`,
        Size: 3,
        StorageClass: "STANDARD",
        ETag: `"${createHash("md5").update("xyz").digest("hex")}"`,
      });
      expect(listed.Contents[0].LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(listed.KeyCount).toBe(3);
    },
  },
  {
    operation: "ListObjectsV2",
    name: "pages with continuation tokens (--page-size), --max-items and --start-after",
    async run(t, scratch) {
      const base = key("pages");
      const file = join(scratch, "x");
      writeFileSync(file, "x");
      const names = ["k1", "k2", "k3", "k4", "k5"];
      for (const name of names)
        await awsOk(t, ["s3", "cp", file, s3url(t.bucket, `${base}/${name}`)]);
      const all = await awsOk(t, [
        "s3api",
        "list-objects-v2",
        "--bucket",
        t.bucket,
        "--prefix",
        `${base}/`,
        "--page-size",
        "2",
      ]);
      expect(all.Contents.map((c: { Key: string }) => c.Key)).toEqual(
        names.map((n) => `${base}/${n}`),
      );
      const limited = await awsOk(t, [
        "s3api",
        "list-objects-v2",
        "--bucket",
        t.bucket,
        "--prefix",
        `${base}/`,
        "--max-items",
        "3",
      ]);
      expect(limited.Contents).toHaveLength(3);
      expect(limited.NextToken).toBeTruthy();
      const after = await awsOk(t, [
        "s3api",
        "list-objects-v2",
        "--bucket",
        t.bucket,
        "--prefix",
        `${base}/`,
        "--start-after",
        `${base}/k3`,
      ]);
      expect(after.Contents.map((c: { Key: string }) => c.Key)).toEqual([
        `${base}/k4`,
        `${base}/k5`,
      ]);
    },
  },
  {
    operation: "GetObject (Range)",
    name: "get-object --range returns the bytes asked for with Content-Range",
    async run(t, scratch) {
      const k = key("range.bin");
      const data = randomBytes(1000);
      const file = join(scratch, "range.bin");
      writeFileSync(file, data);
      await awsOk(t, ["s3api", "put-object", "--bucket", t.bucket, "--key", k, "--body", file]);
      const out = join(scratch, "part");
      const got = await awsOk(t, [
        "s3api",
        "get-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--range",
        "bytes=10-19",
        out,
      ]);
      expect(got).toMatchObject({ ContentRange: "bytes 10-19/1000", ContentLength: 10 });
      expect(readFileSync(out).equals(data.subarray(10, 20))).toBe(true);
    },
  },
  {
    operation: "GetObject (Range)",
    name: "a range past the end is InvalidRange (416)",
    async run(t, scratch) {
      const k = key("range-past.bin");
      const file = join(scratch, "f");
      writeFileSync(file, "0123456789");
      await awsOk(t, ["s3api", "put-object", "--bucket", t.bucket, "--key", k, "--body", file]);
      const run = await aws(t, [
        "s3api",
        "get-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--range",
        "bytes=10-",
        join(scratch, "out"),
      ]);
      expect(run.code).not.toBe(0);
      expect(cliErrorCode(run)).toBe("InvalidRange");
    },
  },
  {
    operation: "PutObject (Content-MD5)",
    name: "a Content-MD5 that does not match is BadDigest; the right one is accepted",
    moto: "moto 5.2.1 stores the object although its Content-MD5 does not match (AWS: 400 BadDigest)",
    async run(t, scratch) {
      const k = key("md5.txt");
      const file = join(scratch, "f");
      writeFileSync(file, "checked bytes");
      const bad = await aws(t, [
        "s3api",
        "put-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--body",
        file,
        "--content-md5",
        md5Base64("other bytes"),
      ]);
      expect(cliErrorCode(bad)).toBe("BadDigest");
      const head = await aws(t, ["s3api", "head-object", "--bucket", t.bucket, "--key", k]);
      expect(cliErrorCode(head)).toBe("404");
      await awsOk(t, [
        "s3api",
        "put-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--body",
        file,
        "--content-md5",
        md5Base64("checked bytes"),
      ]);
    },
  },
  {
    operation: "PutObject (CRC32)",
    name: "--checksum-algorithm CRC32 is verified, returned, and kept for checksum mode",
    async run(t, scratch) {
      const k = key("crc32.txt");
      const file = join(scratch, "f");
      writeFileSync(file, "hello world");
      const put = await awsOk(t, [
        "s3api",
        "put-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--body",
        file,
        "--checksum-algorithm",
        "CRC32",
      ]);
      expect(put.ChecksumCRC32).toBe("DUoRhQ==");
      const head = await awsOk(t, [
        "s3api",
        "head-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--checksum-mode",
        "ENABLED",
      ]);
      expect(head.ChecksumCRC32).toBe("DUoRhQ==");
    },
  },
  {
    operation: "PutObject (CRC32)",
    name: "a CRC32 that does not match the body is BadDigest, and nothing is stored",
    moto: "moto 5.2.1 stores the object although its x-amz-checksum-crc32 does not match (AWS: 400 BadDigest)",
    async run(t, scratch) {
      const k = key("crc32-bad.txt");
      const file = join(scratch, "f");
      writeFileSync(file, "hello world");
      const bad = await aws(t, [
        "s3api",
        "put-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--body",
        file,
        "--checksum-crc32",
        "AAAAAA==",
      ]);
      expect(cliErrorCode(bad)).toBe("BadDigest");
      const head = await aws(t, ["s3api", "head-object", "--bucket", t.bucket, "--key", k]);
      expect(cliErrorCode(head)).toBe("404");
    },
  },
  {
    operation: "PutObject (CRC32C, SHA1, SHA256)",
    name: "each algorithm the CLI offers is verified and returned",
    async run(t, scratch) {
      const file = join(scratch, "f");
      writeFileSync(file, "hello world");
      const expected: Record<string, string> = {
        CRC32C: "yZRlqg==",
        SHA1: createHash("sha1").update("hello world").digest("base64"),
        SHA256: createHash("sha256").update("hello world").digest("base64"),
      };
      for (const [algorithm, value] of Object.entries(expected)) {
        const k = key(`sum-${algorithm}`);
        const put = await awsOk(t, [
          "s3api",
          "put-object",
          "--bucket",
          t.bucket,
          "--key",
          k,
          "--body",
          file,
          "--checksum-algorithm",
          algorithm,
        ]);
        expect(put[`Checksum${algorithm}`]).toBe(value);
        const head = await awsOk(t, [
          "s3api",
          "head-object",
          "--bucket",
          t.bucket,
          "--key",
          k,
          "--checksum-mode",
          "ENABLED",
        ]);
        expect(head[`Checksum${algorithm}`]).toBe(value);
      }
    },
  },
  {
    operation: "NoSuchBucket",
    name: "get-object, list-objects-v2 and s3 ls on a bucket that does not exist",
    async run(t, scratch) {
      const missing = `no-such-bucket-${Date.now()}`;
      const get = await aws(t, [
        "s3api",
        "get-object",
        "--bucket",
        missing,
        "--key",
        "k",
        join(scratch, "out"),
      ]);
      expect(cliErrorCode(get)).toBe("NoSuchBucket");
      const list = await aws(t, ["s3api", "list-objects-v2", "--bucket", missing]);
      expect(cliErrorCode(list)).toBe("NoSuchBucket");
      const ls = await aws(t, ["s3", "ls", `s3://${missing}/`]);
      expect(ls.code).not.toBe(0);
      expect(ls.stderr).toContain("NoSuchBucket");
    },
  },
  {
    operation: "NoSuchKey",
    name: "get-object of a missing key is NoSuchKey; head-object is a bare 404",
    async run(t, scratch) {
      const k = key("missing");
      const get = await aws(t, [
        "s3api",
        "get-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        join(scratch, "o"),
      ]);
      expect(cliErrorCode(get)).toBe("NoSuchKey");
      const head = await aws(t, ["s3api", "head-object", "--bucket", t.bucket, "--key", k]);
      expect(cliErrorCode(head)).toBe("404");
    },
  },
  {
    operation: "GetObject (conditional)",
    name: "If-None-Match on the ETag is 304; If-Match on another is PreconditionFailed",
    async run(t, scratch) {
      const k = key("cond.txt");
      const file = join(scratch, "f");
      writeFileSync(file, "conditional");
      const put = await awsOk(t, [
        "s3api",
        "put-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--body",
        file,
      ]);
      const out = join(scratch, "o");
      const notModified = await aws(t, [
        "s3api",
        "get-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--if-none-match",
        put.ETag,
        out,
      ]);
      expect(cliErrorCode(notModified)).toBe("304");
      const failed = await aws(t, [
        "s3api",
        "get-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--if-match",
        '"0123456789abcdef0123456789abcdef"',
        out,
      ]);
      expect(cliErrorCode(failed)).toBe("PreconditionFailed");
      const matched = await awsOk(t, [
        "s3api",
        "get-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--if-match",
        put.ETag,
        out,
      ]);
      expect(matched.ETag).toBe(put.ETag);
    },
  },
  {
    operation: "Multipart (s3api)",
    name: "create, upload-part with SHA256, list-parts, complete: S3's ETag and composite checksum",
    moto: "moto 5.2.1's HeadObject returns the composite SHA256 without its -2 suffix and without x-amz-checksum-type, though its GetObject has both (AWS: <checksum of part checksums>-2 and COMPOSITE on both)",
    timeout: 120_000,
    async run(t, scratch) {
      const k = key("mpu.bin");
      const parts = [randomBytes(5 * MiB), randomBytes(MiB)];
      const created = await awsOk(t, [
        "s3api",
        "create-multipart-upload",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--checksum-algorithm",
        "SHA256",
      ]);
      const uploaded = [];
      for (const [index, part] of parts.entries()) {
        const file = join(scratch, `part${index}`);
        writeFileSync(file, part);
        const out = await awsOk(t, [
          "s3api",
          "upload-part",
          "--bucket",
          t.bucket,
          "--key",
          k,
          "--upload-id",
          created.UploadId,
          "--part-number",
          String(index + 1),
          "--body",
          file,
          "--checksum-algorithm",
          "SHA256",
        ]);
        expect(out.ChecksumSHA256).toBe(createHash("sha256").update(part).digest("base64"));
        uploaded.push({
          PartNumber: index + 1,
          ETag: out.ETag,
          ChecksumSHA256: out.ChecksumSHA256,
        });
      }
      const listed = await awsOk(t, [
        "s3api",
        "list-parts",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--upload-id",
        created.UploadId,
      ]);
      expect(listed.Parts.map((p: { Size: number }) => p.Size)).toEqual([5 * MiB, MiB]);
      const completion = join(scratch, "parts.json");
      writeFileSync(completion, JSON.stringify({ Parts: uploaded }));
      const done = await awsOk(t, [
        "s3api",
        "complete-multipart-upload",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--upload-id",
        created.UploadId,
        "--multipart-upload",
        `file://${completion}`,
      ]);
      const md5s = Buffer.concat(parts.map((p) => createHash("md5").update(p).digest()));
      expect(done.ETag).toBe(`"${createHash("md5").update(md5s).digest("hex")}-2"`);
      const shas = Buffer.concat(parts.map((p) => createHash("sha256").update(p).digest()));
      const head = await awsOk(t, [
        "s3api",
        "head-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--checksum-mode",
        "ENABLED",
      ]);
      expect(head.ChecksumSHA256).toBe(`${createHash("sha256").update(shas).digest("base64")}-2`);
      expect(head.ContentLength).toBe(6 * MiB);
    },
  },
  {
    operation: "Multipart (s3api)",
    name: "after abort-multipart-upload, the upload id is NoSuchUpload",
    moto: "moto 5.2.1 answers UploadPart on an aborted upload with 500 InternalError (AWS: 404 NoSuchUpload)",
    async run(t, scratch) {
      const k = key("aborted.bin");
      const created = await awsOk(t, [
        "s3api",
        "create-multipart-upload",
        "--bucket",
        t.bucket,
        "--key",
        k,
      ]);
      await awsOk(t, [
        "s3api",
        "abort-multipart-upload",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--upload-id",
        created.UploadId,
      ]);
      const file = join(scratch, "p");
      writeFileSync(file, "part");
      const part = await aws(t, [
        "s3api",
        "upload-part",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--upload-id",
        created.UploadId,
        "--part-number",
        "1",
        "--body",
        file,
      ]);
      expect(cliErrorCode(part)).toBe("NoSuchUpload");
      const list = await aws(t, [
        "s3api",
        "list-parts",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--upload-id",
        "no-such-upload-id-at-all",
      ]);
      expect(cliErrorCode(list)).toBe("NoSuchUpload");
    },
  },
  {
    operation: "CopyObject",
    name: "copy-source conditions (412) and the REPLACE metadata directive",
    moto: "moto 5.2.1 copies although x-amz-copy-source-if-match names another ETag (AWS: 412 PreconditionFailed)",
    async run(t, scratch) {
      const from = key("copy-from.txt");
      const to = key("copy-to.txt");
      const file = join(scratch, "f");
      writeFileSync(file, "source");
      const put = await awsOk(t, [
        "s3api",
        "put-object",
        "--bucket",
        t.bucket,
        "--key",
        from,
        "--body",
        file,
        "--content-type",
        "text/plain",
        "--metadata",
        "origin=ci",
      ]);
      const refused = await aws(t, [
        "s3api",
        "copy-object",
        "--bucket",
        t.other,
        "--key",
        to,
        "--copy-source",
        `${t.bucket}/${from}`,
        "--copy-source-if-match",
        '"0123456789abcdef0123456789abcdef"',
      ]);
      expect(cliErrorCode(refused)).toBe("PreconditionFailed");
      const copied = await awsOk(t, [
        "s3api",
        "copy-object",
        "--bucket",
        t.other,
        "--key",
        to,
        "--copy-source",
        `${t.bucket}/${from}`,
        "--copy-source-if-match",
        put.ETag,
      ]);
      expect(copied.CopyObjectResult.ETag).toBe(put.ETag);
      const kept = await awsOk(t, ["s3api", "head-object", "--bucket", t.other, "--key", to]);
      expect(kept).toMatchObject({ ContentType: "text/plain", Metadata: { origin: "ci" } });
      await awsOk(t, [
        "s3api",
        "copy-object",
        "--bucket",
        t.other,
        "--key",
        to,
        "--copy-source",
        `${t.bucket}/${from}`,
        "--metadata-directive",
        "REPLACE",
        "--content-type",
        "application/json",
        "--metadata",
        "origin=copy",
      ]);
      const replaced = await awsOk(t, ["s3api", "head-object", "--bucket", t.other, "--key", to]);
      expect(replaced).toMatchObject({
        ContentType: "application/json",
        Metadata: { origin: "copy" },
      });
    },
  },
  {
    operation: "Object tagging",
    name: "put-object --tagging, put-object-tagging and get-object-tagging",
    async run(t, scratch) {
      const k = key("tags.txt");
      const file = join(scratch, "f");
      writeFileSync(file, "x");
      await awsOk(t, [
        "s3api",
        "put-object",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--body",
        file,
        "--tagging",
        "a=1&b=2",
      ]);
      const first = await awsOk(t, [
        "s3api",
        "get-object-tagging",
        "--bucket",
        t.bucket,
        "--key",
        k,
      ]);
      expect(first.TagSet).toEqual([
        { Key: "a", Value: "1" },
        { Key: "b", Value: "2" },
      ]);
      await awsOk(t, [
        "s3api",
        "put-object-tagging",
        "--bucket",
        t.bucket,
        "--key",
        k,
        "--tagging",
        "TagSet=[{Key=team,Value=platform}]",
      ]);
      const second = await awsOk(t, [
        "s3api",
        "get-object-tagging",
        "--bucket",
        t.bucket,
        "--key",
        k,
      ]);
      expect(second.TagSet).toEqual([{ Key: "team", Value: "platform" }]);
    },
  },
  {
    operation: "s3 rm",
    name: "s3 rm --recursive deletes every key under a prefix",
    async run(t, scratch) {
      const base = key("rm");
      const file = join(scratch, "f");
      writeFileSync(file, "x");
      for (const name of ["a", "b/c", "b/d"])
        await awsOk(t, ["s3", "cp", file, s3url(t.bucket, `${base}/${name}`)]);
      const removed = await aws(t, ["s3", "rm", s3url(t.bucket, `${base}/`), "--recursive"]);
      expect(removed.stdout.match(/^delete: /gm)).toHaveLength(3);
      const listed = await awsOk(t, [
        "s3api",
        "list-objects-v2",
        "--bucket",
        t.bucket,
        "--prefix",
        `${base}/`,
      ]);
      expect(listed.Contents ?? []).toEqual([]);
    },
  },
  {
    operation: "Outside the subset",
    name: "retention, versioning, ACLs and other storage classes answer NotImplemented (501)",
    only: "local",
    async run(t, scratch) {
      const k = key("subset.txt");
      const file = join(scratch, "f");
      writeFileSync(file, "x");
      await awsOk(t, ["s3api", "put-object", "--bucket", t.bucket, "--key", k, "--body", file]);
      for (const args of [
        ["s3api", "get-object-retention", "--bucket", t.bucket, "--key", k],
        ["s3api", "get-bucket-versioning", "--bucket", t.bucket],
        ["s3api", "get-object-acl", "--bucket", t.bucket, "--key", k],
        [
          "s3api",
          "put-object",
          "--bucket",
          t.bucket,
          "--key",
          k,
          "--body",
          file,
          "--storage-class",
          "GLACIER",
        ],
      ]) {
        const run = await aws(t, args);
        expect(cliErrorCode(run), args.join(" ")).toBe("NotImplemented");
      }
    },
  },
  {
    operation: "Outside the subset",
    name: "Gantry's state buckets are not served (AccessDenied)",
    only: "local",
    async run(t) {
      const run = await aws(t, ["s3", "ls", "s3://gantry-state-prod/"]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain("AccessDenied");
    },
  },
];

conformance("aws-cli", checks);
