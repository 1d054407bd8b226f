import { createHash, randomBytes } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  ArtifactChecksumMismatch,
  type ArtifactStore,
  type CopyOptions,
  type ObjectInfo,
  type ObjectRef,
  type RecordStore,
  type StoredRecord,
} from "@gantry/core";

/**
 * S3 buckets on disk. Each object is a file plus a small JSON of what S3 would keep beside it:
 * its SHA-256 (computed once, when the bytes are written), ETag, version id, metadata and tags.
 *
 *     <dir>/<bucket>/objects/<key>        the bytes
 *     <dir>/<bucket>/meta/<key>.json      { sha256, etag, versionId, size, metadata, tags }
 *
 * Like S3, a copy is server-side: the bytes are copied by the file system (a clone where the
 * file system can) and the stored SHA-256 travels with them; the bytes are hashed again where
 * they are used, when the function runtime loads them. Conditional writes are serialized per
 * bucket, which makes them atomic: one control plane process owns the directory.
 */
export interface StoredObjectMeta {
  readonly sha256: string;
  readonly etag: string;
  readonly versionId: string;
  readonly size: number;
  readonly metadata: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly lastModified: string;
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

/** Why a bucket operation was refused, with the S3 error name. */
export class BucketError extends Error {
  constructor(
    name:
      | "NoSuchBucket"
      | "NoSuchKey"
      | "NoSuchVersion"
      | "PreconditionFailed"
      | "BadDigest"
      | "InvalidKey",
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * Every object and directory is the local user's alone: the state buckets hold task tokens and
 * sealed decisions (S3 would hold them behind IAM; here the file mode does that job).
 */
const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_SEGMENT = /^[A-Za-z0-9_.=+-]+$/;

export class LocalBuckets implements ArtifactStore {
  readonly #dir: string;
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  async createBucket(bucket: string): Promise<void> {
    checkBucket(bucket);
    await mkdir(join(this.#dir, bucket, "objects"), { recursive: true, mode: PRIVATE_DIR });
    await mkdir(join(this.#dir, bucket, "meta"), { recursive: true, mode: PRIVATE_DIR });
  }

  hasBucket(bucket: string): boolean {
    return BUCKET_NAME.test(bucket) && existsSync(join(this.#dir, bucket, "objects"));
  }

  /** Writes an object (PutObject). Returns its metadata, or throws PreconditionFailed / BadDigest. */
  put(ref: ObjectRef, bytes: Uint8Array, options: PutOptions = {}): Promise<StoredObjectMeta> {
    return this.#serial(ref.bucket, async () => {
      const paths = this.#paths(ref);
      const current = await this.#meta(ref);
      checkConditions(ref, current, options);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      if (options.expectedSha256 && options.expectedSha256 !== sha256) {
        throw new BucketError(
          "BadDigest",
          `the SHA-256 of the body is ${sha256}, the request said ${options.expectedSha256}`,
        );
      }
      const meta: StoredObjectMeta = {
        sha256,
        etag: `"${createHash("md5").update(bytes).digest("hex")}"`,
        versionId: newVersionId(),
        size: bytes.length,
        metadata: { ...options.metadata },
        tags: { ...options.tags },
        lastModified: new Date().toISOString(),
      };
      await atomicWrite(paths.object, bytes);
      writeMeta(paths.meta, meta);
      return meta;
    });
  }

  /** The object's bytes, or undefined. With a versionId, only if it is still that version. */
  async get(
    ref: ObjectRef & { versionId?: string },
  ): Promise<{ bytes: Buffer; meta: StoredObjectMeta } | undefined> {
    const meta = await this.#meta(ref);
    if (!meta) return undefined;
    if (ref.versionId && ref.versionId !== meta.versionId) {
      throw new BucketError(
        "NoSuchVersion",
        `s3://${ref.bucket}/${ref.key} is no longer at version ${ref.versionId}`,
      );
    }
    return { bytes: await readFile(this.#paths(ref).object), meta };
  }

  /** A readable stream of the object's bytes (large downloads). */
  stream(ref: ObjectRef) {
    return createReadStream(this.#paths(ref).object);
  }

  async delete(ref: ObjectRef, ifMatch?: string): Promise<boolean> {
    return this.#serial(ref.bucket, async () => {
      const meta = await this.#meta(ref);
      if (!meta) return false;
      if (ifMatch !== undefined && meta.etag !== ifMatch) return false;
      const paths = this.#paths(ref);
      await rm(paths.object, { force: true });
      await rm(paths.meta, { force: true });
      return true;
    });
  }

  async list(bucket: string, prefix: string): Promise<string[]> {
    checkBucket(bucket);
    const root = join(this.#dir, bucket, "objects");
    const keys: string[] = [];
    const walk = async (dir: string, at: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.name.endsWith(".tmp")) continue;
        const key = at ? `${at}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(join(dir, entry.name), key);
        else if (key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(root, "");
    return keys.sort();
  }

  // ---- ArtifactStore --------------------------------------------------------------------

  async head(ref: ObjectRef): Promise<ObjectInfo | undefined> {
    const meta = await this.#meta(ref);
    return meta && toInfo(ref, meta);
  }

  copy(from: ObjectInfo, to: ObjectRef, options: CopyOptions): Promise<ObjectInfo> {
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
      const paths = this.#paths(to);
      mkdirSync(dirname(paths.object), { recursive: true, mode: PRIVATE_DIR });
      const tmp = `${paths.object}.${randomBytes(4).toString("hex")}.tmp`;
      await copyFile(this.#paths(from).object, tmp);
      await chmod(tmp, PRIVATE_FILE);
      renameSync(tmp, paths.object);
      const meta: StoredObjectMeta = {
        ...source,
        versionId: newVersionId(),
        metadata: { ...options.metadata },
        tags: { ...options.tags },
        lastModified: new Date().toISOString(),
      };
      writeMeta(paths.meta, meta);
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

  async #meta(ref: ObjectRef): Promise<StoredObjectMeta | undefined> {
    try {
      return JSON.parse(readFileSync(this.#paths(ref).meta, "utf8")) as StoredObjectMeta;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        if (!this.hasBucket(ref.bucket))
          throw new BucketError("NoSuchBucket", `bucket ${ref.bucket} does not exist`);
        return undefined;
      }
      throw error;
    }
  }

  #paths(ref: ObjectRef): { object: string; meta: string } {
    checkBucket(ref.bucket);
    const segments = ref.key.split("/");
    if (
      ref.key.length > 1024 ||
      segments.some((s) => s === "" || s === "." || s === ".." || !KEY_SEGMENT.test(s))
    ) {
      throw new BucketError(
        "InvalidKey",
        `key ${JSON.stringify(ref.key)} is not allowed in the local buckets`,
      );
    }
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
      throw error;
    }
  }
}

function checkConditions(
  ref: ObjectRef,
  current: StoredObjectMeta | undefined,
  options: PutOptions,
): void {
  if (options.ifNoneMatch === "*" && current) {
    throw new BucketError("PreconditionFailed", `s3://${ref.bucket}/${ref.key} already exists`);
  }
  if (options.ifMatch !== undefined && current?.etag !== options.ifMatch) {
    throw new BucketError("PreconditionFailed", `s3://${ref.bucket}/${ref.key} changed`);
  }
}

function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket))
    throw new BucketError("NoSuchBucket", `invalid bucket name ${JSON.stringify(bucket)}`);
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

function newVersionId(): string {
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

async function atomicWrite(file: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: PRIVATE_DIR });
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, data, { mode: PRIVATE_FILE });
  await rename(tmp, file);
}
