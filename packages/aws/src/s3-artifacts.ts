import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import {
  ArtifactChecksumMismatch,
  type ArtifactStore,
  base64ToHex,
  type CopyOptions,
  type ObjectInfo,
  type ObjectRef,
} from "@gantry/core";
import { aws, errorName, httpStatusOf } from "./errors.ts";

/** S3 refuses single-request copies above 5 GiB. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
const DEFAULT_PART_BYTES = 512 * 1024 ** 2;

export interface S3ArtifactStoreOptions {
  /** Copies larger than this use multipart UploadPartCopy (tests lower it). */
  readonly multipartThreshold?: number;
  readonly partSize?: number;
}

/**
 * Artifact buckets on S3. Copies are server-side (no bytes pass through the Lambda) and ask S3 to
 * compute a SHA-256 of the result, which the copy step compares with the requested digest.
 *
 * @example
 * ```ts
 * const artifacts = new S3ArtifactStore(new S3Client({}));
 * const head = await artifacts.head({ bucket: "acme-artifacts-preprod", key: "hello-service/3f2a9c1.zip" });
 * ```
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly #s3: S3Client;
  readonly #threshold: number;
  readonly #partSize: number;

  constructor(s3: S3Client, options: S3ArtifactStoreOptions = {}) {
    this.#s3 = s3;
    this.#threshold = options.multipartThreshold ?? MAX_SINGLE_COPY_BYTES;
    this.#partSize = options.partSize ?? DEFAULT_PART_BYTES;
  }

  async head(ref: ObjectRef): Promise<ObjectInfo | undefined> {
    try {
      const out = await aws("HeadObject", () =>
        this.#s3.send(
          new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, ChecksumMode: "ENABLED" }),
        ),
      );
      const etag = out.ETag ?? "";
      return {
        bucket: ref.bucket,
        key: ref.key,
        size: out.ContentLength ?? 0,
        ...fullObjectSha256(out.ChecksumSHA256, etag, out.ChecksumType),
        etag,
        ...(out.VersionId && out.VersionId !== "null" ? { versionId: out.VersionId } : {}),
        metadata: out.Metadata ?? {},
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async copy(source: ObjectInfo, to: ObjectRef, options: CopyOptions): Promise<ObjectInfo> {
    if (source.size > this.#threshold) return this.#multipartCopy(source, to, options);
    const out = await sourceUnchanged(source, "CopyObject", () =>
      this.#s3.send(
        new CopyObjectCommand({
          Bucket: to.bucket,
          Key: to.key,
          CopySource: copySource(source),
          CopySourceIfMatch: source.etag,
          ChecksumAlgorithm: "SHA256",
          MetadataDirective: "REPLACE",
          Metadata: { ...options.metadata },
          TaggingDirective: "REPLACE",
          Tagging: new URLSearchParams(options.tags).toString(),
        }),
      ),
    );
    const sha256 = out.CopyObjectResult?.ChecksumSHA256
      ? base64ToHex(out.CopyObjectResult.ChecksumSHA256)
      : undefined;
    return {
      bucket: to.bucket,
      key: to.key,
      size: source.size,
      ...(sha256 ? { sha256 } : {}),
      etag: out.CopyObjectResult?.ETag ?? "",
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      metadata: options.metadata,
    };
  }

  /**
   * Above 5 GiB S3 can only copy in parts, and the result carries a composite checksum, not a
   * full-object SHA-256. S3 checks each part's integrity; the end-to-end proof is Lambda's
   * CodeSha256 at Deploy. (Lambda packages are far below this size in practice.)
   */
  async #multipartCopy(
    source: ObjectInfo,
    to: ObjectRef,
    options: CopyOptions,
  ): Promise<ObjectInfo> {
    const created = await aws("CreateMultipartUpload", () =>
      this.#s3.send(
        new CreateMultipartUploadCommand({
          Bucket: to.bucket,
          Key: to.key,
          ChecksumAlgorithm: "SHA256",
          Metadata: { ...options.metadata },
          Tagging: new URLSearchParams(options.tags).toString(),
        }),
      ),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error("CreateMultipartUpload returned no UploadId");
    try {
      const parts: { PartNumber: number; ETag: string; ChecksumSHA256?: string }[] = [];
      for (let start = 0, part = 1; start < source.size; start += this.#partSize, part++) {
        const end = Math.min(start + this.#partSize, source.size) - 1;
        const out = await sourceUnchanged(source, "UploadPartCopy", () =>
          this.#s3.send(
            new UploadPartCopyCommand({
              Bucket: to.bucket,
              Key: to.key,
              UploadId: uploadId,
              PartNumber: part,
              CopySource: copySource(source),
              CopySourceIfMatch: source.etag,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          ),
        );
        parts.push({
          PartNumber: part,
          ETag: out.CopyPartResult?.ETag ?? "",
          ...(out.CopyPartResult?.ChecksumSHA256
            ? { ChecksumSHA256: out.CopyPartResult.ChecksumSHA256 }
            : {}),
        });
      }
      const done = await aws("CompleteMultipartUpload", () =>
        this.#s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: to.bucket,
            Key: to.key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        ),
      );
      const copied = await this.head(to);
      if (!copied || copied.size !== source.size) {
        throw new Error(`multipart copy to s3://${to.bucket}/${to.key} has the wrong size`);
      }
      return {
        ...copied,
        // Composite checksum: vouch for the digest only because the source's full-object
        // SHA-256 is the requested one, every part copied from that exact source version
        // (CopySourceIfMatch) and the sizes agree. Otherwise claim no digest at all.
        ...(source.sha256 === options.sha256 ? { sha256: options.sha256 } : {}),
        ...(done.VersionId ? { versionId: done.VersionId } : {}),
      };
    } catch (error) {
      await this.#s3
        .send(
          new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId: uploadId }),
        )
        .catch(() => undefined);
      throw error;
    }
  }

  async readJson<T>(ref: ObjectRef): Promise<T | undefined> {
    try {
      const out = await aws("GetObject", () =>
        this.#s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key })),
      );
      const text = (await out.Body?.transformToString("utf8")) ?? "";
      return JSON.parse(text) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async writeJsonIfAbsent(ref: ObjectRef, value: unknown): Promise<boolean> {
    try {
      await aws("PutObject", () =>
        this.#s3.send(
          new PutObjectCommand({
            Bucket: ref.bucket,
            Key: ref.key,
            Body: JSON.stringify(value),
            ContentType: "application/json",
            IfNoneMatch: "*",
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }
}

/**
 * Runs a copy conditional on the source's ETag (CopySourceIfMatch). S3 answers 412 when the
 * object was replaced since it was verified: that is ArtifactChecksumMismatch, not a retry.
 */
async function sourceUnchanged<T>(
  source: ObjectInfo,
  operation: string,
  send: () => Promise<T>,
): Promise<T> {
  try {
    return await aws(operation, send);
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
    throw new ArtifactChecksumMismatch(
      `s3://${source.bucket}/${source.key} changed after it was verified (ETag ${source.etag}); nothing was copied`,
      { cause: error },
    );
  }
}

/** The `bucket/key?versionId=` form CopySource wants, with the key URL-encoded per segment. */
function copySource(source: ObjectInfo): string {
  const key = source.key.split("/").map(encodeURIComponent).join("/");
  return `${source.bucket}/${key}${source.versionId ? `?versionId=${encodeURIComponent(source.versionId)}` : ""}`;
}

/**
 * A full-object SHA-256 only. Multipart objects (ETag with a `-`) carry a checksum of checksums
 * even when the value looks like a plain digest, so it is never reported as the object's hash.
 */
function fullObjectSha256(
  checksum: string | undefined,
  etag: string,
  type: string | undefined,
): { sha256?: string } {
  if (!checksum || type === "COMPOSITE" || etag.includes("-")) return {};
  const sha256 = base64ToHex(checksum);
  return sha256 ? { sha256 } : {};
}

export function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === "NoSuchBucket") return false; // a missing bucket is a configuration problem
  return name === "NotFound" || name === "NoSuchKey" || httpStatusOf(error) === 404;
}

export function isPreconditionFailed(error: unknown): boolean {
  return errorName(error) === "PreconditionFailed" || httpStatusOf(error) === 412;
}
