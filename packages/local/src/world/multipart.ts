import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ObjectRef } from "@gantry/core";
import { DamagedFileError, readSealedJson, writeSealedJson } from "../storage/durable-file.ts";
import { BucketError } from "./bucket-errors.ts";
import { PRIVATE_DIR, PRIVATE_FILE } from "./bucket-files.ts";
import type { LocalBuckets } from "./buckets.ts";
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  compositeChecksum,
  type FinishedDigests,
  multipartEtag,
  type StoredChecksum,
} from "./checksums.ts";
import type { CommitConditions } from "./object-conditions.ts";
import { keySegments } from "./object-keys.ts";
import { type ContentHeaders, newVersionId, type StoredObjectMeta } from "./object-meta.ts";

/**
 * Multipart uploads, as S3 runs them: parts are streamed to disk as they arrive (never held in
 * memory), each with its MD5 and, when the upload has one, its checksum; completing concatenates
 * the listed parts into a temporary file and commits it like any write, so the object appears
 * whole, atomically, under the conditions given. Its ETag is the MD5 of the parts' MD5s with
 * `-<parts>`, its checksum the composite one (checksum of the parts' checksums, `-<parts>`) or a
 * full-object one, as the upload asked.
 *
 *     <dir>/<bucket>/uploads/<upload id>/upload.json      key, metadata, content headers, checksum
 *     <dir>/<bucket>/uploads/<upload id>/parts/<n>.json   the part: size, ETag, checksum, file
 *     <dir>/<bucket>/uploads/<upload id>/parts/<n>.<id>   its bytes
 *
 * The records are written whole or not at all, with a checksum (storage/durable-file.ts). A
 * damaged upload record takes its upload to the quarantine (NoSuchUpload afterwards); a damaged
 * part record takes that part (InvalidPart if it is listed; the client uploads it again).
 */
export interface UploadRecord {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiated: string;
  readonly metadata: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly content: ContentHeaders;
  /** The checksum the upload was created with; none means S3's default (full-object CRC64NVME). */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly type: ChecksumType };
}

export interface PartRecord {
  readonly partNumber: number;
  readonly size: number;
  /** Quoted MD5 hex, as S3 gives a part's ETag. */
  readonly etag: string;
  readonly md5Hex: string;
  /** The part's checksum (base64) in the upload's algorithm. */
  readonly checksum?: string;
  readonly lastModified: string;
  /** The file holding the bytes, in the upload's parts directory. */
  readonly file: string;
}

/** A part as CompleteMultipartUpload lists it. */
export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
  /** Checksums the request states for the part, by algorithm (base64). */
  readonly checksums?: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface CreateUploadOptions {
  readonly metadata?: Record<string, string>;
  readonly tags?: Record<string, string>;
  readonly content?: ContentHeaders;
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly type: ChecksumType };
}

export interface CompleteOptions extends CommitConditions {
  /** A full-object checksum the request states (x-amz-checksum-<algorithm>), checked. */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly value: string };
}

/** S3's limits on parts. */
export const MAX_PART_NUMBER = 10_000;
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;

const UPLOAD_ID = /^[A-Za-z0-9_-]{16,128}$/;

export class MultipartUploads {
  readonly #dir: string;
  readonly #buckets: LocalBuckets;
  readonly #minPartBytes: number;
  /** Completions and aborts of one upload run one at a time. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(dir: string, buckets: LocalBuckets, options: { minPartBytes?: number } = {}) {
    this.#dir = dir;
    this.#buckets = buckets;
    this.#minPartBytes = options.minPartBytes ?? MIN_PART_BYTES;
  }

  async create(ref: ObjectRef, options: CreateUploadOptions = {}): Promise<UploadRecord> {
    keySegments(ref.key);
    if (!this.#buckets.hasBucket(ref.bucket))
      throw new BucketError("NoSuchBucket", "The specified bucket does not exist", {
        BucketName: ref.bucket,
      });
    const record: UploadRecord = {
      uploadId: newUploadId(),
      bucket: ref.bucket,
      key: ref.key,
      initiated: new Date().toISOString(),
      metadata: { ...options.metadata },
      tags: { ...options.tags },
      content: { ...options.content },
      ...(options.checksum ? { checksum: options.checksum } : {}),
    };
    const dir = this.#uploadDir(ref.bucket, record.uploadId);
    await mkdir(join(dir, "parts"), { recursive: true, mode: PRIVATE_DIR });
    writeSealedJson(join(dir, "upload.json"), record, PRIVATE_FILE);
    return record;
  }

  /** The upload, if it exists and is for this key; NoSuchUpload otherwise. */
  async get(ref: ObjectRef, uploadId: string): Promise<UploadRecord> {
    const record = this.#read(ref.bucket, uploadId);
    if (!record || record.key !== ref.key) throw noSuchUpload(uploadId);
    return record;
  }

