import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ConcurrentModification, type ObjectRef, sha256Hex, TargetNotFound } from "@gantry/core";
import { strToU8, zipSync } from "fflate";
import { afterEach, describe, expect, it } from "vitest";
import { type InvocationRecord, LocalFunctions, type LocalFunctionsOptions } from "./functions.ts";
import { createZip } from "./zip.ts";

// --- function code used by the tests (plain JS, as it would be in an artifact) ------------------

const HELLO = `export const handler = async (event, context) => ({
  statusCode: 200,
  body: "hello " + event.name,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  requestId: context.awsRequestId,
  remainingMs: context.getRemainingTimeInMillis(),
});`;
const HELLO_V2 = `export const handler = async (event) => ({ statusCode: 200, body: "hi " + event.name });`;
const COMMONJS = `exports.handler = async (event) => ({ statusCode: 200, body: "cjs " + event.name, cjs: typeof module === "object" });`;
/** Counts invocations per environment: shows whether one was reused. */
const COUNTER = `let count = 0;
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

const ENVIRONMENT = `export const handler = async () => ({
  leaked: process.env.GANTRY_TEST_PARENT_SECRET ?? null,
  own: process.env.GREETING ?? null,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? null,
});`;

// --- fixtures ---------------------------------------------------------------------------------

interface Fixture {
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
const temporary: string[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((functions) => functions.close()));
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fixture(options: Partial<LocalFunctionsOptions> = {}, parent = tmpdir()): Fixture {
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
async function withFunction(f: Fixture, name: string, source: string, timeoutMs?: number) {
  const zip = createZip({ "index.mjs": source });
  await f.functions.createFunction(name, "live", zip, timeoutMs ? { timeoutMs } : {});
  return sha256Hex(zip);
}

// --- the tests --------------------------------------------------------------------------------

describe("LocalFunctions: functions, versions, aliases", () => {
  it("creates a function whose version 1 and alias run the zip's code, once", async () => {
    const f = fixture();
    const sha256 = await withFunction(f, "hello", HELLO);

    expect(f.functions.hasFunction("hello")).toBe(true);
    expect(f.functions.hasFunction("nope")).toBe(false);
    expect(await f.functions.getVersion("hello", "1")).toMatchObject({
      version: "1",
      codeSha256: sha256,
    });
    expect(await f.functions.getVersion("hello", "$LATEST")).toMatchObject({
      version: "$LATEST",
      codeSha256: sha256,
    });
    expect(await f.functions.getVersion("hello", "live")).toMatchObject({
      version: "1",
      codeSha256: sha256,
    });
    const live = await f.functions.getAlias("hello", "live");
    expect(live).toMatchObject({ name: "live", version: "1", weights: {} });
    expect(live?.revisionId).toEqual(expect.any(String));

    const result = await f.functions.invoke("hello", "live", { name: "Ada" });
    expect(result).toMatchObject({
      executedVersion: "1",
      payload: { statusCode: 200, body: "hello Ada", functionName: "hello", functionVersion: "1" },
    });
    expect(result.functionError).toBeUndefined();
    const payload = result.payload as { requestId: string; remainingMs: number };
    expect(payload.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.remainingMs).toBeGreaterThan(2000);
    expect(payload.remainingMs).toBeLessThanOrEqual(3000);

    // Creating it again changes nothing, whatever the code.
    const again = await f.functions.createFunction(
      "hello",
      "live",
      createZip({ "index.mjs": HELLO_V2 }),
    );
    expect(again.versions).toEqual([expect.objectContaining({ version: "1", codeSha256: sha256 })]);
    expect(await f.functions.getAlias("hello", "live")).toEqual(live);
    expect(await f.functions.listFunctions()).toEqual([{ name: "hello", aliases: [live] }]);

    // More aliases, and names that are not Lambda's (or would leave the directory).
    const beta = await f.functions.createAlias("hello", "beta", "1");
    expect(beta).toMatchObject({ name: "beta", version: "1", weights: {} });
    expect((await f.functions.listFunctions())[0]?.aliases.map((a) => a.name)).toEqual([
      "beta",
      "live",
    ]);
    const conflict = { name: "ResourceConflictException" };
    await expect(f.functions.createAlias("hello", "beta", "1")).rejects.toMatchObject(conflict);
    await expect(f.functions.createAlias("hello", "gamma", "3")).rejects.toBeInstanceOf(
      TargetNotFound,
    );
    const invalid = { name: "InvalidParameterValueException" };
    await expect(f.functions.createAlias("hello", "12", "1")).rejects.toMatchObject(invalid);
    const zip = createZip({ "index.mjs": HELLO });
    await expect(f.functions.createFunction("../escape", "live", zip)).rejects.toMatchObject(
      invalid,
    );
    await expect(f.functions.createFunction("ok", "$LATEST", zip)).rejects.toMatchObject(invalid);
    expect(readdirSync(join(f.dir, "functions"))).toEqual(["hello"]);
  });

  it("deploys as Gantry does: update code, publish (hex digests), shift weighted traffic", async () => {
    const f = fixture();
    const v1 = await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });

    const latest = await f.functions.updateCode("hello", v2.ref);
    expect(latest).toEqual({
      version: "$LATEST",
      codeSha256: v2.sha256,
      revisionId: expect.any(String),
    });
    expect(latest.codeSha256).toMatch(/^[0-9a-f]{64}$/);
    const published = await f.functions.publishVersion("hello", {
      codeSha256: v2.sha256,
      ...(latest.revisionId ? { revisionId: latest.revisionId } : {}),
      description: "gantry hello v2",
    });
    expect(published).toMatchObject({ version: "2", codeSha256: v2.sha256 });

    // Same code again: Lambda hands back the version it already has.
    const relatest = await f.functions.updateCode("hello", v2.ref);
    expect(relatest.revisionId).not.toBe(latest.revisionId);
    const republished = await f.functions.publishVersion("hello", {
      codeSha256: v2.sha256,
      description: "again",
    });
    expect(republished.version).toBe("2");
    expect((await f.functions.describe("hello"))?.versions).toEqual([
      expect.objectContaining({ version: "1", codeSha256: v1, description: "" }),
      expect.objectContaining({
        version: "2",
        codeSha256: v2.sha256,
        description: "gantry hello v2",
      }),
    ]);

    const before = await f.functions.getAlias("hello", "live");
    const shifted = await f.functions.updateAlias("hello", "live", {
      version: "1",
      weights: { "2": 0.25 },
      ...(before?.revisionId ? { revisionId: before.revisionId } : {}),
    });
    expect(shifted).toMatchObject({ name: "live", version: "1", weights: { "2": 0.25 } });
    expect(shifted.revisionId).not.toBe(before?.revisionId);

    // Draws below the weight go to version 2, the rest to the primary.
    f.draws.push(0.1, 0.3, 0.2499, 0.25, 0.99, 0);
    const executed: string[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await f.functions.invoke("hello", "live", { name: "Ada" });
      executed.push(result.executedVersion);
      bodies.push((result.payload as { body: string }).body);
    }
    expect(executed).toEqual(["2", "1", "2", "1", "1", "2"]);
    expect(bodies).toEqual(["hi Ada", "hello Ada", "hi Ada", "hello Ada", "hello Ada", "hi Ada"]);

    // Versions and $LATEST can be invoked directly (no draw needed).
    expect((await f.functions.invoke("hello", "1", { name: "B" })).payload).toMatchObject({
      body: "hello B",
    });
    expect(await f.functions.invoke("hello", "2", { name: "C" })).toMatchObject({
      executedVersion: "2",
      payload: { body: "hi C" },
    });
    expect(await f.functions.invoke("hello", "$LATEST", { name: "D" })).toMatchObject({
      executedVersion: "$LATEST",
      payload: { body: "hi D" },
    });

    // Promote, then clear the weights.
    const promoted = await f.functions.updateAlias("hello", "live", { version: "2", weights: {} });
    expect(promoted).toMatchObject({ version: "2", weights: {} });
    expect((await f.functions.invoke("hello", "live", { name: "E" })).executedVersion).toBe("2");
  });

  it("refuses stale revisions with ConcurrentModification", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    const first = await f.functions.updateCode("hello", v2.ref);
    await f.functions.updateCode("hello", v2.ref); // someone else moved $LATEST on

    const stale = f.functions.publishVersion("hello", {
      codeSha256: v2.sha256,
      revisionId: first.revisionId ?? "",
      description: "x",
    });
    await expect(stale).rejects.toBeInstanceOf(ConcurrentModification);
    await expect(stale).rejects.toMatchObject({ name: "ConcurrentModification" });
    expect((await f.functions.describe("hello"))?.versions).toHaveLength(1);

    await f.functions.publishVersion("hello", { codeSha256: v2.sha256, description: "x" });
    const alias = await f.functions.getAlias("hello", "live");
    await f.functions.updateAlias("hello", "live", { version: "2", weights: {} });
    await expect(
      f.functions.updateAlias("hello", "live", {
        version: "1",
        weights: {},
        revisionId: alias?.revisionId ?? "",
      }),
    ).rejects.toBeInstanceOf(ConcurrentModification);
    expect(await f.functions.getAlias("hello", "live")).toMatchObject({ version: "2" });
  });

  it("refuses to publish code other than $LATEST's", async () => {
    const f = fixture();
    const v1 = await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    await f.functions.updateCode("hello", v2.ref);
    await expect(
      f.functions.publishVersion("hello", { codeSha256: v1, description: "x" }),
    ).rejects.toMatchObject({
      name: "InvalidParameterValueException",
    });
    expect((await f.functions.describe("hello"))?.versions).toHaveLength(1);
  });

  it("applies Lambda's routing rules to aliases", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    for (const [i, source] of [HELLO_V2, COMMONJS].entries()) {
      const { ref, sha256 } = f.put(`hello/${i}.zip`, { "index.mjs": source });
      await f.functions.updateCode("hello", ref);
      await f.functions.publishVersion("hello", { codeSha256: sha256, description: "" });
    }
    const update = (version: string, weights: Record<string, number>) =>
      f.functions.updateAlias("hello", "live", { version, weights });

    await expect(update("9", {})).rejects.toBeInstanceOf(TargetNotFound);
    await expect(update("1", { "9": 0.1 })).rejects.toBeInstanceOf(TargetNotFound);
    const invalid = { name: "InvalidParameterValueException" };
    await expect(update("1", { "2": 0.1, "3": 0.1 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": 1 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": 0 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": -0.5 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": Number.NaN })).rejects.toMatchObject(invalid);
    await expect(update("1", { "1": 0.5 })).rejects.toMatchObject(invalid);
    await expect(update("1", { $LATEST: 0.5 })).rejects.toMatchObject(invalid);
    await expect(update("$LATEST", { "2": 0.5 })).rejects.toMatchObject(invalid);
    expect(await f.functions.getAlias("hello", "live")).toMatchObject({
      version: "1",
      weights: {},
    });

    expect(await update("3", { "2": 0.5 })).toMatchObject({ version: "3", weights: { "2": 0.5 } });
    expect(await update("$LATEST", {})).toMatchObject({ version: "$LATEST", weights: {} });
  });

  it("answers undefined for unknown things on reads and TargetNotFound on changes", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    expect(await f.functions.getAlias("nope", "live")).toBeUndefined();
    expect(await f.functions.getAlias("hello", "nope")).toBeUndefined();
    expect(await f.functions.getVersion("nope", "1")).toBeUndefined();
    expect(await f.functions.getVersion("hello", "7")).toBeUndefined();
    expect(await f.functions.getVersion("../../etc", "1")).toBeUndefined();
    expect(await f.functions.describe("nope")).toBeUndefined();

    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    await expect(f.functions.updateCode("nope", v2.ref)).rejects.toBeInstanceOf(TargetNotFound);
    await expect(
      f.functions.publishVersion("nope", { codeSha256: v2.sha256, description: "" }),
    ).rejects.toBeInstanceOf(TargetNotFound);
    await expect(
      f.functions.updateAlias("nope", "live", { version: "1", weights: {} }),
    ).rejects.toBeInstanceOf(TargetNotFound);
    await expect(
      f.functions.updateAlias("hello", "nope", { version: "1", weights: {} }),
    ).rejects.toBeInstanceOf(TargetNotFound);
    await expect(f.functions.invoke("nope", "live", {})).rejects.toBeInstanceOf(TargetNotFound);
    await expect(f.functions.invoke("hello", "nope", {})).rejects.toBeInstanceOf(TargetNotFound);
    await expect(f.functions.invoke("hello", "5", {})).rejects.toBeInstanceOf(TargetNotFound);

    // An object that is not in the bucket: Lambda's InvalidParameterValueException.
    await expect(
      f.functions.updateCode("hello", { bucket: "artifacts", key: "missing.zip" }),
    ).rejects.toMatchObject({
      name: "InvalidParameterValueException",
      message: expect.stringContaining("NoSuchKey"),
    });
    expect(f.records).toEqual([]);
  });

  it("refuses a zip-slip archive without writing anything outside the function's directory", async () => {
    const f = fixture();
    const sha256 = await withFunction(f, "hello", HELLO);
    const evil = zipSync({ "index.mjs": strToU8(HELLO_V2), "../../../evil.mjs": strToU8("pwned") });
    f.objects.set("artifacts/evil.zip", evil);

    await expect(
      f.functions.updateCode("hello", { bucket: "artifacts", key: "evil.zip" }),
    ).rejects.toMatchObject({
      name: "InvalidParameterValueException",
      message: expect.stringMatching(/Could not unzip.*evil\.mjs/),
    });
    expect(existsSync(join(f.dir, "evil.mjs"))).toBe(false);
    expect(readdirSync(join(f.dir, "functions", "hello", "code")).sort()).toEqual([
      sha256,
      "package.json",
    ]);
    expect(await f.functions.getVersion("hello", "$LATEST")).toMatchObject({ codeSha256: sha256 });
    await expect(f.functions.createFunction("evil", "live", evil)).rejects.toMatchObject({
      name: "InvalidParameterValueException",
    });
    expect(f.functions.hasFunction("evil")).toBe(false);
  });

  it("keeps versions and aliases across a restart, and runs them", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    await f.functions.updateCode("hello", v2.ref);
    await f.functions.publishVersion("hello", { codeSha256: v2.sha256, description: "v2" });
    await f.functions.updateAlias("hello", "live", { version: "1", weights: { "2": 0.5 } });
    const described = await f.functions.describe("hello");
    await f.functions.close();
    await expect(f.functions.invoke("hello", "1", {})).rejects.toThrow(/closed/);

    const restarted = f.reopen();
    expect(await restarted.describe("hello")).toEqual(described);
    expect(await restarted.getAlias("hello", "live")).toEqual(described?.aliases[0]);
    f.draws.push(0.4, 0.6);
    expect((await restarted.invoke("hello", "live", { name: "X" })).payload).toMatchObject({
      body: "hi X",
    });
    expect((await restarted.invoke("hello", "live", { name: "Y" })).payload).toMatchObject({
      body: "hello Y",
    });
    // Every write went through a temporary file and a rename: none is left behind.
    expect(readdirSync(join(f.dir, "functions", "hello")).sort()).toEqual([
      "code",
      "function.json",
    ]);
  });
});

describe("LocalFunctions: running code", () => {
  it("starts an environment on the first call and reuses it warm", async () => {
    const f = fixture();
    await withFunction(f, "counter", COUNTER);
    const coldStarted = performance.now();
    expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: 1 });
    const coldMs = performance.now() - coldStarted;
    const warm: number[] = [];
    for (let i = 2; i <= 21; i++) {
      const started = performance.now();
      expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: i });
      warm.push(performance.now() - started);
    }
    expect(f.records.map((r) => r.coldStart)).toEqual([true, ...warm.map(() => false)]);
    const sorted = [...warm].sort((a, b) => a - b);
    console.info(
      `cold start ${coldMs.toFixed(1)} ms; warm invoke median ${sorted[10]?.toFixed(2)} ms, max ${sorted.at(-1)?.toFixed(2)} ms`,
    );
  });

  it("runs CommonJS .js handlers even under a package.json that says type: module", async () => {
    const parent = mkdtempSync(join(tmpdir(), "gantry-esm-parent-"));
    temporary.push(parent);
    writeFileSync(join(parent, "package.json"), JSON.stringify({ type: "module" }));
    const f = fixture({}, parent);
    await f.functions.createFunction("cjs", "live", createZip({ "index.js": COMMONJS }));
    expect((await f.functions.invoke("cjs", "live", { name: "Ada" })).payload).toEqual({
      statusCode: 200,
      body: "cjs Ada",
      cjs: true,
    });
  });

  it("resolves handler strings: other files and nested exports, or Lambda's errors", async () => {
    const f = fixture();
    const zip = createZip({
      "src/app.mjs":
        "export const api = { main: async () => 'nested' }; export const flat = () => 'sync';",
      "lib.cjs": "module.exports = { handler: async () => 'from cjs' };",
    });
    await f.functions.createFunction("nested", "live", zip, { handler: "src/app.api.main" });
    await f.functions.createFunction("flat", "live", zip, { handler: "src/app.flat" });
    await f.functions.createFunction("cjsfile", "live", zip, { handler: "lib.handler" });
    await f.functions.createFunction("missing", "live", zip, { handler: "src/app.nope" });
    await f.functions.createFunction("nofile", "live", zip, { handler: "index.handler" });
    await f.functions.createFunction("escape", "live", zip, { handler: "../../x.handler" });
    expect((await f.functions.invoke("nested", "live", {})).payload).toBe("nested");
    expect((await f.functions.invoke("flat", "live", {})).payload).toBe("sync");
    expect((await f.functions.invoke("cjsfile", "live", {})).payload).toBe("from cjs");
    const errorTypes = [];
    for (const name of ["missing", "nofile", "escape"]) {
      const result = await f.functions.invoke(name, "live", {});
      expect(result.functionError).toBe("Unhandled");
      errorTypes.push((result.payload as { errorType: string }).errorType);
    }
    expect(errorTypes).toEqual([
      "Runtime.HandlerNotFound",
      "Runtime.ImportModuleError",
      "Runtime.MalformedHandlerName",
    ]);
  });

  it("reports a thrown error as Lambda does and keeps the environment", async () => {
    const f = fixture();
    await withFunction(f, "counter", COUNTER);
    const result = await f.functions.invoke("counter", "live", { throw: true });
    expect(result).toMatchObject({
      executedVersion: "1",
      functionError: "Unhandled",
      payload: {
        errorType: "BoomError",
        errorMessage: "boom",
        trace: expect.arrayContaining([expect.any(String)]),
      },
    });
    expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: 2 });
  });

  it("terminates a handler that runs past its timeout and starts afresh", async () => {
    const f = fixture();
    await withFunction(f, "counter", COUNTER, 300);
    await f.functions.invoke("counter", "live", {}); // warm, so only the handler's time counts
    const started = performance.now();
    const result = await f.functions.invoke("counter", "live", { loop: true });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({
      executedVersion: "1",
      functionError: "Unhandled",
      payload: {
        errorType: "Sandbox.Timedout",
        errorMessage: expect.stringContaining("timed out after 0.30 seconds"),
      },
    });
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(2000);
    console.info(`a 300 ms timeout was reported after ${elapsed.toFixed(0)} ms`);
    // A new environment: the count starts again.
    expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: 1 });
    expect(f.records.map((r) => [r.error, r.coldStart])).toEqual([
      [false, true],
      [true, false],
      [false, true],
    ]);
  });

  it("survives process.exit() and crashes outside the handler, with a fresh environment next", async () => {
    const f = fixture();
    await withFunction(f, "counter", COUNTER);
    expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: 1 });

    const exited = await f.functions.invoke("counter", "live", { exit: true });
    expect(exited).toMatchObject({
      functionError: "Unhandled",
      payload: {
        errorType: "Runtime.ExitError",
        errorMessage: expect.stringContaining("exit status 1"),
      },
    });
    expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: 1 });

    const crashed = await f.functions.invoke("counter", "live", { crashLater: true });
    expect(crashed).toMatchObject({
      functionError: "Unhandled",
      payload: { errorType: "TypeError", errorMessage: "crashed outside the handler" },
    });
    expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: 1 });
  });

  it("stops a handler that exhausts its memory limit", async () => {
    const f = fixture();
    await f.functions.createFunction("counter", "live", createZip({ "index.mjs": COUNTER }), {
      memorySizeMb: 32,
    });
    const result = await f.functions.invoke("counter", "live", { hog: true });
    expect(result).toMatchObject({
      functionError: "Unhandled",
      payload: { errorType: "Runtime.OutOfMemory" },
    });
    expect((await f.functions.invoke("counter", "live", {})).payload).toEqual({ count: 1 });
  }, 20_000);

  it("gives concurrent invocations their own environments, up to the limit", async () => {
    const f = fixture();
    await withFunction(f, "counter", COUNTER);
    await Promise.all([
      f.functions.invoke("counter", "live", { sleepMs: 100 }),
      f.functions.invoke("counter", "live", { sleepMs: 100 }),
    ]);
    expect(f.records.map((r) => r.coldStart)).toEqual([true, true]);

    const g = fixture({ maxWorkersPerVersion: 1 });
    await withFunction(g, "counter", COUNTER);
    const results = await Promise.all([
      g.functions.invoke("counter", "live", { sleepMs: 100 }),
      g.functions.invoke("counter", "live", { sleepMs: 100 }),
    ]);
    // One environment, so one ran after the other (in whichever order they reached it).
    const counts = results.map((r) => (r.payload as { count: number }).count);
    expect(counts.sort()).toEqual([1, 2]);
    expect(g.records.map((r) => r.coldStart)).toEqual([true, false]);
  });

  it("runs $LATEST's new code after an update", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    expect((await f.functions.invoke("hello", "$LATEST", { name: "A" })).payload).toMatchObject({
      body: "hello A",
    });
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    await f.functions.updateCode("hello", v2.ref);
    expect((await f.functions.invoke("hello", "$LATEST", { name: "A" })).payload).toMatchObject({
      body: "hi A",
    });
  });

  it("gives the code Lambda's environment variables and its own, not the control plane's", async () => {
    process.env.GANTRY_TEST_PARENT_SECRET = "do-not-leak";
    try {
      const f = fixture();
      await f.functions.createFunction("env", "live", createZip({ "index.mjs": ENVIRONMENT }), {
        environment: { GREETING: "hello" },
      });
      expect((await f.functions.invoke("env", "live", {})).payload).toEqual({
        leaked: null,
        own: "hello",
        functionName: "env",
      });
    } finally {
      delete process.env.GANTRY_TEST_PARENT_SECRET;
    }
  });

  it("tells onInvocation about every invocation", async () => {
    const f = fixture();
    await withFunction(f, "counter", COUNTER);
    const { sha256 } = f.put("counter/v2.zip", { "index.mjs": `${COUNTER}\n// v2` });
    await f.functions.updateCode("counter", { bucket: "artifacts", key: "counter/v2.zip" });
    await f.functions.publishVersion("counter", { codeSha256: sha256, description: "" });
    await f.functions.updateAlias("counter", "live", { version: "1", weights: { "2": 0.5 } });
    f.draws.push(0.9, 0.1);
    const before = Date.now();
    await f.functions.invoke("counter", "live", {});
    await f.functions.invoke("counter", "live", { throw: true });
    await f.functions.invoke("counter", "2", {});
    expect(f.records).toEqual([
      {
        functionName: "counter",
        qualifier: "live",
        version: "1",
        error: false,
        coldStart: true,
        durationMs: expect.any(Number),
        at: expect.any(Number),
      },
      {
        functionName: "counter",
        qualifier: "live",
        version: "2",
        error: true,
        coldStart: true,
        durationMs: expect.any(Number),
        at: expect.any(Number),
      },
      {
        functionName: "counter",
        qualifier: "2",
        version: "2",
        error: false,
        coldStart: false,
        durationMs: expect.any(Number),
        at: expect.any(Number),
      },
    ]);
    for (const record of f.records) {
      expect(record.at).toBeGreaterThanOrEqual(before);
      expect(record.at).toBeLessThanOrEqual(Date.now());
      expect(record.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it("lets the process exit while environments sit idle (workers are unref'd)", () => {
    const home = mkdtempSync(join(tmpdir(), "gantry-unref-"));
    temporary.push(home);
    mkdirSync(join(home, "functions"));
    const moduleUrl = new URL("./functions.ts", import.meta.url).href;
    const zipUrl = new URL("./zip.ts", import.meta.url).href;
    // No close(): the process must still exit by itself once the invocation is done.
    const script = `
      import { LocalFunctions } from ${JSON.stringify(moduleUrl)};
      import { createZip } from ${JSON.stringify(zipUrl)};
      const functions = new LocalFunctions({ dir: ${JSON.stringify(join(home, "functions"))}, readObject: async () => undefined });
      await functions.createFunction("hello", "live", createZip({ "index.mjs": ${JSON.stringify(HELLO)} }));
      const result = await functions.invoke("hello", "live", { name: "child" });
      console.log(JSON.stringify(result.payload.body));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../../../..", import.meta.url)),
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('"hello child"');
  }, 30_000);
});
