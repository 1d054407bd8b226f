import type { IncomingMessage } from "node:http";
import { pipeline } from "node:stream/promises";
import { readLimitedBody } from "../../http-body.ts";
import type { OpenedObject } from "../../world/buckets.ts";
import {
  type ChecksumAlgorithm,
  checksumAlgorithmOf,
  ObjectDigests,
} from "../../world/checksums.ts";
import { MAX_PART_NUMBER } from "../../world/multipart.ts";
import type { ContentHeaders, StoredObjectMeta } from "../../world/object-meta.ts";
import { evaluateConditions } from "./conditions.ts";
import {
  checksumElementName,
  checksumHeaders,
  httpDate,
  isoSeconds,
  MAX_SINGLE_UPLOAD_BYTES,
  readableBucket,
  type S3Context,
  sendEmpty,
  sendXml,
  servedBucket,
  storedChecksum,
} from "./context.ts";
import { S3Error, toS3Error } from "./errors.ts";
import { contentRange, parseRange } from "./range.ts";
import {
  checksumClaims,
  contentHeaders,
  header,
  requestBody,
  tagging,
  userMetadata,
  verifyBody,
} from "./request.ts";
import { childrenNamed, childText, element, parseXml, S3_NAMESPACE, XmlError } from "./xml.ts";

/**
 * Object operations: GetObject and HeadObject (ranges, part numbers, conditions, checksum
 * mode, response overrides), PutObject (streamed, every checksum verified, conditional writes),
 * CopyObject (copy-source conditions, metadata and tagging directives), DeleteObject and
 * DeleteObjects.
 */

/** Version ids the local buckets give out; anything else is not a version id at all. */
const VERSION_ID = /^[A-Za-z0-9_-]{22}$/;

function versionOf(ctx: S3Context): { versionId?: string } {
  const versionId = ctx.target.query.get("versionId");
  if (versionId === null || versionId === "null") return {};
  if (!VERSION_ID.test(versionId))
    throw new S3Error("InvalidArgument", "Invalid version id specified", {
      ArgumentName: "versionId",
      ArgumentValue: versionId,
    });
  return { versionId };
}

/** The headers S3 sends with an object (GetObject, HeadObject). */
function objectHeaders(meta: StoredObjectMeta): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    "accept-ranges": "bytes",
    "content-type": meta.contentType ?? "binary/octet-stream",
    etag: meta.etag,
    "last-modified": httpDate(meta.lastModified),
    "x-amz-version-id": meta.versionId,
    "x-amz-server-side-encryption": "AES256",
  };
  const content: [keyof ContentHeaders, string][] = [
    ["contentEncoding", "content-encoding"],
    ["contentDisposition", "content-disposition"],
    ["contentLanguage", "content-language"],
    ["cacheControl", "cache-control"],
    ["expires", "expires"],
  ];
  for (const [field, name] of content) {
    const value = meta[field];
    if (value !== undefined) headers[name] = value;
  }
  for (const [name, value] of Object.entries(meta.metadata)) headers[`x-amz-meta-${name}`] = value;
  const tags = Object.keys(meta.tags).length;
  if (tags > 0) headers["x-amz-tagging-count"] = tags;
  return headers;
}

const OVERRIDES: [string, string][] = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