  /**
   * Stores one part from a stream: hashed as it is written (MD5 and the upload's checksum
   * algorithm), verified by `verify`, then made the part with this number (replacing any
   * earlier one).
   */
  async uploadPart(
    ref: ObjectRef,
    uploadId: string,
    partNumber: number,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: {
      readonly maxBytes?: number;
      readonly algorithms?: readonly ChecksumAlgorithm[];
      readonly verify?: (digests: FinishedDigests) => void | Promise<void>;
    } = {},
  ): Promise<PartRecord> {
    const upload = await this.get(ref, uploadId);
    checkPartNumber(partNumber);
    const algorithms = new Set(options.algorithms ?? []);
    if (upload.checksum) algorithms.add(upload.checksum.algorithm);
    const staged = await this.#buckets.stage(
      ref.bucket,
      source,
      algorithms,
      options.maxBytes ?? MAX_PART_BYTES,
    );
    try {
      await options.verify?.(staged.digests);
      const partsDir = join(this.#uploadDir(ref.bucket, uploadId), "parts");
      const file = `${partNumber}.${randomBytes(8).toString("hex")}`;
      const checksum = upload.checksum && staged.digests.checksums[upload.checksum.algorithm];
      const part: PartRecord = {
        partNumber,
        size: staged.digests.size,
        etag: `"${staged.digests.md5Hex}"`,
        md5Hex: staged.digests.md5Hex,
        ...(checksum ? { checksum } : {}),
        lastModified: new Date().toISOString(),
        file,
      };
      try {
        await rename(staged.path, join(partsDir, file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") throw noSuchUpload(uploadId);
        throw error;
      }
      const metaFile = join(partsDir, `${partNumber}.json`);
      const previous = this.#readPart(metaFile);
      writeSealedJson(metaFile, part, PRIVATE_FILE);
      if (previous && previous.file !== file)
        await rm(join(partsDir, previous.file), { force: true });
      return part;
    } finally {
      await rm(staged.path, { force: true });
    }
  }

  /** The upload's parts, by part number. */
  async listParts(ref: ObjectRef, uploadId: string): Promise<PartRecord[]> {
    await this.get(ref, uploadId);
    const partsDir = join(this.#uploadDir(ref.bucket, uploadId), "parts");
    let names: string[];
    try {
      names = await readdir(partsDir);
    } catch {
      throw noSuchUpload(uploadId);
    }
    const parts: PartRecord[] = [];
    for (const name of names) {
      if (!/^\d+\.json$/.test(name)) continue;
      const part = this.#readPart(join(partsDir, name));
      if (part) parts.push(part);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** The uploads in progress in a bucket, by key then initiation time. */
  async list(bucket: string): Promise<UploadRecord[]> {
    let ids: string[];
    try {
      ids = await readdir(join(this.#dir, bucket, "uploads"));
    } catch {
      return [];
    }
    const records = ids
      .map((id) => this.#read(bucket, id))
      .filter((r): r is UploadRecord => r !== undefined);
    return records.sort((a, b) =>
      a.key === b.key ? a.initiated.localeCompare(b.initiated) : a.key < b.key ? -1 : 1,
    );
  }

  async abort(ref: ObjectRef, uploadId: string): Promise<void> {
    await this.#exclusive(uploadId, async () => {
      await this.get(ref, uploadId);
      await rm(this.#uploadDir(ref.bucket, uploadId), { recursive: true, force: true });
    });
  }

  /**
   * CompleteMultipartUpload: checks the listed parts against the stored ones (ascending, each
   * present with that ETag and checksum, all but the last at least 5 MiB), concatenates them
   * and commits the object under the conditions given. The upload is gone afterwards.
   */
  complete(
    ref: ObjectRef,
    uploadId: string,
    requested: readonly CompletedPart[],
    options: CompleteOptions = {},
  ): Promise<StoredObjectMeta> {
    return this.#exclusive(uploadId, async () => {
      const upload = await this.get(ref, uploadId);
      const stored = new Map(
        (await this.listParts(ref, uploadId)).map((part) => [part.partNumber, part]),
      );
      const parts = this.#checkCompletion(upload, requested, stored);
      // Fail fast on a condition that already fails (checked again, atomically, at the commit).
      const current = await this.#buckets.meta(ref);
      if (options.ifNoneMatch === "*" && current)
        throw new BucketError(
          "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
          { Condition: "If-None-Match" },
        );

      const algorithm = upload.checksum?.algorithm ?? "CRC64NVME";
      const type = upload.checksum?.type ?? "FULL_OBJECT";
      const partsDir = join(this.#uploadDir(ref.bucket, uploadId), "parts");
      const staged = await this.#buckets.stage(
        ref.bucket,
        concatenate(parts.map((p) => join(partsDir, p.file))),
        type === "FULL_OBJECT" ? [algorithm] : [],
      );
      try {
        let checksum: StoredChecksum;
        if (type === "COMPOSITE") {
          const value = await compositeChecksum(
            algorithm,
            parts.map((p) => p.checksum ?? ""),
          );
          checksum = { algorithm, value, type };
        } else {
          checksum = { algorithm, value: staged.digests.checksums[algorithm] ?? "", type };
        }
        if (options.checksum) checkStatedChecksum(options.checksum, checksum);
        const etag = multipartEtag(parts.map((p) => p.md5Hex));
        const meta = await this.#buckets.commit(ref, staged.path, options, () => ({
          sha256: staged.digests.sha256Hex,
          etag,
          versionId: newVersionId(),
          size: staged.digests.size,
          metadata: { ...upload.metadata },
          tags: { ...upload.tags },
          lastModified: new Date().toISOString(),
          ...upload.content,
          checksum,
          parts: parts.map((p) => ({
            size: p.size,
            ...(type === "COMPOSITE" && p.checksum ? { checksum: p.checksum } : {}),
          })),
        }));
        await rm(this.#uploadDir(ref.bucket, uploadId), { recursive: true, force: true });
        return meta;
      } finally {
        await rm(staged.path, { force: true });
      }
    });
  }

  #checkCompletion(
    upload: UploadRecord,
    requested: readonly CompletedPart[],
    stored: ReadonlyMap<number, PartRecord>,
  ): PartRecord[] {
    if (requested.length === 0) {
      throw new BucketError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
      );
    }
    const parts: PartRecord[] = [];
    let previous = 0;
    for (const want of requested) {
      if (want.partNumber <= previous) {
        throw new BucketError(
          "InvalidPartOrder",
          "The list of parts was not in ascending order. Parts must be ordered by part number.",
          { UploadId: upload.uploadId },
        );
      }
      previous = want.partNumber;
      const part = stored.get(want.partNumber);
      const invalid = () =>
        new BucketError(
          "InvalidPart",
          "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          {
            UploadId: upload.uploadId,
            PartNumber: String(want.partNumber),
            ETag: want.etag,
          },
        );
      if (!part || unquote(part.etag) !== unquote(want.etag)) throw invalid();
      for (const [algorithm, value] of Object.entries(want.checksums ?? {})) {
        if (upload.checksum?.algorithm !== algorithm) {
          throw new BucketError(
            "InvalidRequest",
            `The upload was created using ${upload.checksum ? `a ${upload.checksum.algorithm.toLowerCase()}` : "no"} checksum. The complete request referenced a ${algorithm.toLowerCase()} checksum for part ${want.partNumber}.`,
          );
        }
        if (value !== part.checksum) throw invalid();
      }
      parts.push(part);
    }
    parts.forEach((part, index) => {
      if (index < parts.length - 1 && part.size < this.#minPartBytes) {
        throw new BucketError(
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed size",
          {
            ProposedSize: String(part.size),
            MinSizeAllowed: String(this.#minPartBytes),
            PartNumber: String(part.partNumber),
            ETag: part.etag,
          },
        );
      }
    });
    return parts;
  }

  /** The upload's record; a damaged one takes the whole upload to the quarantine. */
  #read(bucket: string, uploadId: string): UploadRecord | undefined {
    if (!UPLOAD_ID.test(uploadId)) return undefined;
    const dir = this.#uploadDir(bucket, uploadId);
    try {
      return readSealedJson(join(dir, "upload.json"), isUploadRecord);
    } catch (error) {
      if (!(error instanceof DamagedFileError)) return undefined;
      this.#buckets.quarantine.put(dir, `multipart upload record: ${error.reason}`);
      return undefined;
    }
  }

