/**
 * Running code in worker threads (function-workers.ts), through LocalFunctions: cold and warm
 * starts, handler strings, errors, timeouts, crashes, memory limits, concurrency, environment
 * variables, and the invocation records.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  COMMONJS,
  COUNTER,
  cleanUpFixtures,
  ENVIRONMENT,
  fixture,
  HELLO,
  HELLO_V2,
  temporary,
  withFunction,
} from "./testing.ts";
import { createZip } from "./zip.ts";

afterEach(cleanUpFixtures);

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
