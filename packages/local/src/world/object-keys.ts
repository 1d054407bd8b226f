import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { BucketError } from "./bucket-errors.ts";

/**
 * How an S3 key maps to file names, and back. Keys map to paths segment by segment (split at
 * `/`): a segment made of `A-Za-z0-9_.=+-` is its own file name, anything else is
 * percent-encoded (an empty segment is `%`), so any S3 key up to 1,024 bytes can be stored,
 * except one that is also another key's "directory" (`a` and `a/b`), which the file system
 * cannot hold: that write is refused (NotImplemented), never half done (bucket-files.ts).
 */

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** What one file name may take (255 on most file systems, less the `.json` of the metadata). */
const MAX_SEGMENT_BYTES = 240;
const SAFE_SEGMENT = /^[A-Za-z0-9_.=+-]+$/;
const SAFE_BYTE = /[A-Za-z0-9_.=+-]/;
/** Temporary files of earlier versions sat beside the object: `<name>.<8 hex>.tmp`. */
const LEGACY_TMP = /\.[0-9a-f]{8}\.tmp$/;

/**
 * Whether a file name is a temporary file an earlier version left beside an object. No key
 * maps to one: a segment that looks like it is encoded.
 */
export function isLegacyTempName(name: string): boolean {
  return LEGACY_TMP.test(name);
}

/** The file names a key is stored under, or a refusal. */
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
 * The keys the files under `root` stand for that start with `prefix`, in S3's order. Names no
 * key maps to are skipped; directories that cannot hold such a key are not read.
 */
export async function listKeys(root: string, prefix: string): Promise<string[]> {
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
