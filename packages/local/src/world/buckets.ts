import { randomBytes } from "node:crypto";
import {
  createReadStream,
  type Dirent,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import {
  chmod,
  copyFile,
  type FileHandle,
  mkdir,
  open,
  readdir,
  rename,
  rm,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import {
  ArtifactChecksumMismatch,
  type ArtifactStore,
  type CopyOptions,
  type ObjectInfo,
  type ObjectRef,
  type RecordStore,
  type StoredRecord,
} from "@gantry/core";
import {
  type ChecksumAlgorithm,
  type FinishedDigests,
  ObjectDigests,
  type StoredChecksum,
} from "./checksums.ts";
import { MultipartUploads } from "./multipart.ts";

/**
 * S3 buckets on disk. Each object is a file plus a small JSON of what S3 would keep beside it:
 * its SHA-256 (computed once, when the bytes are written), ETag, version id, S3 checksum,
 * content headers, metadata and tags.
 *
 *     <dir>/<bucket>/objects/<key>        the bytes
 *     <dir>/<bucket>/meta/<key>.json      { sha256, etag, versionId, size, checksum, metadata, tags, ... }
 *     <dir>/<bucket>/tmp/                 bytes being written (renamed into objects/ when complete)
 *     <dir>/<bucket>/uploads/<id>/        multipart uploads in progress (multipart.ts)
 *
 * Keys map to paths segment by segment: a segment made of `A-Za-z0-9_.=+-` is its own file
 * name, anything else is percent-encoded (an empty segment is `%`), so any S3 key up to 1,024
 * bytes can be stored, except one that is also another key's "directory" (`a` and `a/b`), which
 * the file system cannot hold: that write is refused (NotImplemented), never half done.
 *
 * Bytes are streamed to a temporary file while they are hashed, then renamed into place, so an
 * object appears whole or not at all, and is never held in memory. Like S3, a copy is
 * server-side: the bytes are copied by the file system (a clone where the file system can) and
 * the stored SHA-256 travels with them. Commits (check conditions, rename, write the metadata)
 * are serialized per bucket, which makes conditional writes atomic: one control plane process
 * owns the directory.
 */
export interface ContentHeaders {
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly contentDisposition?: string;
  readonly contentLanguage?: string;
  readonly cacheControl?: string;
  readonly expires?: string;
}

export interface StoredObjectMeta extends ContentHeaders {
  readonly sha256: string;
  readonly etag: string;
  readonly versionId: string;
  readonly size: number;
  readonly metadata: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly lastModified: string;
  /** The checksum S3 keeps (absent in metadata written before checksums were kept: SHA-256 then). */
  readonly checksum?: StoredChecksum;
  /** For an object completed from a multipart upload: its parts, in order. */
  readonly parts?: readonly StoredPart[];
}

export interface StoredPart {
  readonly size: number;
  /** The part's checksum (base64) in the object's algorithm, for a composite checksum. */
  readonly checksum?: string;
}

export interface PutOptions {
  readonly metadata?: Record<string, string>;
  readonly tags?: Record<string, string>;
  /** S3's If-None-Match: * — refuse if the key exists. */
  readonly ifNoneMatch?: "*";
  /** S3's If-Match: <etag> — refuse unless the object still has this ETag. */
  readonly ifMatch?: string;
  /** A digest the bytes must have (S3's x-amz-checksum-sha256); refused otherwise. */
  readonly expectedSha256?: string;
}

export interface WriteOptions extends PutOptions {
  readonly content?: ContentHeaders;
  /** The checksum S3 keeps with the object; CRC64NVME (S3's default) when not given. */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  /** Refuse (EntityTooLarge) more bytes than this. */
  readonly maxBytes?: number;
  /** Called once every byte is in and hashed, before anything is committed: throw to refuse. */
  readonly verify?: (digests: FinishedDigests) => void | Promise<void>;
}

export type BucketErrorName =
  | "NoSuchBucket"
  | "NoSuchKey"
  | "NoSuchVersion"
  | "NoSuchUpload"
  | "PreconditionFailed"
  | "BadDigest"
  | "InvalidDigest"
  | "InvalidKey"
  | "KeyTooLongError"
  | "EntityTooLarge"
  | "EntityTooSmall"
  | "InvalidPart"
  | "InvalidPartOrder"
  | "InvalidRequest"
  | "InvalidArgument"
  | "MalformedXML"
  | "XAmzContentSHA256Mismatch"
  | "IncompleteBody"
  | "NotImplemented";

/** Why a bucket operation was refused, with the S3 error name. */
export class BucketError extends Error {
  readonly details: Readonly<Record<string, string>>;
  constructor(name: BucketErrorName, message: string, details: Record<string, string> = {}) {
    super(message);
    this.name = name;
    this.details = details;
  }
}

/**
 * Every object and directory is the local user's alone: the state buckets hold task tokens and
 * sealed decisions (S3 would hold them behind IAM; here the file mode does that job).
 */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SAFE_SEGMENT = /^[A-Za-z0-9_.=+-]+$/;
const SAFE_BYTE = /[A-Za-z0-9_.=+-]/;
/** Temporary files of earlier versions sat beside the object: `<name>.<8 hex>.tmp`. */
const LEGACY_TMP = /\.[0-9a-f]{8}\.tmp$/;
/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** What one file name may take (255 on most file systems, less the `.json` of the metadata). */
const MAX_SEGMENT_BYTES = 240;

/** An object opened for reading: its metadata and an open file of exactly those bytes. */
export interface OpenedObject {
  readonly meta: StoredObjectMeta;
  /** The bytes from `start` to `end` inclusive (all of them by default); closes the file when done. */
  stream(range?: { start: number; end: number }): Readable & AsyncIterable<Buffer>;
  /** Closes the file without reading it. */
  close(): Promise<void>;
}

/** Where bytes being written wait before they are committed. */
export interface StagedFile {
  readonly path: string;
  readonly digests: FinishedDigests;
}

export interface CommitConditions {
  readonly ifNoneMatch?: "*";
  readonly ifMatch?: string;
}

export class LocalBuckets implements ArtifactStore {
  readonly #dir: string;
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Multipart uploads in progress, per bucket (S3's CreateMultipartUpload ... Complete). */
  readonly uploads: MultipartUploads;

  constructor(dir: string) {
    this.#dir = dir;
    this.uploads = new MultipartUploads(dir, this);
  }

  async createBucket(bucket: string): Promise<void> {
    checkBucket(bucket);
    await mkdir(join(this.#dir, bucket, "objects"), { recursive: true, mode: PRIVATE_DIR });
    await mkdir(join(this.#dir, bucket, "meta"), { recursive: true, mode: PRIVATE_DIR });
  }

  hasBucket(bucket: string): boolean {
    return BUCKET_NAME.test(bucket) && existsSync(join(this.#dir, bucket, "objects"));
  }

  /** When the bucket was created (its directory's birth time), as ISO 8601. */
  bucketCreated(bucket: string): string {
    try {
      const stat = statSync(join(this.#dir, bucket, "objects"));
      return (stat.birthtimeMs > 0 ? stat.birthtime : stat.mtime).toISOString();
    } catch {
      return new Date(0).toISOString();
    }
  }

  /** Writes an object (PutObject). Returns its metadata, or throws PreconditionFailed / BadDigest. */
  put(ref: ObjectRef, bytes: Uint8Array, options: PutOptions = {}): Promise<StoredObjectMeta> {
    return this.write(ref, [bytes], options);
  }

  /**
   * Writes an object from a stream of bytes (PutObject): hashed as it is written to a
   * temporary file, verified, then committed under the bucket's lock with its conditions.
   */
  async write(
    ref: ObjectRef,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<StoredObjectMeta> {
    this.#paths(ref);
    this.#requireBucket(ref.bucket);
    // Fail fast on a condition that already fails (checked again, atomically, at the commit).
    checkConditions(ref, await this.#meta(ref), options);
    const algorithm = options.checksumAlgorithm ?? "CRC64NVME";
    const staged = await this.stage(ref.bucket, source, [algorithm], options.maxBytes);
    try {
      const { digests } = staged;
      if (options.expectedSha256 && options.expectedSha256 !== digests.sha256Hex) {
        throw new BucketError(
          "BadDigest",
          `the SHA-256 of the body is ${digests.sha256Hex}, the request said ${options.expectedSha256}`,
        );
      }
      await options.verify?.(digests);
      return await this.commit(ref, staged.path, conditionsOf(options), () => ({
        sha256: digests.sha256Hex,
        etag: `"${digests.md5Hex}"`,
        versionId: newVersionId(),
        size: digests.size,
        metadata: { ...options.metadata },
        tags: { ...options.tags },
        lastModified: new Date().toISOString(),
        ...options.content,
        checksum: {
          algorithm,
          value: digests.checksums[algorithm] ?? "",
          type: "FULL_OBJECT",
        },
      }));
    } finally {
      await rm(staged.path, { force: true });
    }
  }

  /**
   * Streams bytes to a temporary file of the bucket, hashing them (MD5, SHA-256 and the given
   * algorithms). The caller commits the file or removes it.
   */
  async stage(
    bucket: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    algorithms: Iterable<ChecksumAlgorithm> = [],
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<StagedFile> {
    const path = await this.#tmpFile(bucket);
    const digests = new ObjectDigests(algorithms);
    let file: FileHandle | undefined;
    try {
      file = await open(path, "w", PRIVATE_FILE);
      for await (const chunk of source) {
        if (digests.size + chunk.length > maxBytes) {
          throw new BucketError(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            { MaxSizeAllowed: String(maxBytes) },
          );
        }
        digests.update(chunk);
        await file.write(chunk);
      }
      await file.close();
      file = undefined;
      return { path, digests: await digests.finish() };
    } catch (error) {
      await file?.close().catch(() => undefined);
      await rm(path, { force: true });
      throw error;
    }
  }

  /**
   * Makes a staged file the object, atomically: under the bucket's lock, checks the conditions
   * against the current object, renames the file into place and writes the metadata `build`
   * returns. The staged file is gone afterwards (moved), or left for the caller on failure.
   */
  commit(
    ref: ObjectRef,
    stagedPath: string,
    conditions: CommitConditions,
    build: (current: StoredObjectMeta | undefined) => StoredObjectMeta,
  ): Promise<StoredObjectMeta> {
    const paths = this.#paths(ref);
    return this.#serial(ref.bucket, async () => {
      const current = await this.#meta(ref);
      checkConditions(ref, current, conditions);
      const meta = build(current);
      await storable(ref, () =>
        mkdir(dirname(paths.object), { recursive: true, mode: PRIVATE_DIR }),
      );
      await storable(ref, () => rename(stagedPath, paths.object));
      writeMeta(paths.meta, meta);
      return meta;
    });
  }

  /** The object's bytes, or undefined. With a versionId, only if it is still that version. */
  async get(
    ref: ObjectRef & { versionId?: string },
  ): Promise<{ bytes: Buffer; meta: StoredObjectMeta } | undefined> {
    const opened = await this.open(ref);
    if (!opened) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream()) chunks.push(chunk as Buffer);
    return { bytes: Buffer.concat(chunks), meta: opened.meta };
  }

  /**
   * Opens an object for reading: its metadata and its bytes are taken together under the
   * bucket's lock, so a write that lands meanwhile cannot pair new bytes with old metadata.
   * Undefined if there is no such object; NoSuchVersion if it is no longer that version.
   */
  open(ref: ObjectRef & { versionId?: string }): Promise<OpenedObject | undefined> {
    const paths = this.#paths(ref);
    return this.#serial(ref.bucket, async () => {
      const meta = await this.#meta(ref);
      if (!meta) return undefined;
      if (ref.versionId && ref.versionId !== meta.versionId) {
        throw new BucketError("NoSuchVersion", "The specified version does not exist.", {
          Key: ref.key,
          VersionId: ref.versionId,
        });
      }
      let handle: FileHandle;
      try {
        handle = await open(paths.object, "r");
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      let used = false;
      return {
        meta,
        stream(range?: { start: number; end: number }) {
          used = true;
          return handle.createReadStream({
            autoClose: true,
            ...(range ? { start: range.start, end: range.end } : {}),
          }) as Readable & AsyncIterable<Buffer>;
        },
        async close() {
          if (!used) await handle.close();
        },
      };
    });
  }

  /** A readable stream of the object's bytes (large downloads). */
  stream(ref: ObjectRef) {
    return createReadStream(this.#paths(ref).object);
  }

  /** Deletes only the ETag it was given (RecordStore semantics): false if it changed or is gone. */
  async delete(ref: ObjectRef, ifMatch?: string): Promise<boolean> {
    try {
      return await this.deleteObject(ref, ifMatch !== undefined ? { ifMatch } : {});
    } catch (error) {
      if (
        error instanceof BucketError &&
        (error.name === "PreconditionFailed" || error.name === "NoSuchKey")
      )
        return false;
      throw error;
    }
  }

  /**
   * DeleteObject: true if an object was deleted, false if there was none (not an error, as in
   * S3). With If-Match: PreconditionFailed if the ETag differs, NoSuchKey if there is no object.
   */
  deleteObject(ref: ObjectRef, conditions: { ifMatch?: string } = {}): Promise<boolean> {
    const paths = this.#paths(ref);
    return this.#serial(ref.bucket, async () => {
      const meta = await this.#meta(ref);
      if (!meta) {
        if (conditions.ifMatch !== undefined)
          throw new BucketError("NoSuchKey", "The specified key does not exist.", { Key: ref.key });
        return false;
      }
      if (conditions.ifMatch !== undefined && !etagMatches(conditions.ifMatch, meta.etag)) {
        throw new BucketError(
          "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
          {
            Condition: "If-Match",
          },
        );
      }
      await rm(paths.object, { force: true });
      await rm(paths.meta, { force: true });
      return true;
    });
  }

  /** Replaces an object's tags (PutObjectTagging, DeleteObjectTagging); NoSuchKey if none. */
  setTags(
    ref: ObjectRef & { versionId?: string },
    tags: Record<string, string>,
  ): Promise<StoredObjectMeta> {
    const paths = this.#paths(ref);
    return this.#serial(ref.bucket, async () => {
      const meta = await this.#meta(ref);
      if (!meta)
        throw new BucketError("NoSuchKey", "The specified key does not exist.", { Key: ref.key });
      if (ref.versionId && ref.versionId !== meta.versionId)
        throw new BucketError("NoSuchVersion", "The specified version does not exist.", {
          Key: ref.key,
          VersionId: ref.versionId,
        });
      const updated: StoredObjectMeta = { ...meta, tags: { ...tags } };
      writeMeta(paths.meta, updated);
      return updated;
    });
  }

  /** The keys under a prefix, in S3's order (UTF-8 bytes). */
  async list(bucket: string, prefix: string): Promise<string[]> {
    checkBucket(bucket);
    const root = join(this.#dir, bucket, "objects");
    const keys: string[] = [];
    const walk = async (dir: string, at: string | undefined): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (LEGACY_TMP.test(entry.name)) continue;
        const segment = decodeSegment(entry.name);
        if (segment === undefined) continue;
        const key = at === undefined ? segment : `${at}/${segment}`;
        // Prune directories that cannot hold a key with this prefix.
        if (entry.isDirectory()) {
          const asPrefix = `${key}/`;
          if (asPrefix.startsWith(prefix) || prefix.startsWith(asPrefix))
            await walk(join(dir, entry.name), key);
        } else if (key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(root, undefined);
    return keys.sort(compareKeys);
  }

  /** Keys under a prefix with their metadata, in S3's order; keys without metadata are skipped. */
  async listObjects(
    bucket: string,
    prefix: string,
  ): Promise<{ key: string; meta: StoredObjectMeta }[]> {
    this.#requireBucket(bucket);
    const out: { key: string; meta: StoredObjectMeta }[] = [];
    for (const key of await this.list(bucket, prefix)) {
      const meta = await this.#meta({ bucket, key }).catch(() => undefined);
      if (meta) out.push({ key, meta });
    }
    return out;
  }

  /** The object's metadata, or undefined (NoSuchBucket if the bucket does not exist). */
  async meta(ref: ObjectRef): Promise<StoredObjectMeta | undefined> {
    this.#paths(ref);
    return this.#meta(ref);
  }

  // ---- ArtifactStore --------------------------------------------------------------------

  async head(ref: ObjectRef): Promise<ObjectInfo | undefined> {
    const meta = await this.#meta(ref);
    return meta && toInfo(ref, meta);
  }

  copy(from: ObjectInfo, to: ObjectRef, options: CopyOptions): Promise<ObjectInfo> {
    const target = this.#paths(to);
    return this.#serial(to.bucket, async () => {
      const source = await this.#meta(from);
      if (!source)
        throw new BucketError("NoSuchKey", `s3://${from.bucket}/${from.key} does not exist`);
      // S3's CopySourceIfMatch: only the object the caller verified is copied.
      if (source.etag !== from.etag || (from.versionId && source.versionId !== from.versionId)) {
        throw new ArtifactChecksumMismatch(
          `s3://${from.bucket}/${from.key} changed after it was verified (ETag ${from.etag}); nothing was copied`,
        );
      }
      const tmp = await this.#tmpFile(to.bucket);
      try {
        await copyFile(this.#paths(from).object, tmp);
        await chmod(tmp, PRIVATE_FILE);
        await storable(to, () =>
          mkdir(dirname(target.object), { recursive: true, mode: PRIVATE_DIR }),
        );
        await storable(to, () => rename(tmp, target.object));
      } finally {
        await rm(tmp, { force: true });
      }
      const meta: StoredObjectMeta = {
        ...source,
        versionId: newVersionId(),
        metadata: { ...options.metadata },
        tags: { ...options.tags },
        lastModified: new Date().toISOString(),
      };
      writeMeta(target.meta, meta);
      return toInfo(to, meta);
    });
  }

  async readJson<T>(ref: ObjectRef): Promise<T | undefined> {
    const object = await this.get(ref);
    return object && (JSON.parse(object.bytes.toString("utf8")) as T);
  }

  async writeJsonIfAbsent(ref: ObjectRef, value: unknown): Promise<boolean> {
    try {
      await this.put(ref, Buffer.from(JSON.stringify(value)), { ifNoneMatch: "*" });
      return true;
    } catch (error) {
      if (error instanceof BucketError && error.name === "PreconditionFailed") return false;
      throw error;
    }
  }

  /** A record store over one bucket: what the state bucket is in AWS. */
  records(bucket: string): RecordStore {
    return new BucketRecords(this, bucket);
  }

  /** A fresh temporary file name in the bucket's staging directory. */
  async #tmpFile(bucket: string): Promise<string> {
    this.#requireBucket(bucket);
    const dir = join(this.#dir, bucket, "tmp");
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
    return join(dir, `${randomBytes(12).toString("hex")}.part`);
  }

  #requireBucket(bucket: string): void {
    if (!this.hasBucket(bucket))
      throw new BucketError("NoSuchBucket", "The specified bucket does not exist", {
        BucketName: bucket,
      });
  }

  async #meta(ref: ObjectRef): Promise<StoredObjectMeta | undefined> {
    try {
      return JSON.parse(readFileSync(this.#paths(ref).meta, "utf8")) as StoredObjectMeta;
    } catch (error) {
      if (isMissing(error)) {
        if (!this.hasBucket(ref.bucket))
          throw new BucketError("NoSuchBucket", "The specified bucket does not exist", {
            BucketName: ref.bucket,
          });
        return undefined;
      }
      throw error;
    }
  }

  #paths(ref: ObjectRef): { object: string; meta: string } {
    checkBucket(ref.bucket);
    const segments = keySegments(ref.key);
    return {
      object: join(this.#dir, ref.bucket, "objects", ...segments),
      meta: `${join(this.#dir, ref.bucket, "meta", ...segments)}.json`,
    };
  }

  /** Runs bucket mutations one at a time, so check-then-write is atomic. */
  #serial<T>(bucket: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(bucket) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#queues.set(
      bucket,
      next.catch(() => undefined),
    );
    return next;
  }
}

class BucketRecords implements RecordStore {
  readonly #buckets: LocalBuckets;
  readonly #bucket: string;

  constructor(buckets: LocalBuckets, bucket: string) {
    this.#buckets = buckets;
    this.#bucket = bucket;
  }

  async get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    const object = await this.#buckets.get({ bucket: this.#bucket, key });
    return (
      object && { value: JSON.parse(object.bytes.toString("utf8")) as T, etag: object.meta.etag }
    );
  }
  create<T>(key: string, value: T): Promise<StoredRecord<T> | undefined> {
    return this.#write(key, value, { ifNoneMatch: "*" });
  }
  replace<T>(key: string, value: T, etag: string): Promise<StoredRecord<T> | undefined> {
    return this.#write(key, value, { ifMatch: etag });
  }
  async put<T>(key: string, value: T): Promise<void> {
    await this.#write(key, value, {});
  }
  delete(key: string, etag: string): Promise<boolean> {
    return this.#buckets.delete({ bucket: this.#bucket, key }, etag);
  }
  list(prefix: string): Promise<string[]> {
    return this.#buckets.list(this.#bucket, prefix);
  }
  async #write<T>(
    key: string,
    value: T,
    options: PutOptions,
  ): Promise<StoredRecord<T> | undefined> {
    try {
      const meta = await this.#buckets.put(
        { bucket: this.#bucket, key },
        Buffer.from(JSON.stringify(value)),
        options,
      );
      return { value, etag: meta.etag };
    } catch (error) {
      if (error instanceof BucketError && error.name === "PreconditionFailed") return undefined;
      // If-Match on a record that is gone: as the S3 adapter, "it changed".
      if (error instanceof BucketError && error.name === "NoSuchKey" && options.ifMatch)
        return undefined;
      throw error;
    }
  }
}

/** S3's rule for an ETag condition: `*`, or one of a comma-separated list, quotes optional. */
export function etagMatches(condition: string, etag: string): boolean {
  const bare = unquote(etag);
  return condition
    .split(",")
    .map((c) => c.trim())
    .some((c) => c === "*" || unquote(c.replace(/^W\//, "")) === bare);
}

function unquote(etag: string): string {
  return etag.replace(/^"(.*)"$/, "$1");
}

function conditionsOf(options: PutOptions): CommitConditions {
  return {
    ...(options.ifNoneMatch ? { ifNoneMatch: options.ifNoneMatch } : {}),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
  };
}

function checkConditions(
  ref: ObjectRef,
  current: StoredObjectMeta | undefined,
  conditions: CommitConditions,
): void {
  if (conditions.ifNoneMatch === "*" && current) {
    throw new BucketError(
      "PreconditionFailed",
      `At least one of the pre-conditions you specified did not hold: s3://${ref.bucket}/${ref.key} already exists`,
      { Condition: "If-None-Match" },
    );
  }
  if (conditions.ifMatch !== undefined) {
    // S3: If-Match on a key with no object is 404 NoSuchKey; on another ETag, 412.
    if (!current)
      throw new BucketError("NoSuchKey", "The specified key does not exist.", { Key: ref.key });
    if (!etagMatches(conditions.ifMatch, current.etag)) {
      throw new BucketError(
        "PreconditionFailed",
        `At least one of the pre-conditions you specified did not hold: s3://${ref.bucket}/${ref.key} changed`,
        { Condition: "If-Match" },
      );
    }
  }
}

function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket))
    throw new BucketError("NoSuchBucket", "The specified bucket does not exist", {
      BucketName: bucket,
    });
}

/** The file names a key is stored under (see the class comment), or a refusal. */
export function keySegments(key: string): string[] {
  if (key.length === 0) throw new BucketError("InvalidKey", "an object needs a key");
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new BucketError("KeyTooLongError", "Your key is too long", {
      MaxSizeAllowed: String(MAX_KEY_BYTES),
      Size: String(Buffer.byteLength(key)),
    });
  return key.split("/").map((segment) => {
    const encoded = encodeSegment(segment);
    if (encoded.length > MAX_SEGMENT_BYTES) {
      throw new BucketError(
        "NotImplemented",
        `the local buckets store each part of a key between slashes as a file name, at most ${MAX_SEGMENT_BYTES} bytes once encoded; this key has a longer one`,
      );
    }
    return encoded;
  });
}

export function encodeSegment(segment: string): string {
  if (segment === "") return "%";
  if (segment === ".") return "%2E";
  if (segment === "..") return "%2E%2E";
  if (SAFE_SEGMENT.test(segment) && !LEGACY_TMP.test(segment)) return segment;
  let out = "";
  for (const byte of Buffer.from(segment, "utf8")) {
    const char = String.fromCharCode(byte);
    out +=
      SAFE_BYTE.test(char) && char !== "."
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The key segment a file name stands for; undefined for a name no key maps to. */
export function decodeSegment(name: string): string | undefined {
  if (name === "%") return "";
  if (!name.includes("%")) return SAFE_SEGMENT.test(name) ? name : undefined;
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

/** S3 lists keys in the order of their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * A file-system error that only means "this key cannot live here": the key names a directory
 * of other keys, or runs through an object's file. Refused as outside the local subset.
 */
async function storable<T>(ref: ObjectRef, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EISDIR" || code === "ENOTDIR" || code === "EEXIST" || code === "ENOTEMPTY") {
      throw new BucketError(
        "NotImplemented",
        `s3://${ref.bucket}/${ref.key} cannot be stored locally: the local buckets cannot hold both a key and other keys under it as a prefix with "/" (e.g. "a" and "a/b")`,
      );
    }
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function toInfo(ref: ObjectRef, meta: StoredObjectMeta): ObjectInfo {
  return {
    bucket: ref.bucket,
    key: ref.key,
    size: meta.size,
    sha256: meta.sha256,
    etag: meta.etag,
    versionId: meta.versionId,
    metadata: meta.metadata,
  };
}

export function newVersionId(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * An object's metadata is a few hundred bytes: synchronous I/O costs microseconds, where a trip
 * through libuv's thread pool costs a good part of a millisecond. The bytes stay asynchronous.
 */
function writeMeta(file: string, meta: StoredObjectMeta): void {
  mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR });
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, JSON.stringify(meta), { mode: PRIVATE_FILE });
  renameSync(tmp, file);
}
