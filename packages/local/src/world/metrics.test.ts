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
});