export async function getObject(ctx: S3Context, head: boolean): Promise<void> {
  const bucket = readableBucket(ctx, ctx.target.key);
  const { req, res, target } = ctx;
  const partParam = target.query.get("partNumber");
  const rangeHeader = header(req, "range");
  if (partParam !== null && rangeHeader !== undefined)
    throw new S3Error(
      "InvalidRequest",
      "Cannot specify both Range header and partNumber query parameter",
    );
  const partNumber = partParam === null ? undefined : Number(partParam);
  if (
    partNumber !== undefined &&
    (!/^\d+$/.test(partParam ?? "") || partNumber < 1 || partNumber > MAX_PART_NUMBER)
  ) {
    throw new S3Error(
      "InvalidArgument",
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
      { ArgumentName: "partNumber", ArgumentValue: String(partParam) },
    );
  }
  const opened = await ctx.buckets.open({ bucket, key: target.key, ...versionOf(ctx) });
  if (!opened)
    throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: target.key });
  let streamed = false;
  try {
    const { meta } = opened;
    const conditions = evaluateConditions(
      {
        ifMatch: header(req, "if-match"),
        ifNoneMatch: header(req, "if-none-match"),
        ifModifiedSince: header(req, "if-modified-since"),
        ifUnmodifiedSince: header(req, "if-unmodified-since"),
      },
      meta,
    );
    if (conditions.status === 304) {
      sendEmpty(res, 304, {
        etag: meta.etag,
        "last-modified": httpDate(meta.lastModified),
        "x-amz-version-id": meta.versionId,
      });
      return;
    }
    if (conditions.status === 412)
      throw new S3Error("PreconditionFailed", undefined, { Condition: conditions.condition });

    const headers = objectHeaders(meta);
    let status = 200;
    let range: { start: number; end: number } | undefined;
    const wantChecksum = (header(req, "x-amz-checksum-mode") ?? "").toUpperCase() === "ENABLED";
    if (partNumber !== undefined) {
      const parts = meta.parts ?? [{ size: meta.size }];
      const part = parts[partNumber - 1];
      if (!part)
        throw new S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", {
          PartNumberRequested: String(partNumber),
          ActualPartCount: String(parts.length),
        });
      const start = parts.slice(0, partNumber - 1).reduce((sum, p) => sum + p.size, 0);
      if (part.size > 0) {
        range = { start, end: start + part.size - 1 };
        status = 206;
      }
      if (meta.parts) headers["x-amz-mp-parts-count"] = meta.parts.length;
      if (wantChecksum) {
        const checksum = storedChecksum(meta);
        if (checksum.type === "COMPOSITE" && part.checksum) {
          headers[`x-amz-checksum-${checksum.algorithm.toLowerCase()}`] = part.checksum;
          headers["x-amz-checksum-type"] = "COMPOSITE";
        } else if (!meta.parts) Object.assign(headers, checksumHeaders(meta));
      }
    } else {
      const parsed = parseRange(rangeHeader, meta.size);
      if (parsed.kind === "unsatisfiable") {
        throw new S3Error("InvalidRange", "The requested range is not satisfiable", {
          RangeRequested: rangeHeader ?? "",
          ActualObjectSize: String(meta.size),
        });
      }
      if (parsed.kind === "range") {
        range = { start: parsed.start, end: parsed.end };
        status = 206;
      } else if (wantChecksum) {
        // A checksum covers the whole object: S3 sends none with a range.
        Object.assign(headers, checksumHeaders(meta));
      }
    }
    if (range) {
      headers["content-range"] = contentRange(range.start, range.end, meta.size);
      headers["content-length"] = range.end - range.start + 1;
    } else headers["content-length"] = meta.size;
    for (const [param, name] of OVERRIDES) {
      const value = target.query.get(param);
      if (value !== null) headers[name] = value;
    }
    res.writeHead(status, headers);
    if (head || headers["content-length"] === 0) {
      res.end();
      return;
    }
    streamed = true;
    await sendBytes(opened, range, res);
  } finally {
    if (!streamed) await opened.close();
  }
}

async function sendBytes(
  opened: OpenedObject,
  range: { start: number; end: number } | undefined,
  res: S3Context["res"],
): Promise<void> {
  try {
    await pipeline(opened.stream(range), res);
  } catch {
    // The client went away, or the file could not be read: nothing more can be said on this
    // response (its headers are out); cut it so the client sees a short body, not a whole one.
    res.destroy();
  }
}

