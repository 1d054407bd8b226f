import type { IncomingMessage, ServerResponse } from "node:http";
import { base64ToHex, hexToBase64 } from "@gantry/core";
import { BucketError, type LocalBuckets, type StoredObjectMeta } from "../world/buckets.ts";

/**
 * The part of the S3 REST API that publishing and inspecting artifacts needs, path-style
 * (`http://127.0.0.1:8083/<bucket>/<key>`): PutObject (with x-amz-checksum-sha256, metadata,
 * tagging, If-None-Match / If-Match), HeadObject, GetObject, DeleteObject and ListObjectsV2.
 * Enough for `aws s3 cp --endpoint-url`, the SDK's S3Client (forcePathStyle) and
 * `gantry artifact publish`. Bodies in aws-chunked encoding (the SDK's streaming checksums)
 * are decoded and their trailing checksum verified.
 */
const MAX_OBJECT_BYTES = 512 * 1024 * 1024;

export async function handleS3Request(
  buckets: LocalBuckets,
  exposed: ReadonlySet<string>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://local");
  const [, bucket = "", ...keyParts] = url.pathname.split("/");
  // Only artifact buckets are served: the state buckets hold locks, approvals and task tokens,
  // which in AWS only Gantry's own functions can read.
  if (
    !bucket ||
    !exposed.has(bucket) ||
    !buckets.hasBucket(bucket) ||
    req.headers["x-amz-target"]
  ) {
    return false;
  }
  const key = keyParts.map(decodeURIComponent).join("/");
  try {
    if (!key) {
      if (req.method === "GET" && url.searchParams.get("list-type") === "2") {
        await listObjects(buckets, bucket, url.searchParams.get("prefix") ?? "", res);
        return true;
      }
      if (req.method === "HEAD") {
        res.writeHead(200).end();
        return true;
      }
      throw new S3Failure(
        405,
        "MethodNotAllowed",
        "only ListObjectsV2 and HeadBucket are supported on a bucket",
      );
    }
    switch (req.method) {
      case "PUT":
        await putObject(buckets, { bucket, key }, req, res);
        return true;
      case "HEAD":
      case "GET": {
        const object = await buckets.get({ bucket, key, ...versionOf(url) });
        if (!object) throw new S3Failure(404, "NoSuchKey", "The specified key does not exist.");
        res.writeHead(
          200,
          objectHeaders(object.meta, req.headers["x-amz-checksum-mode"] === "ENABLED"),
        );
        res.end(req.method === "GET" ? object.bytes : undefined);
        return true;
      }
      case "DELETE":
        await buckets.delete({ bucket, key }, headerValue(req, "if-match"));
        res.writeHead(204).end();
        return true;
      default:
        throw new S3Failure(405, "MethodNotAllowed", `${req.method} is not supported`);
    }
  } catch (error) {
    sendError(res, error, req.method === "HEAD");
    return true;
  }
}

const BUCKET_ERROR_STATUS: Record<string, number> = {
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchVersion: 404,
  PreconditionFailed: 412,
  BadDigest: 400,
  InvalidKey: 400,
};

class S3Failure extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function putObject(
  buckets: LocalBuckets,
  ref: { bucket: string; key: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.headers["x-amz-copy-source"])
    throw new S3Failure(501, "NotImplemented", "CopyObject is not part of the local S3 subset");
  const raw = await readBody(req);
  const chunked =
    String(req.headers["content-encoding"] ?? "").includes("aws-chunked") ||
    String(req.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-");
  const { body, trailers } = chunked
    ? decodeAwsChunked(raw)
    : { body: raw, trailers: {} as Record<string, string> };
  const declared = headerValue(req, "x-amz-checksum-sha256") ?? trailers["x-amz-checksum-sha256"];
  const expectedSha256 = declared ? base64ToHex(declared) : undefined;
  if (declared && !expectedSha256)
    throw new S3Failure(400, "InvalidDigest", "x-amz-checksum-sha256 is not a SHA-256 digest");
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith("x-amz-meta-") && typeof value === "string")
      metadata[name.slice("x-amz-meta-".length)] = value;
  }
  const tagging = headerValue(req, "x-amz-tagging");
  const ifNoneMatch = headerValue(req, "if-none-match");
  const ifMatch = headerValue(req, "if-match");
  const meta = await buckets.put(ref, body, {
    metadata,
    tags: tagging ? Object.fromEntries(new URLSearchParams(tagging)) : {},
    ...(ifNoneMatch === "*" ? { ifNoneMatch: "*" as const } : {}),
    ...(ifMatch ? { ifMatch } : {}),
    ...(expectedSha256 ? { expectedSha256 } : {}),
  });
  res.writeHead(200, {
    etag: meta.etag,
    "x-amz-version-id": meta.versionId,
    "x-amz-checksum-sha256": hexToBase64(meta.sha256),
  });
  res.end();
}

