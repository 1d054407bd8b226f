import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { sha256Hex } from "@gantry/core";
import { isFunctionName, LambdaApiError, type StoredFunction } from "./function-model.ts";
import { readZip } from "./zip.ts";

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

  constructor(dir: string) {
    this.#dir = resolve(dir);
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

  /** A function's function.json; undefined when there is none. */
  async load(name: string): Promise<StoredFunction | undefined> {
    let text: string;
    try {
      text = await readFile(this.#metaPath(name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return JSON.parse(text) as StoredFunction;
  }

  /** Writes function.json through a synced temporary file and a rename: never half written. */
  async save(stored: StoredFunction): Promise<void> {
    const path = this.#metaPath(stored.name);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    const file = await open(temporary, "w");
    try {
      await file.writeFile(`${JSON.stringify(stored, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
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