/** Headers S3 honours that the local buckets cannot: refused rather than silently dropped. */
export function refuseUnsupported(req: IncomingMessage): void {
  const storageClass = header(req, "x-amz-storage-class");
  if (storageClass !== undefined && storageClass !== "STANDARD")
    throw new S3Error(
      "NotImplemented",
      `The local buckets keep every object in the STANDARD storage class, not ${storageClass}`,
      { Header: "x-amz-storage-class" },
    );
  const sse = header(req, "x-amz-server-side-encryption");
  if (sse !== undefined && sse !== "AES256")
    throw new S3Error("NotImplemented", `Server-side encryption ${sse} is not served locally`, {
      Header: "x-amz-server-side-encryption",
    });
  for (const name of Object.keys(req.headers)) {
    if (
      name.startsWith("x-amz-server-side-encryption-customer-") ||
      name.startsWith("x-amz-copy-source-server-side-encryption-customer-") ||
      name.startsWith("x-amz-object-lock-") ||
      name === "x-amz-website-redirect-location" ||
      name === "x-amz-server-side-encryption-aws-kms-key-id"
    ) {
      throw new S3Error("NotImplemented", `${name} is not served locally`, { Header: name });
    }
    if (name.startsWith("x-amz-grant-"))
      throw new S3Error("AccessControlListNotSupported", "The bucket does not allow ACLs");
  }
  const acl = header(req, "x-amz-acl");
  if (acl !== undefined && acl !== "private" && acl !== "bucket-owner-full-control")
    throw new S3Error("AccessControlListNotSupported", "The bucket does not allow ACLs");
}

/** If-None-Match (only `*`) and If-Match on a write. */
export function writeConditions(req: IncomingMessage): { ifNoneMatch?: "*"; ifMatch?: string } {
  const ifNoneMatch = header(req, "if-none-match");
  const ifMatch = header(req, "if-match");
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*")
    throw new S3Error(
      "NotImplemented",
      "A header you provided implies functionality that is not implemented",
      { Header: "If-None-Match" },
    );
  return {
    ...(ifNoneMatch !== undefined ? { ifNoneMatch: "*" as const } : {}),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
  };
}

export async function putObject(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res, target } = ctx;
  refuseUnsupported(req);
  const claims = checksumClaims(req);
  const metadata = userMetadata(req);
  const tags = tagging(header(req, "x-amz-tagging"));
  const conditions = writeConditions(req);
  const body = requestBody(req, MAX_SINGLE_UPLOAD_BYTES, { requireLength: true });
  const meta = await ctx.buckets.write({ bucket, key: target.key }, body.source, {
    metadata,
    tags,
    content: contentHeaders(req),
    ...conditions,
    ...(claims.algorithm ? { checksumAlgorithm: claims.algorithm } : {}),
    maxBytes: MAX_SINGLE_UPLOAD_BYTES,
    verify: (digests) => verifyBody(body, claims, digests),
  });
  sendEmpty(res, 200, {
    etag: meta.etag,
    "x-amz-version-id": meta.versionId,
    "x-amz-server-side-encryption": "AES256",
    ...checksumHeaders(meta),
  });
}

/** `x-amz-copy-source`: `[/]<bucket>/<url-encoded key>[?versionId=<id>]`. */
export function parseCopySource(value: string): {
  bucket: string;
  key: string;
  versionId?: string;
} {
  let source = value.trim();
  let versionId: string | undefined;
  const marker = source.indexOf("?versionId=");
  if (marker >= 0) {
    versionId = source.slice(marker + "?versionId=".length);
    source = source.slice(0, marker);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(source);
  } catch {
    throw new S3Error("InvalidArgument", "Invalid copy source encoding", {
      ArgumentName: "x-amz-copy-source",
      ArgumentValue: value,
    });
  }
  if (decoded.startsWith("/")) decoded = decoded.slice(1);
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1)
    throw new S3Error("InvalidArgument", "Invalid copy source object key", {
      ArgumentName: "x-amz-copy-source",
      ArgumentValue: value,
    });
  if (versionId !== undefined && !VERSION_ID.test(versionId))
    throw new S3Error("InvalidArgument", "Invalid version id specified", {
      ArgumentName: "x-amz-copy-source",
      ArgumentValue: value,
    });
  return {
    bucket: decoded.slice(0, slash),
    key: decoded.slice(slash + 1),
    ...(versionId ? { versionId } : {}),
  };
}

