import { randomBytes } from "node:crypto";
import { type Dirent, readdirSync } from "node:fs";
import { join } from "node:path";
import { DamagedFileError, readSealedJson, writeSealedJson } from "../storage/durable-file.ts";
import { PRIVATE_FILE } from "./bucket-files.ts";
import type { StoredChecksum } from "./checksums.ts";
import { decodeSegment } from "./object-keys.ts";

/**
 * What S3 keeps beside an object's bytes, as the local buckets store it: one small JSON per
 * object (`<bucket>/meta/<key>.json`), written whole or not at all with a checksum
 * (storage/durable-file.ts), so a damaged one is told from a valid one.
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

export function newVersionId(): string {
  return randomBytes(16).toString("base64url");
}

/** The schema guard of a metadata file: what listing and reading an object rely on. */
export function isStoredObjectMeta(value: unknown): value is StoredObjectMeta {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const meta = value as Record<string, unknown>;
  const isStrings = (v: unknown) =>
    typeof v === "object" &&
    v !== null &&
    Object.values(v as object).every((s) => typeof s === "string");
  return (
    typeof meta.sha256 === "string" &&
    typeof meta.etag === "string" &&
    typeof meta.versionId === "string" &&
    typeof meta.size === "number" &&
    typeof meta.lastModified === "string" &&
    isStrings(meta.metadata) &&
    isStrings(meta.tags) &&
    (meta.parts === undefined || Array.isArray(meta.parts))
  );
}

/**
 * Reads a metadata file. Throws as readSealedJson does: the file system's error when it is
 * missing, DamagedFileError when it is damaged or not metadata.
 *
 * An object's metadata is a few hundred bytes: synchronous I/O costs microseconds, where a trip
 * through libuv's thread pool costs a good part of a millisecond. The bytes stay asynchronous.
 */
export function readMeta(file: string): StoredObjectMeta {
  return readSealedJson(file, isStoredObjectMeta);
}

/** Writes a metadata file, whole or not at all, with a checksum (synchronous: see readMeta). */
export function writeMeta(file: string, meta: StoredObjectMeta): void {
  writeSealedJson(file, meta, PRIVATE_FILE);
}

/** A metadata file found damaged, with the object it describes. */
export interface DamagedMeta {
  readonly bucket: string;
  readonly key: string;
  readonly paths: { readonly meta: string; readonly object: string };
  readonly reason: string;
}

/** Reads every object's metadata under the buckets' directory, and returns the damaged ones. */
export function findDamagedMeta(dir: string): DamagedMeta[] {
  const damaged: DamagedMeta[] = [];
  const walk = (bucket: string, metaDir: string, objectDir: string, at: string[]): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(metaDir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const meta = join(metaDir, entry.name);
      if (entry.isDirectory()) {
        walk(bucket, meta, join(objectDir, entry.name), [...at, entry.name]);
        continue;
      }
      if (!entry.name.endsWith(".json")) continue;
      const name = entry.name.slice(0, -".json".length);
      try {
        readMeta(meta);
      } catch (error) {
        if (!(error instanceof DamagedFileError)) continue;
        const key = [...at, name].map((segment) => decodeSegment(segment) ?? segment).join("/");
        damaged.push({
          bucket,
          key,
          paths: { meta, object: join(objectDir, name) },
          reason: error.reason,
        });
      }
    }
  };
  let buckets: Dirent[];
  try {
    buckets = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const bucket of buckets) {
    if (!bucket.isDirectory()) continue;
    const root = join(dir, bucket.name);
    walk(bucket.name, join(root, "meta"), join(root, "objects"), []);
  }
  return damaged;
}
