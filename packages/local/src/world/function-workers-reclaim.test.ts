/**
 * Reclaiming execution environments (function-workers.ts): however many versions are published
 * and invoked, the worker threads alive stay bounded (an idle cap, least recently used first,
 * and a total cap); idle ones are stopped after the idle timeout; a reclaimed version cold-starts
 * cleanly; an invocation in flight is never stopped to make room. Threads are counted twice: by
 * the pool's own stats and by the process's threads (Linux names a worker's thread after it).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { COUNTER, cleanUpFixtures, type Fixture, fixture, withFunction } from "./testing.ts";

afterEach(cleanUpFixtures);

/** Threads of this process running `functionName`'s code (undefined where /proc is missing). */
function threadsOf(functionName: string): number | undefined {
  if (!existsSync("/proc/self/task")) return undefined;
  let count = 0;
  for (const task of readdirSync("/proc/self/task")) {
    try {
      if (readFileSync(`/proc/self/task/${task}/comm`, "utf8").startsWith(`${functionName}:`))
        count++;
    } catch {
      // The thread ended while we looked.
    }
  }
  return count;
}

/** Waits until `probe` holds (terminated threads take a moment to go). */
async function eventually(probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("the condition did not hold in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Publishes `count` versions of `name`, each answering its own number. */
async function publishVersions(f: Fixture, name: string, count: number): Promise<void> {
  await withFunction(f, name, "export const handler = async () => ({ v: 1 });");
  for (let v = 2; v <= count; v++) {
    const { ref } = f.put(`${name}/v${v}.zip`, {
      "index.mjs": `export const handler = async (event) => {
        if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
        return { v: ${v} };
      };`,
    });
    const latest = await f.functions.updateCode(name, ref);
    await f.functions.publishVersion(name, {
      codeSha256: latest.codeSha256,
      revisionId: latest.revisionId,
      description: `v${v}`,
    });
  }
}

describe("LocalFunctions: reclaiming execution environments", () => {
  it("keeps at most maxIdleWorkers environments after 30 versions were invoked, and reclaimed versions still answer", async () => {
    const f = fixture({ maxIdleWorkers: 4 });
    await publishVersions(f, "many", 30);
    for (let v = 1; v <= 30; v++) {
      expect((await f.functions.invoke("many", String(v), {})).payload).toEqual({ v });
    }
    await eventually(() => f.functions.workerStats().stopping === 0);
    expect(f.functions.workerStats()).toMatchObject({ live: 4, idle: 4, busy: 0, versions: 4 });
    if (threadsOf("many") !== undefined) await eventually(() => threadsOf("many") === 4);
    // The most recently used stay warm; an early version was reclaimed and cold-starts cleanly.
    const before = f.records.length;
    expect((await f.functions.invoke("many", "30", {})).payload).toEqual({ v: 30 });
    expect((await f.functions.invoke("many", "1", {})).payload).toEqual({ v: 1 });
    expect(f.records.slice(before).map((r) => r.coldStart)).toEqual([false, true]);
    await eventually(() => f.functions.workerStats().live === 4);
  }, 60_000);

  it("stops an idle environment after the idle timeout; the next invocation cold-starts", async () => {
    const f = fixture({ idleTimeoutMs: 150 });
    await withFunction(f, "idler", COUNTER);
    expect((await f.functions.invoke("idler", "live", {})).payload).toEqual({ count: 1 });
    expect(f.functions.workerStats()).toMatchObject({ live: 1, idle: 1 });
    await eventually(() => f.functions.workerStats().live === 0);
    if (threadsOf("idler") !== undefined) await eventually(() => threadsOf("idler") === 0);
    // A fresh environment: its module state starts over.
    expect((await f.functions.invoke("idler", "live", {})).payload).toEqual({ count: 1 });
    expect(f.records.map((r) => r.coldStart)).toEqual([true, true]);
  });

  it("caps environments across versions: invocations wait for room, none in flight is stopped", async () => {
    const f = fixture({ maxWorkers: 2, maxIdleWorkers: 2 });
    await publishVersions(f, "capped", 5);
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, f.functions.workerStats().live, threadsOf("capped") ?? 0);
    }, 5);
    try {
      const results = await Promise.all(
        [2, 3, 4, 5, 2, 3].map((v) => f.functions.invoke("capped", String(v), { sleepMs: 150 })),
      );
      expect(results.map((r) => r.functionError)).toEqual(Array(6).fill(undefined));
      expect(results.map((r) => r.payload)).toEqual([2, 3, 4, 5, 2, 3].map((v) => ({ v })));
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(f.functions.workerStats().live).toBeLessThanOrEqual(2);
  }, 30_000);
});