/** Opens the copy source, checked against the x-amz-copy-source-if-* conditions. */
export async function openCopySource(ctx: S3Context): Promise<{
  opened: OpenedObject;
  source: { bucket: string; key: string; versionId?: string };
}> {
  const source = parseCopySource(header(ctx.req, "x-amz-copy-source") ?? "");
  servedBucket(ctx, source.bucket);
  const opened = await ctx.buckets.open(source);
  if (!opened)
    throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: source.key });
  const result = evaluateConditions(
    {
      ifMatch: header(ctx.req, "x-amz-copy-source-if-match"),
      ifNoneMatch: header(ctx.req, "x-amz-copy-source-if-none-match"),
      ifModifiedSince: header(ctx.req, "x-amz-copy-source-if-modified-since"),
      ifUnmodifiedSince: header(ctx.req, "x-amz-copy-source-if-unmodified-since"),
    },
    opened.meta,
    { copySource: true },
  );
  if (result.status !== 200) {
    await opened.close();
    throw new S3Error("PreconditionFailed", undefined, { Condition: result.condition });
  }
  return { opened, source };
}

function directive(ctx: S3Context, name: string): "COPY" | "REPLACE" {
  const value = (header(ctx.req, name) ?? "COPY").toUpperCase();
  if (value !== "COPY" && value !== "REPLACE")
    throw new S3Error("InvalidArgument", `Unknown ${name}.`, {
      ArgumentName: name,
      ArgumentValue: value,
    });
  return value;
}

export async function copyObject(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res, target } = ctx;
  refuseUnsupported(req);
  const metadataDirective = directive(ctx, "x-amz-metadata-directive");
  const taggingDirective = directive(ctx, "x-amz-tagging-directive");
  const requestedAlgorithm = header(req, "x-amz-checksum-algorithm");
  const algorithm: ChecksumAlgorithm | undefined =
    requestedAlgorithm === undefined ? undefined : checksumAlgorithmOf(requestedAlgorithm);
  if (requestedAlgorithm !== undefined && !algorithm)
    throw new S3Error("InvalidRequest", "Checksum algorithm provided is unsupported.");
  const conditions = writeConditions(req);
  const metadata = metadataDirective === "REPLACE" ? userMetadata(req) : undefined;
  const content = metadataDirective === "REPLACE" ? contentHeaders(req) : undefined;
  const tags = taggingDirective === "REPLACE" ? tagging(header(req, "x-amz-tagging")) : undefined;

  const { opened, source } = await openCopySource(ctx);
  let streamed = false;
  try {
    const from = opened.meta;
    const sourceChecksum = storedChecksum(from);
    if (
      source.bucket === bucket &&
      source.key === target.key &&
      metadataDirective === "COPY" &&
      !algorithm &&
      header(req, "x-amz-storage-class") === undefined
    ) {
      throw new S3Error(
        "InvalidRequest",
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const keptContent: ContentHeaders = {
      ...(from.contentType ? { contentType: from.contentType } : {}),
      ...(from.contentEncoding ? { contentEncoding: from.contentEncoding } : {}),
      ...(from.contentDisposition ? { contentDisposition: from.contentDisposition } : {}),
      ...(from.contentLanguage ? { contentLanguage: from.contentLanguage } : {}),
      ...(from.cacheControl ? { cacheControl: from.cacheControl } : {}),
      ...(from.expires ? { expires: from.expires } : {}),
    };
    streamed = true;
    const bytes = opened.stream();
    // The copy is one object: its ETag is its MD5 and its checksum a full-object one, in the
    // algorithm asked for or the source's (S3 copies the source's checksum algorithm).
    const meta = await ctx.buckets
      .write({ bucket, key: target.key }, bytes, {
        metadata: metadata ?? from.metadata,
        tags: tags ?? from.tags,
        content: content ?? keptContent,
        ...conditions,
        checksumAlgorithm: algorithm ?? sourceChecksum.algorithm,
      })
      .catch((error: unknown) => {
        bytes.destroy(); // refused before reading it all: the source file is closed all the same
        throw error;
      });
    const checksum = storedChecksum(meta);
    sendXml(
      res,
      200,
      `<CopyObjectResult xmlns="${S3_NAMESPACE}">${element("LastModified", isoSeconds(meta.lastModified))}${element("ETag", meta.etag)}${element(checksumElementName(checksum.algorithm), checksum.value)}${element("ChecksumType", checksum.type)}</CopyObjectResult>`,
      {
        "x-amz-version-id": meta.versionId,
        "x-amz-copy-source-version-id": from.versionId,
        "x-amz-server-side-encryption": "AES256",
      },
    );
  } finally {
    if (!streamed) await opened.close();
  }
}

export async function deleteObject(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res, target } = ctx;
  const version = versionOf(ctx);
  const ifMatch = header(req, "if-match");
  if (version.versionId) {
    // One version is kept per key: deleting it deletes the object; another id is a no-op, as
    // deleting a version that does not exist is in S3.
    const current = await ctx.buckets.meta({ bucket, key: target.key });
    if (!current || current.versionId !== version.versionId) {
      sendEmpty(res, 204, { "x-amz-version-id": version.versionId });
      return;
    }
  }
  await ctx.buckets.deleteObject(
    { bucket, key: target.key },
    ifMatch !== undefined ? { ifMatch } : {},
  );
  sendEmpty(res, 204, version.versionId ? { "x-amz-version-id": version.versionId } : {});
}

