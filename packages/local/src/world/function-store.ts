import { randomUUID } from "node:crypto";
import { type Dirent, existsSync, readdirSync, rmSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { sha256Hex } from "@gantry/core";
import {
  type DamagedFile,
  DamagedFileError,
  Quarantine,
  readSealedJson,
  writeSealedJson,
} from "../storage/durable-file.ts";
import { isFunctionName, LambdaApiError, type StoredFunction } from "./function-model.ts";
import { readZip } from "./zip.ts";

/** Where the runbook says what to do about a damaged file (docs/operations.md). */
export const DAMAGED_FILE_RUNBOOK = 'docs/operations.md, "A damaged file in the data directory"';

/**
 * A function whose function.json was found damaged (torn, garbled, or not a function's
 * configuration): it was moved to the quarantine, and every operation on the function fails with
 * this error until the control plane restarts, which recreates a registered service's function
 * from its initial code. Its versions' code stays on disk.
 */
export class FunctionDamaged extends Error {
  override readonly name = "FunctionDamaged";
  readonly functionName: string;
  readonly damaged: DamagedFile;
  constructor(functionName: string, damaged: DamagedFile) {
    super(
      `function ${functionName} cannot be used: its ${damaged.file} is damaged (${damaged.reason}) and was moved to ${damaged.quarantinedAs}; restart the control plane to recreate it from its initial code, then deploy it again (${DAMAGED_FILE_RUNBOOK})`,
    );
    this.functionName = functionName;
    this.damaged = damaged;
  }
}

/**
 * Where the local world's functions live on disk:
 *
 *     <dir>/<name>/function.json       configuration, versions, aliases (replaced atomically)
 *     <dir>/<name>/code/<sha256>/      a version's zip, extracted once, named by its digest
 *     <dir>/<name>/code/package.json   {}: the code's module type does not leak in from above
 *
 * One process owns the directory; changes to a function are serialized in it ({@link serial}).
 * Names are checked by the caller (`isFunctionName`) before they become paths.
 *
 * @example
 * ```ts
 * const store = new FunctionStore(".gantry/functions");
 * await store.serial("hello-prod", async () => {
 *   const stored = await store.load("hello-prod");
 *   if (stored) await store.save({ ...stored, timeoutMs: 5000 });
 * });
 * ```
 */
export class FunctionStore {
  readonly #dir: string;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #quarantine: Quarantine;
  /** Functions whose function.json was quarantined while this store ran. */
  readonly #damaged = new Map<string, DamagedFile>();

  /** `quarantine` takes damaged files (default: one of the directory above `dir`, the data directory). */
  constructor(dir: string, quarantine?: Quarantine) {
    this.#dir = resolve(dir);
    this.#quarantine = quarantine ?? new Quarantine(dirname(this.#dir));
  }

  /** Runs changes to one function one at a time, so each read-modify-write is atomic. */
  serial<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return next;
  }

  /** Whether a function of that (valid) name is stored. */
  exists(name: string): boolean {
    return existsSync(this.#metaPath(name));
  }

  /** The names of the stored functions' directories, sorted. */
  async names(): Promise<string[]> {
    const entries = await readdir(this.#dir, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((entry) => entry.isDirectory() && isFunctionName(entry.name))
      .map((entry) => entry.name)
      .sort();
  }

  /** The directory a version's code was extracted to. */
  codeDir(name: string, codeSha256: string): string {
    return join(this.#dir, name, "code", codeSha256);
  }

  /**
   * A function's function.json; undefined when there is none. A damaged one (torn, garbled, not
   * a function's configuration) is moved to the quarantine and reported, and this and every later
   * load of the function throw {@link FunctionDamaged}, until the function is created again.
   */
  async load(name: string): Promise<StoredFunction | undefined> {
    const known = this.#damaged.get(name);
    if (known) throw new FunctionDamaged(name, known);
    const path = this.#metaPath(name);
    try {
      return readSealedJson(path, (value): value is StoredFunction =>
        isStoredFunction(value, name),
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      if (!(error instanceof DamagedFileError)) throw error;
      const damaged = this.#quarantine.put(path, error.reason);
      this.#damaged.set(name, damaged);
      throw new FunctionDamaged(name, damaged);
    }
  }

  /**
   * Reads every stored function.json once, so damaged ones are quarantined and reported at
   * start rather than found by the first deployment. Returns the names found damaged.
   */
  async check(): Promise<string[]> {
    const damaged: string[] = [];
    for (const name of await this.names()) {
      await this.load(name).catch((error: unknown) => {
        if (error instanceof FunctionDamaged) damaged.push(name);
        else throw error;
      });
    }
    return damaged;
  }

  /**
   * Removes what a crash left half done: function.json's temporary files and code directories
   * being extracted. Nothing else (a version's code may have files of any name).
   */
  sweep(): void {
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(this.#dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const name of entries.filter((e) => e.isDirectory()).map((e) => e.name)) {
      const dir = join(this.#dir, name);
      for (const entry of readdirSync(dir)) {
        if (entry.startsWith("function.json.") && entry.endsWith(".tmp"))
          rmSync(join(dir, entry), { force: true });
      }
      let code: string[] = [];
      try {
        code = readdirSync(join(dir, "code"));
      } catch {
        // No code directory: nothing to sweep.
      }
      for (const entry of code)
        if (entry.startsWith(".staging-"))
          rmSync(join(dir, "code", entry), { recursive: true, force: true });
    }
  }

  /**
   * Writes function.json whole or not at all (a synced temporary file renamed into place), with
   * a checksum. A function written again is no longer damaged.
   */
  async save(stored: StoredFunction): Promise<void> {
    writeSealedJson(this.#metaPath(stored.name), stored);
    this.#damaged.delete(stored.name);
  }

  /** Whether the function's function.json was found damaged (and quarantined) since the start. */
  isDamaged(name: string): boolean {
    return this.#damaged.has(name);
  }

  /**
   * Extracts a zip into the code directory named by its SHA-256 (once: the directory is made
   * under a temporary name and renamed into place) and returns the digest. Throws
   * InvalidParameterValueException for a zip that cannot be read or has an entry that would
   * land outside the directory.
   */
  async extract(name: string, zip: Uint8Array): Promise<string> {
    const codeSha256 = sha256Hex(zip);
    const target = this.codeDir(name, codeSha256);
    const codeRoot = dirname(target);
    await mkdir(codeRoot, { recursive: true });
    // A boundary for Node's package.json lookup: the code's .js files are CommonJS unless the
    // zip says otherwise (or they use ESM syntax), whatever the directories above declare.
    const boundary = join(codeRoot, "package.json");
    if (!existsSync(boundary)) await writeFile(boundary, "{}\n");
    if (existsSync(target)) return codeSha256;
    let files: Map<string, Uint8Array>;
    try {
      files = readZip(zip);
    } catch (error) {
      throw new LambdaApiError(
        "InvalidParameterValueException",
        `Could not unzip uploaded file: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const staging = join(codeRoot, `.staging-${randomUUID()}`);
    try {
      for (const [path, bytes] of files) {
        const destination = resolve(staging, path);
        if (!destination.startsWith(staging + sep)) {
          throw new LambdaApiError(
            "InvalidParameterValueException",
            `refusing zip entry ${JSON.stringify(path)}`,
          );
        }
        await mkdir(dirname(destination), { recursive: true });
        await writeFile(destination, bytes);
      }
      await mkdir(staging, { recursive: true });
      await rename(staging, target);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw error;
    }
    return codeSha256;
  }

  #metaPath(name: string): string {
    return join(this.#dir, name, "function.json");
  }
}

/** The schema guard of function.json: the fields every operation relies on, of the right types. */
export function isStoredFunction(value: unknown, name: string): value is StoredFunction {
  if (!isObject(value)) return false;
  const { latest, versions, aliases, environment } = value;
  return (
    value.format === 1 &&
    value.name === name &&
    typeof value.handler === "string" &&
    typeof value.timeoutMs === "number" &&
    typeof value.memorySizeMb === "number" &&
    typeof value.createdAt === "string" &&
    isObject(environment) &&
    Object.values(environment).every((v) => typeof v === "string") &&
    isObject(latest) &&
    typeof latest.codeSha256 === "string" &&
    typeof latest.revisionId === "string" &&
    Array.isArray(versions) &&
    versions.every(
      (v) =>
        isObject(v) &&
        typeof v.version === "string" &&
        typeof v.codeSha256 === "string" &&
        typeof v.revisionId === "string",
    ) &&
    isObject(aliases) &&
    Object.values(aliases).every(
      (a) =>
        isObject(a) &&
        typeof a.version === "string" &&
        typeof a.revisionId === "string" &&
        isObject(a.weights) &&
        Object.values(a.weights).every((w) => typeof w === "number"),
    )
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
