import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testRegistry } from "@gantry/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { LocalWorld } from "./local-world.ts";
import { createZip } from "./zip.ts";

/** hello-service in prod as @gantry/core/testing's registry has it (its canary: GET /hello, 200, "hello"). */
const registry = testRegistry();
const PROD_FUNCTION = "hello-prod";
const healthy = createZip({
  "index.mjs": 'export const handler = async () => ({ statusCode: 200, body: "hello" });\n',
});
const broken = createZip({
  "index.mjs":
    'export const handler = async () => { throw new ReferenceError("greeting is not defined"); };\n',
});

let world: LocalWorld | undefined;
let home: string | undefined;

afterEach(async () => {
  await world?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function open(canaryIntervalMs: number) {
  home = mkdtempSync(join(tmpdir(), "gantry-world-"));
  world = await LocalWorld.open({
    home,
    registry,
    timeScale: 0.01,
    approvalBaseUrl: "http://127.0.0.1:1",
    canaryIntervalMs,
    trafficPerSecond: 0,
  });
  return world;
}

describe("the local world's scheduled canary", () => {
  it("runs on its interval against the prod alias and publishes CanaryFailures", async () => {
    const w = await open(100);
    await w.functions.createFunction(PROD_FUNCTION, "live", healthy);
    w.start();
    await new Promise((r) => setTimeout(r, 450));

    const runs = w.metrics.statistic(
      "Gantry",
      "CanaryFailures",
      { Service: "hello-service", Stage: "prod" },
      0,
      Date.now() + 1,
      "SampleCount",
    );
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(
      w.metrics.statistic(
        "Gantry",
        "CanaryFailures",
        { Service: "hello-service", Stage: "prod" },
        0,
        Date.now() + 1,
        "Sum",
      ),
    ).toBe(0);
  });

  it("trips the service's canary alarm when prod breaks", async () => {
    const w = await open(0);
    await w.functions.createFunction(PROD_FUNCTION, "live", broken);
    const [result] = await w.runScheduledCanary();
    expect(result?.failures).toBe(1);
    w.alarms.evaluate();
    const [alarm] = await w.alarms.describe(["hello-service-canary"]);
    expect(alarm?.state).toBe("ALARM");
  });

  it("does not run at all with an interval of 0", async () => {
    const w = await open(0);
    await w.functions.createFunction(PROD_FUNCTION, "live", healthy);
    w.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(w.metrics.series().filter((s) => s.name === "CanaryFailures")).toEqual([]);
  });
});

describe("the local world's version metrics", () => {
  it("hands the stage's functions a reader of each version's own calls through the alias", async () => {
    const w = await open(0);
    await w.functions.createFunction(PROD_FUNCTION, "live", broken);
    const from = Date.now();
    for (let i = 0; i < 3; i++) await w.functions.invoke(PROD_FUNCTION, "live", {});
    // Synthetic requests go to the version itself: they must not count as the alias's traffic.
    for (let i = 0; i < 2; i++) await w.functions.invoke(PROD_FUNCTION, "1", {});
    const ports = w.portsFor("prod", {
      sendTaskSuccess: async () => undefined,
      sendTaskFailure: async () => undefined,
      executionStatus: async () => undefined,
    });
    const read = await ports.versionMetrics.read({
      functionName: PROD_FUNCTION,
      alias: "live",
      version: "1",
      from,
      to: Date.now() + 1,
    });
    expect(read).toMatchObject({ invocations: 3, errors: 3, throttles: 0 });
    expect(read.p99DurationMs).toBeGreaterThanOrEqual(0);
  });
});