/** Collects a small request body (XML documents), bounded. */
export async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  // Read to the end even when too large, so the client sees the error instead of a reset.
  const read = await readLimitedBody(req, limit);
  if (!read.ok) throw new S3Error("MalformedXML", "The XML you provided was too large");
  return read.body;
}

/** DeleteObjects (`POST /<bucket>?delete`): up to 1,000 keys, Content-MD5 or a checksum required. */
export async function deleteObjects(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res } = ctx;
  const claims = checksumClaims(req);
  if (claims.contentMd5 === undefined && !claims.algorithm)
    throw new S3Error("InvalidRequest", "Missing required header for this request: Content-MD5");
  const raw = await readSmallBody(req, 2 * 1024 * 1024);
  const digests = new ObjectDigests(claims.algorithm ? [claims.algorithm] : []);
  digests.update(raw);
  verifyBody({ trailers: {} }, claims, await digests.finish());
  let keys: { key: string; versionId?: string }[];
  let quiet: boolean;
  try {
    const root = parseXml(raw.toString("utf8"));
    if (root.name !== "Delete") throw new XmlError("not a Delete document");
    quiet = (childText(root, "Quiet") ?? "false").trim() === "true";
    keys = childrenNamed(root, "Object").map((object) => {
      const key = childText(object, "Key");
      if (key === undefined || key === "") throw new XmlError("an Object without a Key");
      const versionId = childText(object, "VersionId");
      return versionId ? { key, versionId } : { key };
    });
  } catch (error) {
    if (error instanceof XmlError) throw new S3Error("MalformedXML");
    throw error;
  }
  if (keys.length === 0 || keys.length > 1000) throw new S3Error("MalformedXML");
  const results: string[] = [];
  for (const { key, versionId } of keys) {
    try {
      if (versionId) {
        const current = await ctx.buckets.meta({ bucket, key });
        if (current && current.versionId === versionId)
          await ctx.buckets.deleteObject({ bucket, key });
      } else await ctx.buckets.deleteObject({ bucket, key });
      if (!quiet)
        results.push(`<Deleted>${element("Key", key)}${element("VersionId", versionId)}</Deleted>`);
    } catch (error) {
      const failure = toS3Error(error);
      results.push(
        `<Error>${element("Key", key)}${element("VersionId", versionId)}${element("Code", failure.code)}${element("Message", failure.message)}</Error>`,
      );
    }
  }
  sendXml(res, 200, `<DeleteResult xmlns="${S3_NAMESPACE}">${results.join("")}</DeleteResult>`);
}
