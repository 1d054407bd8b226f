import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, statSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import {
  ArtifactChecksumMismatch,
  type ArtifactStore,
  type CopyOptions,
  type ObjectInfo,
  type ObjectRef,
  type RecordStore,
  recordKeys,
  unlockCommand,
} from "@gantry/core";
import { DamagedFileError, Quarantine } from "../storage/durable-file.ts";
import { BucketError, noSuchBucket, noSuchKey, noSuchVersion } from "./bucket-errors.ts";
import {
  copyPrivateFile,
  isMissing,
  PRIVATE_DIR,
  placeFile,
  sweepLeftovers,
  writeHashed,
} from "./bucket-files.ts";
import { BucketRecords } from "./bucket-records.ts";
import type { ChecksumAlgorithm, FinishedDigests } from "./checksums.ts";
import { MultipartUploads } from "./multipart.ts";
import {
  type CommitConditions,
  checkConditions,
  conditionsOf,
  etagMatches,
} from "./object-conditions.ts";
import { keySegments, listKeys } from "./object-keys.ts";
import {
  type ContentHeaders,
  findDamagedMeta,
  newVersionId,
  readMeta,
  type StoredObjectMeta,
  writeMeta,
} from "./object-meta.ts";

/**
 * S3 buckets on disk. Each object is a file plus a small JSON of what S3 would keep beside it
 * (object-meta.ts): its SHA-256 (computed once, when the bytes are written), ETag, version id,
 * S3 checksum, content headers, metadata and tags.
 *
 *     <dir>/<bucket>/objects/<key>        the bytes
 *     <dir>/<bucket>/meta/<key>.json      { sha256, etag, versionId, size, checksum, metadata, tags, ... }
 *     <dir>/<bucket>/tmp/                 bytes being written (renamed into objects/ when complete)
 *     <dir>/<bucket>/uploads/<id>/        multipart uploads in progress (multipart.ts)
 *
 * A key is stored under file names of its segments (object-keys.ts).
 *
 * Bytes are streamed to a temporary file while they are hashed, flushed to disk, then renamed
 * into place, so an object appears whole or not at all, and is never held in memory
 * (bucket-files.ts). The metadata is written the same way, with a checksum; a metadata file
 * found damaged is moved to the quarantine with the object's bytes and reported, and the key
 * reads as absent (NoSuchKey): one damaged object costs that object, never the bucket. The
 * stages' state buckets (small JSON records: locks, deployment records, approvals, task
 * tokens) are also checked against the SHA-256 their metadata records, at start and when read:
 * S3 never returns bytes other than those written (see {@link StateBucket}). Like S3, a copy is
 * server-side: the bytes are copied by the file system (a clone where the file system can) and
 * the stored SHA-256 travels with them. Commits (check conditions, rename, write the metadata)
 * are serialized per bucket, which makes conditional writes atomic: one control plane process
 * owns the directory.
 */
export interface PutOptions extends CommitConditions {
  readonly metadata?: Record<string, string>;
  readonly tags?: Record<string, string>;
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

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** An object opened for reading: its metadata and an open file of exactly those bytes. */
export interface OpenedObject {
  readonly meta: StoredObjectMeta;
  /**
   * Set for a lock in a state bucket whose bytes do not match their SHA-256 (reported, left in
   * place): what is wrong. The bytes are served as they are; a record store refuses them.
   */
  readonly damaged?: string;
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

/**
 * A stage's state bucket. Its objects are small JSON records, so their bytes are hashed
 * against the SHA-256 their metadata records at start ({@link LocalBuckets.check}) and at
 * every read: bytes that do not match (truncated or garbled on disk) are damage. A damaged
 * record is quarantined with its metadata and reads as absent (NoSuchKey), as a record with
 * damaged metadata does. A damaged lock (`locks/<service>.json`) is the exception: it is
 * reported and left in place, never removed, because its owner may still be running and a
 * second deployment would then run on the same alias; the next deployment fails `LockDamaged`
 * and an operator breaks it with `gantry unlock --force-damaged` (docs/operations.md).
 */
export interface StateBucket {
  readonly bucket: string;
  readonly stage: string;
}

export interface LocalBucketsOptions {
  /** Takes damaged files (default: one of the directory above `dir`, the data directory). */
  readonly quarantine?: Quarantine;
  /**
   * The stages' state buckets, whose objects' bytes are checked against their SHA-256 at start
   * and when read (the world knows which they are: `stateBucketOf`). Default: none.
   */
  readonly stateBuckets?: readonly StateBucket[];
}

/**
 * Largest state-bucket object whose bytes are hashed when read: a record is a few kilobytes at
 * most, so reading it once more to hash it costs little. Anything larger is not a record Gantry
 * wrote, and is not hashed.
 */
const MAX_VERIFIED_BYTES = 1024 * 1024;

export class LocalBuckets implements ArtifactStore {
  readonly #dir: string;
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Multipart uploads in progress, per bucket (S3's CreateMultipartUpload ... Complete). */
  readonly uploads: MultipartUploads;
  /** Where damaged metadata and upload records go. */
  readonly quarantine: Quarantine;
  /** The state buckets (bucket to stage), whose objects' bytes are checked. */
  readonly #stateBuckets: ReadonlyMap<string, string>;
  /** Damaged locks already reported (bucket, key, version), so each is reported once. */
  readonly #reportedLocks = new Set<string>();

  constructor(dir: string, options: LocalBucketsOptions = {}) {
    this.#dir = dir;
    this.quarantine = options.quarantine ?? new Quarantine(dirname(dir));
    this.#stateBuckets = new Map((options.stateBuckets ?? []).map((s) => [s.bucket, s.stage]));
    this.uploads = new MultipartUploads(dir, this);
  }

  /** At start, before anything writes: removes what crashed writes left; returns how many. */
  sweep(): number {
    return sweepLeftovers(this.#dir);
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
    return { path, digests: await writeHashed(path, source, algorithms, maxBytes) };
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
      await placeFile(ref, stagedPath, paths.object);
      writeMeta(paths.meta, meta);
      return meta;
    });
  }

