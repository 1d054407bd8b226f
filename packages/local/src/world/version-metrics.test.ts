import { InvalidInput } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { LocalMetrics } from "./metrics.ts";
import { LocalVersionMetrics } from "./version-metrics.ts";

const T = 1_800_000_000_000;

function world() {
  const metrics = new LocalMetrics({ now: () => T });
  const call = (
    qualifier: string,
    version: string,
    at: number,
    options: { error?: boolean; durationMs?: number } = {},
  ) =>
    metrics.recordInvocation({
      functionName: "hello-prod",
      qualifier,
      version,
      durationMs: options.durationMs ?? 10,
      error: options.error ?? false,
      at,
    });
  const reader = new LocalVersionMetrics(metrics);
  const read = (version: string, from = T, to = T + 60_000) =>
    reader.read({ functionName: "hello-prod", alias: "live", version, from, to });
  return { metrics, call, read };
}

describe("LocalVersionMetrics", () => {
  it("reads each version's own invocations, errors and p99 through the alias", async () => {
    const w = world();
    // A 10% step: version 5 gets 10 calls that all fail, version 4 gets 90 that succeed.
    for (let i = 0; i < 10; i++) w.call("live", "5", T + i * 100, { error: true, durationMs: 50 });
    for (let i = 0; i < 90; i++) w.call("live", "4", T + i * 100, { durationMs: i + 1 });
    await expect(w.read("5")).resolves.toEqual({
      invocations: 10,
      errors: 10,
      throttles: 0,
      p99DurationMs: 50,
    });
    // Durations 1..90: the ceil(0.99 * 90) = 90th smallest.
    await expect(w.read("4")).resolves.toEqual({
      invocations: 90,
      errors: 0,
      throttles: 0,
      p99DurationMs: 90,
    });
  });

  it("leaves calls to the version itself (synthetic requests) out of the alias's series", async () => {
    const w = world();
    for (let i = 0; i < 20; i++) w.call("5", "5", T + i, { error: true });
    w.call("$LATEST", "$LATEST", T);
    w.call("live", "5", T + 30);
    await expect(w.read("5")).resolves.toEqual({
      invocations: 1,
      errors: 0,
      throttles: 0,
      p99DurationMs: 10,
    });
  });

  it("counts only [from, to) and reports no p99 without invocations", async () => {
    const w = world();
    w.call("live", "5", T - 1, { error: true });
    w.call("live", "5", T + 60_000, { error: true });
    await expect(w.read("5")).resolves.toEqual({ invocations: 0, errors: 0, throttles: 0 });
    w.call("live", "5", T);
    await expect(w.read("5")).resolves.toMatchObject({ invocations: 1, errors: 0 });
  });

  it("adds throttles recorded on the version's series", async () => {
    const w = world();
    const dims = { FunctionName: "hello-prod", Resource: "hello-prod:live", ExecutedVersion: "5" };
    w.metrics.put("AWS/Lambda", "Throttles", dims, 3, T + 5);
    w.metrics.put("AWS/Lambda", "Throttles", dims, 2, T + 6);
    await expect(w.read("5")).resolves.toEqual({ invocations: 0, errors: 0, throttles: 5 });
  });

  it("refuses a query without a version or with a backwards window, naming the field", async () => {
    const w = world();
    const error = await w.read("").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).issues.map((i) => i.field)).toEqual(["version"]);
    await expect(w.read("5", T + 10, T)).rejects.toThrow(/window/);
    await expect(w.read("5", Number.NaN, T)).rejects.toBeInstanceOf(InvalidInput);
  });
});