  /** A part's record; a damaged one is quarantined (the part is then missing). */
  #readPart(file: string): PartRecord | undefined {
    try {
      return readSealedJson(file, isPartRecord);
    } catch (error) {
      if (!(error instanceof DamagedFileError)) return undefined;
      this.#buckets.quarantine.put(file, `multipart part record: ${error.reason}`);
      return undefined;
    }
  }

  #uploadDir(bucket: string, uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload(uploadId);
    return join(this.#dir, bucket, "uploads", uploadId);
  }

  #exclusive<T>(uploadId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(uploadId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#locks.set(uploadId, settled);
    void settled.then(() => {
      if (this.#locks.get(uploadId) === settled) this.#locks.delete(uploadId);
    });
    return next;
  }
}

function checkStatedChecksum(
  stated: { readonly algorithm: ChecksumAlgorithm; readonly value: string },
  actual: StoredChecksum,
): void {
  if (stated.algorithm !== actual.algorithm) {
    throw new BucketError(
      "InvalidRequest",
      `The upload was created using ${actual.type === "COMPOSITE" ? "a composite" : "a full object"} ${actual.algorithm.toLowerCase()} checksum; the request stated a ${stated.algorithm.toLowerCase()} checksum.`,
    );
  }
  const bare = actual.value.replace(/-\d+$/, "");
  if (stated.value !== actual.value && stated.value !== bare) {
    throw new BucketError(
      "BadDigest",
      `The ${stated.algorithm} you specified did not match the calculated checksum.`,
    );
  }
}

