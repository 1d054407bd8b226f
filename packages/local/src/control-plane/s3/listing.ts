import { compareKeys } from "../../world/object-keys.ts";
import type { StoredObjectMeta } from "../../world/object-meta.ts";
import {
  isoSeconds,
  OWNER_XML,
  readableBucket,
  type S3Context,
  sendEmpty,
  sendXml,
  servedBucket,
  storedChecksum,
} from "./context.ts";
import { S3Error } from "./errors.ts";
import { element, S3_NAMESPACE } from "./xml.ts";

/**
 * Listing as S3 lists: ListObjectsV2 (prefix, delimiter and CommonPrefixes, max-keys,
 * continuation-token, start-after, fetch-owner, encoding-type=url), ListObjects (v1: marker),
 * ListBuckets, HeadBucket and GetBucketLocation. Keys come in the order of their UTF-8 bytes.
 */

/** One entry of a listing page: an object, or a common prefix standing for all keys under it. */
export type ListEntry =
  | { readonly kind: "object"; readonly key: string; readonly meta: StoredObjectMeta }
  | { readonly kind: "prefix"; readonly prefix: string };

export interface ListPage {
  readonly entries: ListEntry[];
  readonly truncated: boolean;
  /** The last key or prefix returned: where the next page starts after. */
  readonly last?: string;
}

/**
 * One page of a listing: the objects after `after` (skipping everything under it when it is a
 * common prefix), keys rolled up into common prefixes at the first delimiter after `prefix`,
 * at most `maxKeys` entries (objects and prefixes both count).
 */
export function listPage(
  objects: readonly { key: string; meta: StoredObjectMeta }[],
  options: { prefix: string; delimiter?: string; after?: string; maxKeys: number },
): ListPage {
  const { prefix, delimiter, after, maxKeys } = options;
  const entries: ListEntry[] = [];
  let lastPrefix: string | undefined;
  let truncated = false;
  for (const object of objects) {
    if (!object.key.startsWith(prefix)) continue;
    if (after !== undefined && compareKeys(object.key, after) <= 0) continue;
    // Resuming after a common prefix: everything under it was that one entry.
    if (
      after !== undefined &&
      delimiter &&
      after.endsWith(delimiter) &&
      object.key.startsWith(after)
    )
      continue;
    let entry: ListEntry = { kind: "object", key: object.key, meta: object.meta };
    if (delimiter) {
      const at = object.key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        const common = object.key.slice(0, at + delimiter.length);
        if (common === lastPrefix) continue;
        entry = { kind: "prefix", prefix: common };
      }
    }
    if (entries.length >= maxKeys) {
      truncated = maxKeys > 0;
      break;
    }
    entries.push(entry);
    if (entry.kind === "prefix") lastPrefix = entry.prefix;
  }
  const lastEntry = entries.at(-1);
  const last = lastEntry && (lastEntry.kind === "object" ? lastEntry.key : lastEntry.prefix);
  return { entries, truncated, ...(last !== undefined ? { last } : {}) };
}

/** S3's `encoding-type=url`: keys percent-encoded (botocore decodes them with unquote_plus). */
function encoder(ctx: S3Context): (text: string) => string {
  const encoding = ctx.target.query.get("encoding-type");
  if (encoding === null) return (text) => text;
  if (encoding !== "url")
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
      ArgumentName: "encoding-type",
      ArgumentValue: encoding,
    });
  return (text) => encodeURIComponent(text).replace(/%2F/g, "/");
}

function maxKeysOf(ctx: S3Context): number {
  const raw = ctx.target.query.get("max-keys");
  if (raw === null || raw === "") return 1000;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)))
    throw new S3Error(
      "InvalidArgument",
      "Provided max-keys not an integer or within integer range",
      {
        ArgumentName: "max-keys",
        ArgumentValue: raw,
      },
    );
  return Math.min(Number(raw), 1000);
}

function contents(
  entry: Extract<ListEntry, { kind: "object" }>,
  encode: (text: string) => string,
  owner: boolean,
): string {
  const { meta } = entry;
  const checksum = storedChecksum(meta);
  return `<Contents>${element("Key", encode(entry.key))}${element("LastModified", isoSeconds(meta.lastModified))}${element("ETag", meta.etag)}${element("ChecksumAlgorithm", checksum.algorithm)}${element("ChecksumType", checksum.type)}${element("Size", meta.size)}${owner ? OWNER_XML : ""}${element("StorageClass", "STANDARD")}</Contents>`;
}

function entriesXml(page: ListPage, encode: (text: string) => string, owner: boolean): string {
  const objects = page.entries
    .filter((e): e is Extract<ListEntry, { kind: "object" }> => e.kind === "object")
    .map((e) => contents(e, encode, owner))
    .join("");
  const prefixes = page.entries
    .filter((e): e is Extract<ListEntry, { kind: "prefix" }> => e.kind === "prefix")
    .map((e) => `<CommonPrefixes>${element("Prefix", encode(e.prefix))}</CommonPrefixes>`)
    .join("");
  return objects + prefixes;
}