  /** The object's bytes, or undefined. With a versionId, only if it is still that version. */
  async get(
    ref: ObjectRef & { versionId?: string },
  ): Promise<{ bytes: Buffer; meta: StoredObjectMeta; damaged?: string } | undefined> {
    const opened = await this.open(ref);
    if (!opened) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream()) chunks.push(chunk as Buffer);
    return {
      bytes: Buffer.concat(chunks),
      meta: opened.meta,
      ...(opened.damaged !== undefined ? { damaged: opened.damaged } : {}),
    };
  }

  /**
   * Opens an object for reading: its metadata and its bytes are taken together under the
   * bucket's lock, so a write that lands meanwhile cannot pair new bytes with old metadata.
   * Undefined if there is no such object; NoSuchVersion if it is no longer that version.
   * A state-bucket object whose bytes do not match their SHA-256 is handled as at start
   * ({@link StateBucket}): a record is quarantined and reads as absent; a lock is served,
   * marked `damaged`.
   */
  open(ref: ObjectRef & { versionId?: string }): Promise<OpenedObject | undefined> {
    const paths = this.#paths(ref);
    return this.#serial(ref.bucket, async () => {
      const meta = await this.#meta(ref);
      if (!meta) return undefined;
      if (ref.versionId && ref.versionId !== meta.versionId)
        throw noSuchVersion(ref.key, ref.versionId);
      const damaged = await this.#damagedBytes(ref, paths, meta);
      if (
        damaged !== undefined &&
        this.#onDamagedBytes(ref, paths, meta, damaged) === "quarantined"
      )
        return undefined;
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
        ...(damaged !== undefined ? { damaged } : {}),
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
        if (conditions.ifMatch !== undefined) throw noSuchKey(ref.key);
        return false;
      }
      if (conditions.ifMatch !== undefined && !etagMatches(conditions.ifMatch, meta.etag)) {
        throw new BucketError(
          "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
          { Condition: "If-Match" },
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
      if (!meta) throw noSuchKey(ref.key);
      if (ref.versionId && ref.versionId !== meta.versionId)
        throw noSuchVersion(ref.key, ref.versionId);
      const updated: StoredObjectMeta = { ...meta, tags: { ...tags } };
      writeMeta(paths.meta, updated);
      return updated;
    });
  }

