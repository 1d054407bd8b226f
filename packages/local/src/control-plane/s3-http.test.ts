/**
 * The S3 endpoint over HTTP, in-process: routing, S3's error shapes and codes, request ids,
 * checksums and framing. (The conformance suite, test/conformance, drives it with real clients.)
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalBuckets } from "../world/buckets.ts";
import { checksumOf } from "../world/checksums.ts";
import { handleS3Request } from "./s3-http.ts";

const BUCKET = "artifacts-preprod";
const HIDDEN = "gantry-state-preprod";

let dir: string;
let server: Server;
let endpoint: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-s3-http-"));
  const buckets = new LocalBuckets(dir);
  await buckets.createBucket(BUCKET);
  await buckets.createBucket(HIDDEN);
  server = createServer((req, res) => {
    void handleS3Request(buckets, new Set([BUCKET]), req, res).then((handled) => {
      if (!handled) res.writeHead(404).end("not S3");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const url = (path: string) => `${endpoint}${path}`;
const md5 = (data: string) => createHash("md5").update(data).digest("base64");
const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");

async function put(key: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url(`/${BUCKET}/${key}`), { method: "PUT", body, headers });
}

async function errorCode(response: Response): Promise<string | undefined> {
  return /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
}

describe("routing and errors", () => {
  it("puts a request id on every response, successes, errors and HEADs alike", async () => {
    for (const response of [
      await put("ids", "x"),
      await fetch(url(`/${BUCKET}/missing`)),
      await fetch(url(`/${BUCKET}/missing`), { method: "HEAD" }),
      await fetch(url("/no-such-bucket/k")),
    ]) {
      expect(response.headers.get("x-amz-request-id")).toMatch(/^[0-9A-F]{16}$/);
      expect(response.headers.get("x-amz-id-2")).toBeTruthy();
      await response.arrayBuffer();
    }
  });

  it("answers errors in S3's XML: NoSuchKey, NoSuchBucket, and AccessDenied for unserved buckets", async () => {
    const missing = await fetch(url(`/${BUCKET}/dir/missing.txt`));
    expect(missing.status).toBe(404);
    const text = await missing.text();
    expect(text).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code>/,
    );
    expect(text).toContain(`<Resource>/${BUCKET}/dir/missing.txt</Resource>`);
    expect(text).toContain(`<RequestId>${missing.headers.get("x-amz-request-id")}</RequestId>`);
    const noBucket = await fetch(url("/no-such-bucket/k"));
    expect([noBucket.status, await errorCode(noBucket)]).toEqual([404, "NoSuchBucket"]);
    const hidden = await fetch(url(`/${HIDDEN}/locks/x.json`));
    expect([hidden.status, await errorCode(hidden)]).toEqual([403, "AccessDenied"]);
    const head = await fetch(url(`/${BUCKET}/missing`), { method: "HEAD" });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe("");
  });

  it("lets an operator read a state bucket's deployment records, and nothing else of it", async () => {
    const buckets = new LocalBuckets(dir);
    const records = buckets.records(HIDDEN);
    await records.put("deployments/svc/t_x.json", { version: "abc1234" });
    await records.put("locks/svc.json", { owner: "x" });
    const got = await fetch(url(`/${HIDDEN}/deployments/svc/t_x.json`));
    expect([got.status, await got.json()]).toEqual([200, { version: "abc1234" }]);
    const head = await fetch(url(`/${HIDDEN}/deployments/svc/t_x.json`), { method: "HEAD" });
    expect(head.status).toBe(200);
    const listed = await fetch(url(`/${HIDDEN}?list-type=2&prefix=deployments/svc/`));
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain("<Key>deployments/svc/t_x.json</Key>");
    const v1 = await fetch(url(`/${HIDDEN}?prefix=deployments/`));
    expect(v1.status).toBe(200);
    for (const [method, path] of [
      ["GET", `/${HIDDEN}/locks/svc.json`],
      ["GET", `/${HIDDEN}/deployments/../locks/svc.json`],
      ["GET", `/${HIDDEN}?list-type=2`],
      ["GET", `/${HIDDEN}?list-type=2&prefix=locks/`],
      ["GET", `/${HIDDEN}?prefix=approvals/`],
      ["PUT", `/${HIDDEN}/deployments/svc/forged.json`],
      ["DELETE", `/${HIDDEN}/deployments/svc/t_x.json`],
    ] as const) {
      const response = await fetch(url(path), {
        method,
        ...(method === "PUT" ? { body: "{}" } : {}),
      });
      // (fetch resolves the `..` before sending: that one asks for locks/ itself.)
      expect([method, path, response.status]).toEqual([method, path, 403]);
      await response.arrayBuffer();
    }
    expect((await records.get("deployments/svc/t_x.json"))?.value).toEqual({ version: "abc1234" });
  });

  it.each([
    ["GET", `/${BUCKET}/k?acl`],
    ["PUT", `/${BUCKET}/k?retention`],
    ["GET", `/${BUCKET}/k?legal-hold`],
    ["GET", `/${BUCKET}?versioning`],
    ["GET", `/${BUCKET}?policy`],
    ["POST", `/${BUCKET}/k?select&select-type=2`],
    ["POST", `/${BUCKET}/k?restore`],
    ["GET", `/${BUCKET}/k?attributes`],
    ["DELETE", `/${BUCKET}`],
    ["GET", `/${BUCKET}/k?uploadId=x&acl`],
  ])("answers %s %s with 501 NotImplemented", async (method, path) => {
    const response = await fetch(url(path), { method });
    expect([response.status, await errorCode(response)]).toEqual([501, "NotImplemented"]);
  });

  it("answers an unserved storage class or encryption with NotImplemented, ACLs as S3 does", async () => {
    for (const headers of [
      { "x-amz-storage-class": "GLACIER" } as Record<string, string>,
      { "x-amz-server-side-encryption": "aws:kms" },
      { "x-amz-object-lock-mode": "GOVERNANCE" },
    ]) {
      const response = await put("k", "x", headers);
      expect([response.status, await errorCode(response)]).toEqual([501, "NotImplemented"]);
    }
    const acl = await put("k", "x", { "x-amz-acl": "public-read" });
    expect([acl.status, await errorCode(acl)]).toEqual([400, "AccessControlListNotSupported"]);
  });

  it("answers PATCH with MethodNotAllowed and a malformed key with InvalidURI, both as XML", async () => {
    const patch = await fetch(url(`/${BUCKET}/k`), { method: "PATCH", body: "x" });
    expect([patch.status, await errorCode(patch)]).toEqual([405, "MethodNotAllowed"]);
    const bad = await fetch(url(`/${BUCKET}/%zz`));
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/xml");
    expect(await errorCode(bad)).toBe("InvalidURI");
  });

  it("leaves the health check and Step Functions calls to others", async () => {
    expect(await (await fetch(url("/health"))).text()).toBe("not S3");
    expect(await (await fetch(url("/"), { method: "POST", body: "{}" })).text()).toBe("not S3");
  });

  it("lists the served buckets only, and answers CreateBucket on one as S3 does", async () => {
    const listed = await (await fetch(url("/"))).text();
    expect(listed).toContain(`<Name>${BUCKET}</Name>`);
    expect(listed).not.toContain(HIDDEN);
    const create = await fetch(url(`/${BUCKET}`), { method: "PUT" });
    expect([create.status, await errorCode(create)]).toEqual([409, "BucketAlreadyOwnedByYou"]);
  });
});

describe("object tagging", () => {
  it("puts (Content-MD5 required), gets and deletes an object's tags", async () => {
    await put("tagged", "x", { "x-amz-tagging": "a=1" });
    const body =
      '<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>team</Key><Value>platform</Value></Tag></TagSet></Tagging>';
    const unsigned = await fetch(url(`/${BUCKET}/tagged?tagging`), { method: "PUT", body });
    expect([unsigned.status, await errorCode(unsigned)]).toEqual([400, "InvalidRequest"]);
    const stored = await fetch(url(`/${BUCKET}/tagged?tagging`), {
      method: "PUT",
      body,
      headers: { "content-md5": md5(body) },
    });
    expect(stored.status).toBe(200);
    const got = await (await fetch(url(`/${BUCKET}/tagged?tagging`))).text();
    expect(got).toContain("<Tag><Key>team</Key><Value>platform</Value></Tag>");
    expect(got).not.toContain("<Key>a</Key>");
    expect((await fetch(url(`/${BUCKET}/tagged?tagging`), { method: "DELETE" })).status).toBe(204);
    expect(await (await fetch(url(`/${BUCKET}/tagged?tagging`))).text()).toContain(
      "<TagSet></TagSet>",
    );
  });
});

describe("oversized bodies", () => {
  it("answers a declared size over 5 GiB with EntityTooLarge, and the connection survives", async () => {
    const socket = connect(Number(new URL(endpoint).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString();
    });
    let reset = false;
    socket.on("error", () => {
      reset = true;
    });
    socket.write(
      `PUT /${BUCKET}/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${6 * 1024 ** 3}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(64 * 1024));
    for (let i = 0; i < 100 && !received.includes("</Error>"); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(received).toMatch(/^HTTP\/1\.1 400 /);
    expect(received).toContain("<Code>EntityTooLarge</Code>");
    // The server keeps reading (and dropping) what the client still sends: no reset.
    socket.write(Buffer.alloc(64 * 1024));
    await new Promise((r) => setTimeout(r, 50));
    expect(reset).toBe(false);
    socket.destroy();
  });
});

describe("checksums on PutObject", () => {
  it("verifies Content-MD5: BadDigest on a mismatch, InvalidDigest when malformed", async () => {
    expect((await put("md5", "hello", { "content-md5": md5("hello") })).status).toBe(200);
    const mismatch = await put("md5", "hello", { "content-md5": md5("other") });
    expect([mismatch.status, await errorCode(mismatch)]).toEqual([400, "BadDigest"]);
    const malformed = await put("md5", "hello", { "content-md5": "nope" });
    expect([malformed.status, await errorCode(malformed)]).toEqual([400, "InvalidDigest"]);
  });

  it.each(["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const)(
    "verifies x-amz-checksum-%s and returns it with checksum mode",
    async (algorithm) => {
      const name = `x-amz-checksum-${algorithm.toLowerCase()}`;
      const good = await checksumOf(algorithm, Buffer.from("payload"));
      const ok = await put(`sum-${algorithm}`, "payload", { [name]: good });
      expect(ok.status).toBe(200);
      expect(ok.headers.get(name)).toBe(good);
      const head = await fetch(url(`/${BUCKET}/sum-${algorithm}`), {
        method: "HEAD",
        headers: { "x-amz-checksum-mode": "ENABLED" },
      });
      expect([head.headers.get(name), head.headers.get("x-amz-checksum-type")]).toEqual([
        good,
        "FULL_OBJECT",
      ]);
      const wrong = await put(`sum-${algorithm}`, "payload", {
        [name]: await checksumOf(algorithm, Buffer.from("other")),
      });
      expect([wrong.status, await errorCode(wrong)]).toEqual([400, "BadDigest"]);
      const malformed = await put(`sum-${algorithm}`, "payload", { [name]: "AAAA" });
      expect([malformed.status, await errorCode(malformed)]).toEqual([400, "InvalidRequest"]);
    },
  );

  it("refuses two checksum headers, and a signed payload hash that does not match", async () => {
    const two = await put("two", "x", {
      "x-amz-checksum-crc32": await checksumOf("CRC32", Buffer.from("x")),
      "x-amz-checksum-sha1": await checksumOf("SHA1", Buffer.from("x")),
    });
    expect([two.status, await errorCode(two)]).toEqual([400, "InvalidRequest"]);
    const signed = await put("signed", "x", { "x-amz-content-sha256": sha256("y") });
    expect([signed.status, await errorCode(signed)]).toEqual([400, "XAmzContentSHA256Mismatch"]);
    const matching = await put("signed", "x", { "x-amz-content-sha256": sha256("x") });
    expect(matching.status).toBe(200);
  });

  it("decodes aws-chunked bodies and checks their trailing checksum", async () => {
    const chunked = (trailer: string) =>
      put("chunked", `b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:${trailer}\r\n\r\n`, {
        "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": "11",
        "x-amz-sdk-checksum-algorithm": "CRC32",
      });
    const ok = await chunked("DUoRhQ==");
    expect(ok.status).toBe(200);
    expect(await (await fetch(url(`/${BUCKET}/chunked`))).text()).toBe("hello world");
    const bad = await chunked(await checksumOf("CRC32", Buffer.from("other")));
    expect([bad.status, await errorCode(bad)]).toEqual([400, "BadDigest"]);
  });
});

describe("reads", () => {
  beforeAll(async () => {
    await put("read/ten", "0123456789", {
      "content-type": "text/plain",
      "cache-control": "max-age=60",
      "content-disposition": 'attachment; filename="ten.txt"',
      "x-amz-meta-owner": "ci",
    });
  });

  it("serves ranges with 206 and Content-Range, 416 past the end", async () => {
    const ranged = await fetch(url(`/${BUCKET}/read/ten`), { headers: { range: "bytes=2-4" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe("bytes 2-4/10");
    expect(ranged.headers.get("accept-ranges")).toBe("bytes");
    expect(await ranged.text()).toBe("234");
    const suffix = await fetch(url(`/${BUCKET}/read/ten`), { headers: { range: "bytes=-3" } });
    expect(await suffix.text()).toBe("789");
    const past = await fetch(url(`/${BUCKET}/read/ten`), { headers: { range: "bytes=10-" } });
    expect([past.status, await errorCode(past)]).toEqual([416, "InvalidRange"]);
  });

  it("keeps and returns content headers and metadata", async () => {
    const got = await fetch(url(`/${BUCKET}/read/ten`));
    expect(got.headers.get("content-type")).toBe("text/plain");
    expect(got.headers.get("cache-control")).toBe("max-age=60");
    expect(got.headers.get("content-disposition")).toBe('attachment; filename="ten.txt"');
    expect(got.headers.get("x-amz-meta-owner")).toBe("ci");
    await got.arrayBuffer();
  });

  it("answers conditional reads with 304 and 412", async () => {
    const head = await fetch(url(`/${BUCKET}/read/ten`), { method: "HEAD" });
    const etag = head.headers.get("etag") ?? "";
    const notModified = await fetch(url(`/${BUCKET}/read/ten`), {
      headers: { "if-none-match": etag },
    });
    expect(notModified.status).toBe(304);
    const failed = await fetch(url(`/${BUCKET}/read/ten`), { headers: { "if-match": '"nope"' } });
    expect([failed.status, await errorCode(failed)]).toEqual([412, "PreconditionFailed"]);
  });
});

describe("hostile requests: every parse error is an S3 XML error, never a 500", () => {
  const xmlBody = (parts: string) => `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`;
  const cases: [string, string, RequestInit?][] = [
    ["a key with %zz", `/${BUCKET}/a%zz`],
    ["a key with a lone %", `/${BUCKET}/a%`],
    ["a bucket with %zz", `/b%zz/k`],
    ["a key with an encoded invalid UTF-8 byte", `/${BUCKET}/a%ff`],
    ["a key with an encoded NUL", `/${BUCKET}/a%00b`],
    ["max-keys that is not a number", `/${BUCKET}?list-type=2&max-keys=abc`],
    ["max-keys below zero", `/${BUCKET}?list-type=2&max-keys=-1`],
    ["max-keys huge", `/${BUCKET}?list-type=2&max-keys=99999999999999999999999`],
    ["list-type 3", `/${BUCKET}?list-type=3`],
    ["a bad continuation-token", `/${BUCKET}?list-type=2&continuation-token=%zz`],
    ["a garbage continuation-token", `/${BUCKET}?list-type=2&continuation-token=@@@`],
    ["encoding-type xml", `/${BUCKET}?list-type=2&encoding-type=xml`],
    ["a query with %zz", `/${BUCKET}?list-type=2&prefix=%zz`],
    ["partNumber abc", `/${BUCKET}/k?partNumber=abc`],
    ["partNumber 0", `/${BUCKET}/k?partNumber=0`],
    ["max-uploads abc", `/${BUCKET}?uploads&max-uploads=abc`],
    ["max-parts abc on a missing upload", `/${BUCKET}/k?uploadId=nope&max-parts=abc`],
    ["part-number-marker abc", `/${BUCKET}/k?uploadId=nope&part-number-marker=abc`],
    ["a bad Range", `/${BUCKET}/k`, { headers: { range: "bytes=zz-yy" } }],
    [
      "a bad If-Modified-Since",
      `/${BUCKET}/k`,
      { headers: { "if-modified-since": "yesterday-ish" } },
    ],
    [
      "DeleteObjects with XML that is not XML",
      `/${BUCKET}?delete`,
      {
        method: "POST",
        body: "<Delete><Object><Key>a</Key></Obj",
        headers: { "content-md5": md5("<Delete><Object><Key>a</Key></Obj") },
      },
    ],
    ["DeleteObjects with an empty body", `/${BUCKET}?delete`, { method: "POST", body: "" }],
    [
      "CompleteMultipartUpload with garbage XML",
      `/${BUCKET}/k?uploadId=nope`,
      { method: "POST", body: xmlBody("<Part><PartNumber>x</PartNumber>") },
    ],
    [
      "PutObjectTagging with garbage XML",
      `/${BUCKET}/k?tagging`,
      { method: "PUT", body: "<Tagging><TagSet><Tag><Key>__proto__</Key></Tag>" },
    ],
    [
      "x-amz-tagging with __proto__",
      `/${BUCKET}/tagged`,
      { method: "PUT", body: "x", headers: { "x-amz-tagging": "__proto__=1&constructor=2" } },
    ],
    [
      "a copy source with %zz",
      `/${BUCKET}/copy`,
      { method: "PUT", headers: { "x-amz-copy-source": `/${BUCKET}/a%zz` } },
    ],
    [
      "a bad x-amz-copy-source-range",
      `/${BUCKET}/k?uploadId=nope&partNumber=1`,
      {
        method: "PUT",
        headers: { "x-amz-copy-source": `/${BUCKET}/k`, "x-amz-copy-source-range": "bytes=x" },
      },
    ],
    [
      "a bad checksum header",
      `/${BUCKET}/sum`,
      { method: "PUT", body: "x", headers: { "x-amz-checksum-sha256": "%%%" } },
    ],
    [
      "a bad Content-MD5",
      `/${BUCKET}/md5`,
      { method: "PUT", body: "x", headers: { "content-md5": "not base64!" } },
    ],
    [
      "a bad x-amz-content-sha256",
      `/${BUCKET}/sha`,
      { method: "PUT", body: "x", headers: { "x-amz-content-sha256": "zz" } },
    ],
    [
      "a bad aws-chunked body",
      `/${BUCKET}/chunked`,
      {
        method: "PUT",
        body: "zz;chunk-signature=1\r\nx\r\n",
        headers: {
          "content-encoding": "aws-chunked",
          "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
          "x-amz-decoded-content-length": "1",
        },
      },
    ],
    [
      "a bad x-amz-decoded-content-length",
      `/${BUCKET}/chunked`,
      {
        method: "PUT",
        body: "1\r\nx\r\n0\r\n\r\n",
        headers: {
          "content-encoding": "aws-chunked",
          "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
          "x-amz-decoded-content-length": "-5",
        },
      },
    ],
    ["a versionId that is garbage", `/${BUCKET}/k?versionId=%00%01`],
  ];

  it.each(cases)("%s", async (_what, path, init) => {
    const response = await fetch(url(path), init);
    const text = await response.text();
    expect(response.status, text).toBeGreaterThanOrEqual(200);
    expect([500, 502, 503], text).not.toContain(response.status);
    if (response.status >= 400) {
      expect(response.headers.get("content-type")).toBe("application/xml");
      expect(text).toMatch(/<Error><Code>[A-Za-z]+<\/Code>/);
    }
  });

  it("answers a key with %zz as InvalidURI, 400", async () => {
    const response = await fetch(url(`/${BUCKET}/a%zz`));
    expect([response.status, await errorCode(response)]).toEqual([400, "InvalidURI"]);
  });
});

describe("keys that name Object.prototype's members are plain keys", () => {
  it("keeps tags named __proto__, constructor and toString, from the header and from XML", async () => {
    const created = await put("proto-tags", "x", {
      "x-amz-tagging": "__proto__=1&constructor=2&toString=3",
    });
    expect(created.status).toBe(200);
    const got = await (await fetch(url(`/${BUCKET}/proto-tags?tagging`))).text();
    for (const [key, value] of [
      ["__proto__", "1"],
      ["constructor", "2"],
      ["toString", "3"],
    ])
      expect(got).toContain(`<Tag><Key>${key}</Key><Value>${value}</Value></Tag>`);
    const body =
      '<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>__proto__</Key><Value>a</Value></Tag><Tag><Key>hasOwnProperty</Key><Value>b</Value></Tag></TagSet></Tagging>';
    const stored = await fetch(url(`/${BUCKET}/proto-tags?tagging`), {
      method: "PUT",
      body,
      headers: { "content-md5": md5(body) },
    });
    expect(stored.status).toBe(200);
    const again = await (await fetch(url(`/${BUCKET}/proto-tags?tagging`))).text();
    expect(again).toContain("<Tag><Key>__proto__</Key><Value>a</Value></Tag>");
    expect(again).toContain("<Tag><Key>hasOwnProperty</Key><Value>b</Value></Tag>");
  });

  it("keeps user metadata named x-amz-meta-__proto__", async () => {
    const created = await put("proto-meta", "x", { "x-amz-meta-__proto__": "kept" });
    expect(created.status).toBe(200);
    const head = await fetch(url(`/${BUCKET}/proto-meta`), { method: "HEAD" });
    expect(head.headers.get("x-amz-meta-__proto__")).toBe("kept");
  });
});

describe("oversized bodies are answered, not reset", () => {
  it.each([
    ["PutObjectTagging", `/${BUCKET}/k?tagging`, "PUT", 1024 * 1024],
    ["DeleteObjects", `/${BUCKET}?delete`, "POST", 10 * 1024 * 1024],
  ])("%s with a body over its limit gets S3's XML error", async (_what, path, method, size) => {
    const body = `<X>${"y".repeat(size)}</X>`;
    const response = await fetch(url(path), {
      method,
      body,
      headers: { "content-md5": md5(body) },
    });
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe("MalformedXML");
  });
});
