/**
 * Test helpers for LocalFunctions (functions.test.ts and the tests of its parts,
 * function-model.test.ts, function-store.test.ts, function-workers.test.ts): handler code as an
 * artifact would hold it, and a fixture with its own directory, bucket and random draws.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ObjectRef, sha256Hex } from "@gantry/core";
import { type InvocationRecord, LocalFunctions, type LocalFunctionsOptions } from "./functions.ts";
import { createZip } from "./zip.ts";

// --- function code used by the tests (plain JS, as it would be in an artifact) ------------------

export const HELLO = `export const handler = async (event, context) => ({
  statusCode: 200,
  body: "hello " + event.name,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  requestId: context.awsRequestId,
  remainingMs: context.getRemainingTimeInMillis(),
});`;
export const HELLO_V2 = `export const handler = async (event) => ({ statusCode: 200, body: "hi " + event.name });`;
export const COMMONJS = `exports.handler = async (event) => ({ statusCode: 200, body: "cjs " + event.name, cjs: typeof module === "object" });`;
/** Counts invocations per environment: shows whether one was reused. */
export const COUNTER = `let count = 0;
export const handler = async (event) => {
  count += 1;
  if (event.throw) { const error = new Error("boom"); error.name = "BoomError"; throw error; }
  if (event.loop) for (;;) {}
  if (event.exit) process.exit(1);
  if (event.crashLater) return new Promise(() => setTimeout(() => { throw new TypeError("crashed outside the handler"); }, 1));
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event.hog) { const hog = []; for (;;) hog.push(new Array(100000).fill(Math.random())); }
  return { count };
};`;

export const ENVIRONMENT = `export const handler = async () => ({
  leaked: process.env.GANTRY_TEST_PARENT_SECRET ?? null,
  own: process.env.GREETING ?? null,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? null,
});`;

// --- fixtures ---------------------------------------------------------------------------------

export interface Fixture {
  readonly dir: string;
  readonly functions: LocalFunctions;
  readonly records: InvocationRecord[];
  /** The artifact bucket that readObject serves. */
  readonly objects: Map<string, Uint8Array>;
  /** Values the weighted alias routing draws, in order. */
  readonly draws: number[];
  /** Puts a zip of `files` in the bucket; returns its ref and SHA-256. */
  put(key: string, files: Record<string, string>): { ref: ObjectRef; sha256: string };
  reopen(options?: Partial<LocalFunctionsOptions>): LocalFunctions;
}

const open: LocalFunctions[] = [];
/** Directories {@link cleanUpFixtures} removes: a test adds the ones it makes itself. */
export const temporary: string[] = [];

/**
 * Closes every LocalFunctions the fixtures opened and removes their directories: each test
 * file runs it after each test (`afterEach(cleanUpFixtures)`).
 */
export async function cleanUpFixtures(): Promise<void> {
  await Promise.all(open.splice(0).map((functions) => functions.close()));
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function fixture(options: Partial<LocalFunctionsOptions> = {}, parent = tmpdir()): Fixture {
  const dir = mkdtempSync(join(parent, "gantry-functions-"));
  temporary.push(dir);
  const records: InvocationRecord[] = [];
  const objects = new Map<string, Uint8Array>();
  const draws: number[] = [];
  const make = (extra: Partial<LocalFunctionsOptions> = {}) => {
    const functions = new LocalFunctions({
      dir: join(dir, "functions"),
      readObject: async (ref) => objects.get(`${ref.bucket}/${ref.key}`),
      onInvocation: (record) => records.push(record),
      random: () => {
        const next = draws.shift();
        if (next === undefined) throw new Error("the test did not provide a random draw");
        return next;
      },
      ...options,
      ...extra,
    });
    open.push(functions);
    return functions;
  };
  return {
    dir,
    functions: make(),
    records,
    objects,
    draws,
    put(key, files) {
      const zip = createZip(files);
      objects.set(`artifacts/${key}`, zip);
      return { ref: { bucket: "artifacts", key }, sha256: sha256Hex(zip) };
    },
    reopen: make,
  };
}

/** Creates `name` with alias "live" from the given index.mjs. */
export async function withFunction(f: Fixture, name: string, source: string, timeoutMs?: number) {
  const zip = createZip({ "index.mjs": source });
  await f.functions.createFunction(name, "live", zip, timeoutMs ? { timeoutMs } : {});
  return sha256Hex(zip);
}