  /** The keys under a prefix, in S3's order (UTF-8 bytes). */
  async list(bucket: string, prefix: string): Promise<string[]> {
    checkBucket(bucket);
    return listKeys(join(this.#dir, bucket, "objects"), prefix);
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
        await copyPrivateFile(this.#paths(from).object, tmp);
        await placeFile(to, tmp, target.object);
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

  /** A record store over one bucket: what the state bucket is in AWS (bucket-records.ts). */
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
    if (!this.hasBucket(bucket)) throw noSuchBucket(bucket);
  }

  /**
   * The object's metadata, or undefined. A damaged metadata file is quarantined here and the
   * object reads as absent. Reading and quarantining are synchronous, so no write of this
   * process can slip in between; the object's bytes follow on the bucket's queue.
   */
  async #meta(ref: ObjectRef): Promise<StoredObjectMeta | undefined> {
    const paths = this.#paths(ref);
    try {
      return readMeta(paths.meta);
    } catch (error) {
      if (isMissing(error)) {
        if (!this.hasBucket(ref.bucket)) throw noSuchBucket(ref.bucket);
        return undefined;
      }
      if (!(error instanceof DamagedFileError)) throw error;
      this.#quarantineMeta(ref.bucket, ref.key, paths, error.reason);
      return undefined;
    }
  }

  /**
   * Moves a damaged metadata file to the quarantine now (synchronously: no write of this process
   * slips in between the read that found it and the move), and the object's bytes after it, on
   * the bucket's queue, unless the key was written again meanwhile.
   */
  #quarantineMeta(
    bucket: string,
    key: string,
    paths: { object: string; meta: string },
    reason: string,
  ): void {
    this.quarantine.put(paths.meta, `metadata of s3://${bucket}/${key}: ${reason}`);
    void this.#serial(bucket, async () => {
      if (!existsSync(paths.meta) && existsSync(paths.object))
        this.quarantine.put(
          paths.object,
          `bytes of s3://${bucket}/${key}, whose metadata was damaged`,
        );
    }).catch(() => undefined);
  }

  /**
   * Reads every object's metadata once (at start), and hashes the bytes of every object of the
   * state buckets against the SHA-256 their metadata records, so damaged files are quarantined
   * (or, for a lock, reported in place) before anything needs them. Returns how many were
   * damaged.
   *
   * Only the state buckets' bytes are hashed: their objects are small records. The artifact
   * buckets hold artifacts of many megabytes, which are not hashed at every start; a
   * deployment checks the code it deploys against the artifact's SHA-256 (Deploy).
   */
  async check(): Promise<number> {
    const damaged = findDamagedMeta(this.#dir);
    for (const { bucket, key, paths, reason } of damaged)
      this.#quarantineMeta(bucket, key, paths, reason);
    // Returns once their objects' bytes have followed them too.
    const buckets = new Set(damaged.map((d) => d.bucket));
    await Promise.all([...buckets].map((bucket) => this.#serial(bucket, async () => undefined)));
    let count = damaged.length;
    for (const bucket of this.#stateBuckets.keys()) count += await this.#checkBytes(bucket);
    return count;
  }

  /** Hashes every object of a state bucket against its metadata; returns how many were damaged. */
  async #checkBytes(bucket: string): Promise<number> {
    if (!this.hasBucket(bucket)) return 0;
    let damaged = 0;
    for (const key of await this.list(bucket, "")) {
      const ref = { bucket, key };
      const paths = this.#paths(ref);
      await this.#serial(bucket, async () => {
        const meta = await this.#meta(ref);
        if (!meta) return;
        const problem = await this.#damagedBytes(ref, paths, meta);
        if (problem === undefined) return;
        this.#onDamagedBytes(ref, paths, meta, problem);
        damaged += 1;
      });
    }
    return damaged;
  }

  /**
   * What is wrong with a state-bucket object's bytes, or undefined when they match the SHA-256
   * their metadata records (or are not checked: another bucket, an object too large to be a
   * record, metadata without a SHA-256). Runs on the bucket's queue.
   */
  async #damagedBytes(
    ref: ObjectRef,
    paths: { object: string },
    meta: StoredObjectMeta,
  ): Promise<string | undefined> {
    if (!this.#stateBuckets.has(ref.bucket)) return undefined;
    if (!/^[0-9a-f]{64}$/.test(meta.sha256) || meta.size > MAX_VERIFIED_BYTES) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(paths.object);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    if (createHash("sha256").update(bytes).digest("hex") === meta.sha256) return undefined;
    return (
      `its bytes do not match the SHA-256 its metadata records (${bytes.length} bytes where ` +
      `${meta.size} were written: ${bytes.length < meta.size ? "truncated" : "garbled"})`
    );
  }

  /**
   * Acts on a state-bucket object whose bytes are damaged ({@link StateBucket}): a record is
   * moved to the quarantine with its metadata (the metadata first, so the key reads as absent
   * at once); a lock is reported, once, and left in place. Synchronous, on the bucket's queue.
   */
  #onDamagedBytes(
    ref: ObjectRef,
    paths: { object: string; meta: string },
    meta: StoredObjectMeta,
    problem: string,
  ): "quarantined" | "kept" {
    const where = `s3://${ref.bucket}/${ref.key}`;
    const service = lockedService(ref.key);
    if (service === undefined) {
      this.quarantine.put(paths.meta, `metadata of ${where}, whose bytes were damaged`);
      this.quarantine.put(paths.object, `bytes of ${where}: ${problem}`);
      return "quarantined";
    }
    const seen = `${ref.bucket}\n${ref.key}\n${meta.versionId}`;
    if (!this.#reportedLocks.has(seen)) {
      this.#reportedLocks.add(seen);
      const stage = this.#stateBuckets.get(ref.bucket) ?? ref.bucket;
      this.quarantine.report(
        paths.object,
        `lock ${where}: ${problem}. The next deployment of ${service} fails LockDamaged; ` +
          `break it with \`${unlockCommand(service, stage)}\` once no deployment of ${service} ` +
          `is running (docs/operations.md, "LockDamaged")`,
        "a lock is never removed by Gantry: its owner may still be running",
      );
    }
    return "kept";
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

/** A deployment lock's key in a state bucket (core's `recordKeys.lock`). */
const LOCK_KEY = /^locks\/([^/]+)\.json$/;

/** The service whose deployment lock a state-bucket key is, if it is one. */
function lockedService(key: string): string | undefined {
  const service = LOCK_KEY.exec(key)?.[1];
  return service !== undefined && recordKeys.lock(service) === key ? service : undefined;
}

function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket)) throw noSuchBucket(bucket);
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