export function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new BucketError(
      "InvalidArgument",
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
      { ArgumentName: "partNumber", ArgumentValue: String(partNumber) },
    );
  }
}

async function* concatenate(files: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const file of files) {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }))
      yield chunk as Buffer;
  }
}

function noSuchUpload(uploadId: string): BucketError {
  return new BucketError(
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    { UploadId: uploadId },
  );
}

function unquote(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, "$1");
}

function isUploadRecord(value: unknown): value is UploadRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.uploadId === "string" &&
    typeof r.bucket === "string" &&
    typeof r.key === "string" &&
    typeof r.initiated === "string" &&
    typeof r.metadata === "object" &&
    r.metadata !== null &&
    typeof r.tags === "object" &&
    r.tags !== null &&
    typeof r.content === "object" &&
    r.content !== null
  );
}

function isPartRecord(value: unknown): value is PartRecord {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.partNumber === "number" &&
    typeof p.size === "number" &&
    typeof p.etag === "string" &&
    typeof p.md5Hex === "string" &&
    typeof p.file === "string" &&
    /^\d+\.[0-9a-f]+$/.test(p.file)
  );
}

/**
 * A new upload id: 256 random bits, URL-safe, starting with a letter. A base64url id can start
 * with "-", which command-line clients read as an option (`aws s3api upload-part --upload-id
 * -p6A...` fails with "expected one argument"); S3's own ids never start with one.
 */
export function newUploadId(): string {
  return `U${randomBytes(32).toString("base64url")}`;
}
