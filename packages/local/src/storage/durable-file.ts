import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";

/**
 * Durable files for the local control plane: every file it keeps is written whole or not at all
 * (a temporary file, fsync, rename, fsync of the directory), JSON documents carry a checksum, and
 * a file that fails its check is moved aside (quarantined, never deleted) and reported, so one
 * damaged file costs what it held and nothing else.
 */

/** Temporary files are named `<target>.<hex>.tmp`; any such file found at start is a torn write. */
export const TEMP_FILE = /\.[0-9a-f]{8,}\.tmp$/;

/** Owner-only, as the data directory is (it holds keys, task tokens and decisions). */
const PRIVATE_FILE = 0o600;

/**
 * Writes a file so that a crash at any point leaves either the old contents or the new, never a
 * mix: the bytes go to a temporary file in the same directory, which is flushed, then renamed over
 * the target, and the directory is flushed so the rename itself survives a power loss.
 *
 * @example
 * ```ts
 * writeFileDurably(join(home, "endpoints.json"), JSON.stringify({ pid: process.pid }));
 * ```
 */
export function writeFileDurably(
  file: string,
  data: string | Uint8Array,
  mode: number = PRIVATE_FILE,
): void {
  const dir = dirname(file);
  // Directories it makes are the owner's alone, as the data directory is.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(temporary, "w", mode);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(dir);
}

/** Flushes a directory's entries (a rename or a new file in it) to disk; a no-op where unsupported. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory (EISDIR/EINVAL): the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Why a durable file could not be used. */
export class DamagedFileError extends Error {
  override readonly name = "DamagedFileError";
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string) {
    super(`${file} is damaged: ${reason}`);
    this.file = file;
    this.reason = reason;
  }
}

/** The envelope a sealed JSON document is stored in: its value and the SHA-256 of its JSON text. */
interface Sealed {
  readonly sha256: string;
  readonly value: unknown;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Writes a JSON document with a checksum of its contents, durably. {@link readSealedJson} reads it
 * back and tells a damaged file from a good one.
 *
 * @example
 * ```ts
 * writeSealedJson(file, { status: "RUNNING" });
 * const record = readSealedJson(file, isRecord); // throws DamagedFileError if garbled
 * ```
 */
export function writeSealedJson(file: string, value: unknown, mode: number = PRIVATE_FILE): void {
  writeFileDurably(file, sealedLine(value), mode);
}

/**
 * One JSON document and its checksum as a single line, for files appended to a line at a time (an
 * execution's history): a garbled line is told from a good one even when it still parses, as a
 * garbled byte inside a long string does. {@link readSealedLine} reads it back.
 *
 * @example
 * ```ts
 * appendFileSync(file, sealedLine({ id: 1, type: "ExecutionStarted" }));
 * ```
 */
export function sealedLine(value: unknown): string {
  const text = JSON.stringify(value);
  return `{"sha256":"${sha256(text)}","value":${text}}\n`;
}

/**
 * The value of a line written by {@link sealedLine} (or, for lines written before checksums, a
 * bare JSON line); `undefined` when the line does not parse or does not match its checksum.
 */
export function readSealedLine(line: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isSealed(parsed)) return parsed;
  return sha256(JSON.stringify(parsed.value)) === parsed.sha256 ? parsed.value : undefined;
}

/**
 * Reads a document written by {@link writeSealedJson} (or, for files written before checksums,
 * a bare JSON document), checking it parses, matches its checksum and passes `check`, the
 * schema's guard. Anything else is a {@link DamagedFileError} naming the file and what is wrong.
 */
export function readSealedJson<T>(file: string, check: (value: unknown) => value is T): T {
  const text = readFileSync(file, "utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DamagedFileError(file, "not valid JSON (a torn or garbled write)");
  }
  let value = parsed;
  if (isSealed(parsed)) {
    const body = JSON.stringify(parsed.value);
    if (sha256(body) !== parsed.sha256)
      throw new DamagedFileError(file, "its contents do not match their checksum");
    value = parsed.value;
  }
  if (!check(value)) throw new DamagedFileError(file, "not the document expected here");
  return value;
}

function isSealed(value: unknown): value is Sealed {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 2 &&
    typeof (value as Sealed).sha256 === "string" &&
    /^[0-9a-f]{64}$/.test((value as Sealed).sha256) &&
    "value" in value
  );
}

/** One file the control plane found damaged and moved aside. */
export interface DamagedFile {
  /** Where the file was, relative to the data directory. */
  readonly file: string;
  /** Where it is now, relative to the data directory. */
  readonly quarantinedAs: string;
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly at: number;
}

/**
 * The damaged files of one data directory: each is moved under `<home>/quarantine/` (never
 * deleted, so an operator can look at it or put it back), named in the log and listed for the
 * console (`GET /api/world`'s `damaged`).
 */
export class Quarantine {
  readonly #home: string;
  readonly #found: DamagedFile[] = [];
  readonly #log: (line: string) => void;

  constructor(home: string, log: (line: string) => void = (line) => console.warn(line)) {
    this.#home = home;
    this.#log = log;
  }

  /** The files moved aside since the control plane started, oldest first. */
  get files(): readonly DamagedFile[] {
    return this.#found;
  }

  /**
   * Moves a damaged file (or directory) aside and reports it. Returns where it went. If it cannot
   * be moved, it is still reported, so the damage is never silent.
   *
   * @example
   * ```ts
   * try { record = readSealedJson(file, isRecord); }
   * catch (error) { if (error instanceof DamagedFileError) quarantine.put(file, error.reason); else throw error; }
   * ```
   */
  put(path: string, reason: string): DamagedFile {
    const at = Date.now();
    const from = relative(this.#home, path) || basename(path);
    const name = `${new Date(at).toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}-${from.split(sep).join("__")}`;
    const target = join(this.#home, "quarantine", name);
    let quarantinedAs = relative(this.#home, target);
    try {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      renameSync(path, target);
      syncDirectory(dirname(path));
    } catch (error) {
      quarantinedAs = `(left in place: ${error instanceof Error ? error.message : String(error)})`;
    }
    const damaged: DamagedFile = { file: from, quarantinedAs, reason, at };
    this.#found.push(damaged);
    this.#log(`gantry: damaged file ${from} (${reason}); moved to ${quarantinedAs}`);
    return damaged;
  }

  /**
   * Reports damage to a file that stays in place because the rest of it is still read (a
   * history with a garbled line), or because removing it would be worse (a damaged deployment
   * lock: `why` says so): listed and logged like a moved file, never silent.
   */
  report(path: string, reason: string, why = "the rest of it is still read"): DamagedFile {
    const from = relative(this.#home, path) || basename(path);
    const quarantinedAs = `(left in place: ${why})`;
    const damaged: DamagedFile = { file: from, quarantinedAs, reason, at: Date.now() };
    this.#found.push(damaged);
    this.#log(`gantry: damaged file ${from} (${reason}); ${quarantinedAs}`);
    return damaged;
  }
}

/**
 * Removes the temporary files torn writes left under a directory (any depth): files named
 * `<target>.<hex>.tmp`, or whatever `isTemp` says. Run at start, before anything writes.
 * Returns how many it removed.
 */
export function sweepTempFiles(
  dir: string,
  isTemp: (name: string) => boolean = (name) => TEMP_FILE.test(name),
): number {
  let removed = 0;
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removed += sweepTempFiles(path, isTemp);
    else if (isTemp(entry.name)) {
      rmSync(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}
