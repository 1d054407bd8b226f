import { strToU8, unzipSync, zipSync } from "fflate";

/**
 * Zip archives, the way Lambda takes code: read one safely, or build one reproducibly.
 *
 * Reading refuses any entry that would land outside the directory it is extracted to
 * ("zip-slip": absolute paths, drive letters, `..` segments) before a single byte is inflated,
 * and refuses archives that would inflate past Lambda's unzipped limit (250 MB).
 *
 * Building is deterministic: entries are sorted by name and every entry gets the same fixed
 * timestamp, so the same files always give the same bytes, and therefore the same SHA-256.
 */

/** Lambda's limit on the unzipped size of a function's code: 250 MB. */
export const MAX_UNZIPPED_BYTES = 262_144_000;

/**
 * The timestamp every entry of {@link createZip} carries: 1980-01-01 00:00, the DOS epoch. It is
 * built from local-time parts because zip stores local time: that way the bytes are the same
 * in every time zone.
 */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/** Why an archive was refused: an entry with an unsafe name, or too much data once inflated. */
export class UnsafeZipEntry extends Error {
  override readonly name = "UnsafeZipEntry";
}

export interface ReadZipOptions {
  /** Refuse archives whose entries inflate to more than this many bytes (default 250 MB). */
  readonly maxTotalBytes?: number;
}

/**
 * The files of a zip archive by their path inside it (directory entries are left out).
 * Throws {@link UnsafeZipEntry} for entries that would escape the extraction directory, and
 * fflate's error for data that is not a zip archive.
 *
 * @example
 * ```ts
 * const files = readZip(await readFile("build/hello.zip"));
 * new TextDecoder().decode(files.get("index.mjs"));
 * ```
 */
export function readZip(bytes: Uint8Array, options: ReadZipOptions = {}): Map<string, Uint8Array> {
  const maxTotalBytes = options.maxTotalBytes ?? MAX_UNZIPPED_BYTES;
  let total = 0;
  // The filter sees every entry's name and declared size before it is inflated.
  const unzipped = unzipSync(bytes, {
    filter: (file) => {
      if (isDirectoryEntry(file.name)) return false;
      checkEntryName(file.name);
      total += file.originalSize;
      if (total > maxTotalBytes) {
        throw new UnsafeZipEntry(
          `the archive inflates to more than ${maxTotalBytes} bytes (at entry ${JSON.stringify(file.name)})`,
        );
      }
      return true;
    },
  });
  return new Map(Object.entries(unzipped));
}

/**
 * A zip archive of the given files (path inside the archive → text or bytes), deflated, with
 * entries sorted by name and a fixed timestamp: the same files always give the same bytes.
 * Throws {@link UnsafeZipEntry} for a path {@link readZip} would refuse.
 *
 * @example
 * ```ts
 * const zip = createZip({
 *   "index.mjs": 'export const handler = async (event) => ({ statusCode: 200, body: "hello" });',
 * });
 * sha256Hex(zip); // the same every time
 * ```
 */
export function createZip(files: Readonly<Record<string, string | Uint8Array>>): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const name of Object.keys(files).sort()) {
    if (isDirectoryEntry(name))
      throw new UnsafeZipEntry(`${JSON.stringify(name)} is not a file name`);
    checkEntryName(name);
    const content = files[name] ?? "";
    entries[name] = typeof content === "string" ? strToU8(content) : content;
  }
  return zipSync(entries, { level: 6, mtime: FIXED_MTIME });
}

/**
 * Refuses names that are absolute (`/x`, `\x`, `C:x`), contain a `..` segment (with either
 * slash), contain NUL, or are empty.
 */
function checkEntryName(name: string): void {
  const segments = name.split(/[/\\]/);
  const reason =
    name === ""
      ? "is empty"
      : name.includes("\0")
        ? "contains a NUL character"
        : /^[/\\]/.test(name) || /^[A-Za-z]:/.test(name)
          ? "is an absolute path"
          : segments.includes("..")
            ? "contains a '..' segment"
            : undefined;
  if (reason) {
    throw new UnsafeZipEntry(
      `refusing zip entry ${JSON.stringify(name)}: it ${reason} and could be written outside the extraction directory`,
    );
  }
}

function isDirectoryEntry(name: string): boolean {
  return name.endsWith("/");
}