/** Continuation tokens are opaque to clients: the last key or prefix returned, wrapped. */
export function continuationToken(last: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: last })).toString("base64url");
}

export function readContinuationToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      v?: unknown;
      after?: unknown;
    };
    if (parsed.v === 1 && typeof parsed.after === "string" && parsed.after !== "")
      return parsed.after;
  } catch {
    // fall through
  }
  throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", {
    ArgumentName: "continuation-token",
    ArgumentValue: token,
  });
}

export async function listObjectsV2(ctx: S3Context): Promise<void> {
  const bucket = readableBucket(ctx, ctx.target.query.get("prefix") ?? "");
  const { query } = ctx.target;
  const listType = query.get("list-type");
  if (listType !== "2")
    throw new S3Error("InvalidArgument", "Invalid List Type specified in Request", {
      ArgumentName: "list-type",
      ArgumentValue: String(listType),
    });
  const encode = encoder(ctx);
  const maxKeys = maxKeysOf(ctx);
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") || undefined;
  const token = query.get("continuation-token");
  const startAfter = query.get("start-after") ?? undefined;
  if (token === "")
    throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", {
      ArgumentName: "continuation-token",
    });
  const after = token !== null ? readContinuationToken(token) : startAfter || undefined;
  const fetchOwner = query.get("fetch-owner") === "true";
  const page = listPage(await ctx.buckets.listObjects(bucket, prefix), {
    prefix,
    maxKeys,
    ...(delimiter ? { delimiter } : {}),
    ...(after !== undefined ? { after } : {}),
  });
  sendXml(
    ctx.res,
    200,
    `<ListBucketResult xmlns="${S3_NAMESPACE}">${element("Name", bucket)}${element("Prefix", encode(prefix))}${delimiter ? element("Delimiter", encode(delimiter)) : ""}${element("MaxKeys", maxKeys)}${query.has("encoding-type") ? element("EncodingType", "url") : ""}${element("KeyCount", page.entries.length)}${element("IsTruncated", page.truncated)}${token !== null ? element("ContinuationToken", token) : ""}${page.truncated && page.last ? element("NextContinuationToken", continuationToken(page.last)) : ""}${startAfter ? element("StartAfter", encode(startAfter)) : ""}${entriesXml(page, encode, fetchOwner)}</ListBucketResult>`,
  );
}

/** ListObjects (version 1): `marker`, and NextMarker when a delimiter is used. */
export async function listObjectsV1(ctx: S3Context): Promise<void> {
  const bucket = readableBucket(ctx, ctx.target.query.get("prefix") ?? "");
  const { query } = ctx.target;
  const encode = encoder(ctx);
  const maxKeys = maxKeysOf(ctx);
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") || undefined;
  const marker = query.get("marker") ?? "";
  const page = listPage(await ctx.buckets.listObjects(bucket, prefix), {
    prefix,
    maxKeys,
    ...(delimiter ? { delimiter } : {}),
    ...(marker ? { after: marker } : {}),
  });
  sendXml(
    ctx.res,
    200,
    `<ListBucketResult xmlns="${S3_NAMESPACE}">${element("Name", bucket)}${element("Prefix", encode(prefix))}${element("Marker", encode(marker))}${element("MaxKeys", maxKeys)}${delimiter ? element("Delimiter", encode(delimiter)) : ""}${query.has("encoding-type") ? element("EncodingType", "url") : ""}${element("IsTruncated", page.truncated)}${page.truncated && delimiter && page.last ? element("NextMarker", encode(page.last)) : ""}${entriesXml(page, encode, true)}</ListBucketResult>`,
  );
}

export function listBuckets(ctx: S3Context): void {
  const buckets = [...ctx.exposed]
    .filter((b) => ctx.buckets.hasBucket(b))
    .sort()
    .map((name) => {
      const created = ctx.buckets.bucketCreated(name);
      return `<Bucket>${element("Name", name)}${element("CreationDate", isoSeconds(created))}${element("BucketRegion", "us-east-1")}</Bucket>`;
    })
    .join("");
  sendXml(
    ctx.res,
    200,
    `<ListAllMyBucketsResult xmlns="${S3_NAMESPACE}">${OWNER_XML}<Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
  );
}

export function headBucket(ctx: S3Context): void {
  servedBucket(ctx);
  sendEmpty(ctx.res, 200, {
    "x-amz-bucket-region": "us-east-1",
    "x-amz-access-point-alias": "false",
  });
}

export function getBucketLocation(ctx: S3Context): void {
  servedBucket(ctx);
  // us-east-1 is the empty LocationConstraint.
  sendXml(ctx.res, 200, `<LocationConstraint xmlns="${S3_NAMESPACE}"/>`);
}