async function listObjects(
  buckets: LocalBuckets,
  bucket: string,
  prefix: string,
  res: ServerResponse,
): Promise<void> {
  const keys = await buckets.list(bucket, prefix);
  const contents = [];
  for (const key of keys.slice(0, 1000)) {
    const head = await buckets.head({ bucket, key });
    if (!head) continue;
    contents.push(
      `<Contents><Key>${xml(key)}</Key><ETag>${xml(head.etag)}</ETag><Size>${head.size}</Size></Contents>`,
    );
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${contents.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${keys.length > 1000}</IsTruncated>${contents.join("")}</ListBucketResult>`;
  res.writeHead(200, { "content-type": "application/xml" }).end(body);
}

function objectHeaders(
  meta: StoredObjectMeta,
  withChecksum: boolean,
): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    "content-length": meta.size,
    "content-type": "application/octet-stream",
    etag: meta.etag,
    "last-modified": new Date(meta.lastModified).toUTCString(),
    "x-amz-version-id": meta.versionId,
  };
  if (withChecksum) {
    headers["x-amz-checksum-sha256"] = hexToBase64(meta.sha256);
    headers["x-amz-checksum-type"] = "FULL_OBJECT";
  }
  for (const [name, value] of Object.entries(meta.metadata)) headers[`x-amz-meta-${name}`] = value;
  if (Object.keys(meta.tags).length > 0)
    headers["x-amz-tagging-count"] = Object.keys(meta.tags).length;
  return headers;
}

/**
 * aws-chunked: `<hex size>[;chunk-signature=...]\r\n<bytes>\r\n` repeated, a zero-size chunk,
 * then trailer headers (`x-amz-checksum-<algorithm>:<base64>`) and a blank line.
 */
export function decodeAwsChunked(raw: Buffer): { body: Buffer; trailers: Record<string, string> } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", offset);
    if (lineEnd < 0) throw new S3Failure(400, "IncompleteBody", "aws-chunked body ends early");
    const size = Number.parseInt(
      raw.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "",
      16,
    );
    if (!Number.isFinite(size) || size < 0)
      throw new S3Failure(400, "InvalidRequest", "bad aws-chunked chunk size");
    offset = lineEnd + 2;
    if (size === 0) break;
    parts.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.subarray(offset).toString("latin1").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0)
      trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(parts), trailers };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_OBJECT_BYTES)
      throw new S3Failure(400, "EntityTooLarge", "objects are limited to 512 MiB locally");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function versionOf(url: URL): { versionId?: string } {
  const versionId = url.searchParams.get("versionId");
  return versionId ? { versionId } : {};
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

function sendError(res: ServerResponse, error: unknown, headOnly: boolean): void {
  let failure: S3Failure;
  if (error instanceof S3Failure) failure = error;
  else if (error instanceof BucketError) {
    failure = new S3Failure(BUCKET_ERROR_STATUS[error.name] ?? 400, error.name, error.message);
  } else failure = new S3Failure(500, "InternalError", "internal error in the local control plane");
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${xml(failure.code)}</Code><Message>${xml(failure.message)}</Message></Error>`;
  res.writeHead(failure.status, { "content-type": "application/xml" });
  res.end(headOnly ? undefined : body);
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
