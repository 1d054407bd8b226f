/**
 * LocalMetrics' retention (metrics.ts): datapoints past the window go, and so do the series of
 * versions that no longer get invocations (each deployment publishes a version).
 */
import { describe, expect, it } from "vitest";
import { LocalMetrics } from "./metrics.ts";

const invocation = (version: string, at: number, error = false) => ({
  functionName: "hello",
  qualifier: "live",
  version,
  durationMs: 3,
  error,
  at,
});

describe("LocalMetrics", () => {
  it("drops the series of versions that stopped getting invocations once their datapoints expire", () => {
    const metrics = new LocalMetrics({ retentionMs: 1000 });
    for (let v = 1; v <= 30; v++) metrics.recordInvocation(invocation(String(v), v * 1000));
    const versions = new Set(
      metrics
        .series()
        .flatMap((s) => (s.dimensions.ExecutedVersion ? [s.dimensions.ExecutedVersion] : [])),
    );
    // Only the versions invoked within the last retention window are left.
    expect([...versions].sort()).toEqual(["29", "30"]);
    expect(metrics.series().length).toBeLessThanOrEqual(2 * 3 + 2 * 3);
  });

  it("keeps every datapoint within the retention window for the alarms and the canary", () => {
    const metrics = new LocalMetrics({ retentionMs: 60_000 });
    for (let t = 0; t < 50; t++)
      metrics.recordInvocation(invocation("2", 1000 + t * 100, t % 10 === 0));
    metrics.recordInvocation(invocation("3", 40_000));
    const dims = { FunctionName: "hello", Resource: "hello:live", ExecutedVersion: "2" };
    expect(metrics.statistic("AWS/Lambda", "Invocations", dims, 0, 60_000, "Sum")).toBe(50);
    expect(metrics.statistic("AWS/Lambda", "Errors", dims, 0, 60_000, "Sum")).toBe(5);
  });

  it("computes a nearest-rank percentile of the window's datapoints (p99 of Duration)", () => {
    const metrics = new LocalMetrics({ retentionMs: 600_000 });
    const dims = { FunctionName: "hello", Resource: "hello:live", ExecutedVersion: "2" };
    // Durations 1..200 ms, one per invocation, in the window [0, 200_000).
    for (let d = 1; d <= 200; d++)
      metrics.recordInvocation({ ...invocation("2", d * 1000 - 500), durationMs: d });
    // ceil(0.99 * 200) = 198th smallest.
    expect(metrics.statistic("AWS/Lambda", "Duration", dims, 0, 200_000, "p99")).toBe(198);
    expect(metrics.statistic("AWS/Lambda", "Duration", dims, 0, 200_000, "p50")).toBe(100);
    // Only the window's datapoints: the first 10 (1..10 ms).
    expect(metrics.statistic("AWS/Lambda", "Duration", dims, 0, 10_000, "p99")).toBe(10);
    expect(metrics.statistic("AWS/Lambda", "Duration", dims, 500_000, 600_000, "p99")).toBe(
      undefined,
    );
    expect(() => metrics.statistic("AWS/Lambda", "Duration", dims, 0, 200_000, "p101")).toThrow(
      RangeError,
    );
  });
});
