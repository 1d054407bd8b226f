import { describe, expect, it } from "vitest";
import { errorRateAlarm, gantryMetricAlarm, LocalAlarms } from "./alarms.ts";
import { LocalMetrics } from "./metrics.ts";

const NOW = 1_800_000_000_000;
const PERIOD = 60_000;
const DIMENSIONS = { Service: "hello-service", Stage: "prod" };

function world(now = NOW) {
  const clock = { now };
  const metrics = new LocalMetrics({ now: () => clock.now });
  const alarms = new LocalAlarms(
    metrics,
    [
      gantryMetricAlarm("canary", "CanaryFailures", DIMENSIONS, PERIOD, "canary failed"),
      errorRateAlarm("errors", "hello-prod", "live", PERIOD),
    ],
    { now: () => clock.now },
  );
  const state = async (name: string) => (await alarms.describe([name]))[0]?.state;
  return { clock, metrics, alarms, state };
}

describe("LocalAlarms", () => {
  it("counts a datapoint put in the very millisecond the alarm is evaluated", async () => {
    const w = world();
    w.metrics.put("Gantry", "CanaryFailures", DIMENSIONS, 1, NOW);
    w.alarms.evaluate();
    expect(await w.state("canary")).toBe("ALARM");
  });

  it("lets a datapoint leave the evaluation period once a whole period has passed", async () => {
    const w = world();
    w.metrics.put("Gantry", "CanaryFailures", DIMENSIONS, 1, NOW);
    w.clock.now = NOW + PERIOD - 1;
    w.alarms.evaluate();
    expect(await w.state("canary")).toBe("ALARM");
    w.clock.now = NOW + PERIOD;
    w.alarms.evaluate();
    expect(await w.state("canary")).toBe("OK");
  });

  it("reports INSUFFICIENT_DATA for an error rate over too few invocations, then ALARM at 5%", async () => {
    const w = world();
    const dims = { FunctionName: "hello-prod", Resource: "hello-prod:live" };
    for (let i = 0; i < 4; i++) w.metrics.put("AWS/Lambda", "Invocations", dims, 1, NOW);
    w.metrics.put("AWS/Lambda", "Errors", dims, 1, NOW);
    w.alarms.evaluate();
    expect(await w.state("errors")).toBe("INSUFFICIENT_DATA");
    w.metrics.put("AWS/Lambda", "Invocations", dims, 1, NOW);
    w.alarms.evaluate();
    expect(await w.state("errors")).toBe("ALARM");
  });

  it("names the metric each alarm watches: Errors for an error rate, its own for a metric alarm", async () => {
    const w = world();
    const described = await w.alarms.describe(["errors", "canary", "no-such-alarm"]);
    expect(described.map((a) => [a.name, a.metricName])).toEqual([
      ["errors", "Errors"],
      ["canary", "CanaryFailures"],
    ]);
    // Still there once the state changed.
    w.alarms.setState("errors", "ALARM", "forced");
    expect((await w.alarms.describe(["errors"]))[0]).toMatchObject({
      state: "ALARM",
      metricName: "Errors",
    });
  });
});
