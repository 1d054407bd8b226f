import type { IncomingMessage, ServerResponse } from "node:http";
import type { LocalBuckets } from "../../world/buckets.ts";
import { checksumHeader } from "../../world/checksums.ts";
import type { StoredObjectMeta } from "../../world/object-meta.ts";
import { S3Error } from "./errors.ts";
import type { S3Target } from "./request.ts";
import { XML_DECLARATION } from "./xml.ts";

/** One S3 request being answered. */
export interface S3Context {
  readonly buckets: LocalBuckets;
  /** The buckets this endpoint serves (the artifact buckets). */
  readonly exposed: ReadonlySet<string>;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly target: S3Target;
}

/** The account the local endpoint stands for, and its canonical user id in listings. */
export const LOCAL_ACCOUNT = "000000000000";
export const OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
export const OWNER_XML = `<Owner><ID>${OWNER_ID}</ID><DisplayName>gantry-local</DisplayName></Owner>`;

/** S3's limit on one PutObject or UploadPart: 5 GiB. */
export const MAX_SINGLE_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024;

export function sendXml(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string | number> = {},
): void {
  const text = `${XML_DECLARATION}${body}`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, { "content-length": 0, ...headers });
  res.end();
}

/** The bucket the request names, if this endpoint serves it (NoSuchBucket / AccessDenied if not). */
export function servedBucket(ctx: S3Context, bucket = ctx.target.bucket): string {
  if (ctx.exposed.has(bucket) && ctx.buckets.hasBucket(bucket)) return bucket;
  // Gantry's state buckets exist, but in AWS only Gantry's functions may read them.
  if (ctx.buckets.hasBucket(bucket)) throw new S3Error("AccessDenied", "Access Denied");
  throw new S3Error("NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket });
}

/**
 * The one part of a state bucket an operator may read, as in AWS (an operator's IAM read on
 * `deployments/*`): the deployment records `gantry provenance` shows. They carry no secret
 * (no ID token, no task token); locks, approvals and tokens stay AccessDenied.
 */
export const READABLE_STATE_PREFIX = "deployments/";

/**
 * The bucket of a read (GetObject, HeadObject, a listing): a served bucket, or a state bucket
 * when every key read lies under {@link READABLE_STATE_PREFIX}.
 */
export function readableBucket(ctx: S3Context, keyOrPrefix: string): string {
  const bucket = ctx.target.bucket;
  if (
    !ctx.exposed.has(bucket) &&
    ctx.buckets.hasBucket(bucket) &&
    keyOrPrefix.startsWith(READABLE_STATE_PREFIX)
  )
    return bucket;
  return servedBucket(ctx, bucket);
}

/** S3 keeps times to the second: `2026-11-30T14:54:26.000Z`. */
export function isoSeconds(iso: string): string {
  return new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString();
}

export function httpDate(iso: string): string {
  return new Date(Date.parse(iso)).toUTCString();
}

/** The checksum S3 keeps for an object (SHA-256 for metadata written before checksums were kept). */
export function storedChecksum(meta: StoredObjectMeta) {
  return (
    meta.checksum ?? {
      algorithm: "SHA256" as const,
      value: Buffer.from(meta.sha256, "hex").toString("base64"),
      type: "FULL_OBJECT" as const,
    }
  );
}

/** `x-amz-checksum-<algorithm>` and `x-amz-checksum-type` for an object's stored checksum. */
export function checksumHeaders(meta: StoredObjectMeta): Record<string, string> {
  const checksum = storedChecksum(meta);
  return {
    [checksumHeader(checksum.algorithm)]: checksum.value,
    "x-amz-checksum-type": checksum.type,
  };
}

/** `<ChecksumCRC32>...</ChecksumCRC32>` as S3 writes a checksum into XML. */
export function checksumElementName(algorithm: string): string {
  return `Checksum${algorithm}`;
}
