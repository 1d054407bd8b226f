import { type Dirent, existsSync, readdirSync, rmSync } from "node:fs";
import { chmod, copyFile, type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ObjectRef } from "@gantry/core";
import { sweepTempFiles, syncDirectory } from "../storage/durable-file.ts";
import { BucketError } from "./bucket-errors.ts";
import { type ChecksumAlgorithm, type FinishedDigests, ObjectDigests } from "./checksums.ts";
import { isLegacyTempName } from "./object-keys.ts";

/**
 * The files of the local buckets: who may read them, how bytes reach them (flushed to disk,
 * then renamed into place, so an object appears whole or not at all), what a file-system error
 * means for a key, and what crashed writes leave behind.
 */

/**
 * Every object and directory is the local user's alone: the state buckets hold task tokens and
 * sealed decisions (S3 would hold them behind IAM; here the file mode does that job).
 */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/**
 * Streams bytes to a new private file while hashing them (MD5, SHA-256 and the given
 * algorithms), refusing (EntityTooLarge) more than `maxBytes`; flushed to disk when it returns,
 * removed when it throws.
 */
export async function writeHashed(
  path: string,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  algorithms: Iterable<ChecksumAlgorithm>,
  maxBytes: number,
): Promise<FinishedDigests> {
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
    // On disk before it is renamed into place: a crash cannot leave metadata over missing bytes.
    await file.sync();
    await file.close();
    file = undefined;
    return await digests.finish();
  } catch (error) {
    await file?.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

/**
 * Copies a file's bytes to a new private file, flushed to disk (a clone where the file system
 * can: the bytes never pass through this process).
 */
export async function copyPrivateFile(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  await chmod(to, PRIVATE_FILE);
  const handle = await open(to, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames a finished file to the object's path, durably (the directory entry is flushed too). */
export async function placeFile(ref: ObjectRef, from: string, to: string): Promise<void> {
  await storable(ref, () => mkdir(dirname(to), { recursive: true, mode: PRIVATE_DIR }));
  await storable(ref, () => rename(from, to));
  syncDirectory(dirname(to));
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

/** A file-system error that means there is no such file (or no such directory on its way). */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Removes what crashed writes left under the buckets' directory: each bucket's staging
 * directory, temporary metadata and upload files, and the temporary files earlier versions left
 * beside objects. Returns how many it removed.
 */
export function sweepLeftovers(dir: string): number {
  let removed = 0;
  let buckets: Dirent[];
  try {
    buckets = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const bucket of buckets) {
    if (!bucket.isDirectory()) continue;
    const root = join(dir, bucket.name);
    const staging = join(root, "tmp");
    if (existsSync(staging)) {
      removed += readdirSync(staging).length;
      rmSync(staging, { recursive: true, force: true });
    }
    removed += sweepTempFiles(join(root, "meta"));
    removed += sweepTempFiles(join(root, "uploads"));
    removed += sweepTempFiles(join(root, "objects"), isLegacyTempName);
  }
  return removed;
}
