import { describe, expect, it } from "vitest";
import { silentLog } from "../ports.ts";
import { defineRegistry } from "../registry.ts";
import { MemoryArtifacts, MemoryFunctions, MemoryMetrics } from "../testing/memory-world.ts";
import { runScheduledCanary } from "./scheduled-canary.ts";

const stage = (functionName: string) => ({
  functionName,
  alias: "live",
  alarms: [],
  rollout: { steps: [], stepWaitSeconds: 60, pollSeconds: 60, bakeSeconds: 60 },
  verifyPreprod: false,
});
const service = (name: string, bodyIncludes: string) => ({
  canary: {
    checks: [
      { name: "GET /", event: {}, expect: { statusCode: 200, bodyIncludes } },
      { name: "health", event: {}, expect: { statusCode: 200 } },
    ],
  },
  stages: { preprod: stage(`${name}-preprod`), prod: stage(`${name}-prod`) },
});
const registry = defineRegistry({
  stages: {
    preprod: { sourceBucket: "acme-preprod", artifactBucket: "acme-preprod" },
    prod: { sourceBucket: "acme-preprod", artifactBucket: "acme-prod" },
  },
  services: { orders: service("orders", "orders"), billing: service("billing", "invoice") },
});

describe("runScheduledCanary", () => {
  it("runs every service's checks against the stage's alias and publishes failures per service", async () => {
    const functions = new MemoryFunctions(new MemoryArtifacts());
    functions.create("orders-prod", "live", { statusCode: 200, body: "orders ok" });
    functions.create("billing-prod", "live", { statusCode: 200, body: "nothing to bill" });
    const metrics = new MemoryMetrics();

    const results = await runScheduledCanary(registry, "prod", { functions, metrics });

    expect(results.map((r) => [r.service, r.target, r.failures])).toEqual([
      ["orders", "orders-prod:live", 0],
      ["billing", "billing-prod:live", 1],
    ]);
    expect(functions.invocations.map((i) => `${i.functionName}:${i.qualifier}`)).toEqual([
      "orders-prod:live",
      "orders-prod:live",
      "billing-prod:live",
      "billing-prod:live",
    ]);
    expect(metrics.published).toEqual([
      { name: "CanaryFailures", value: 0, dimensions: { Service: "orders", Stage: "prod" } },
      { name: "CanaryFailures", value: 1, dimensions: { Service: "billing", Stage: "prod" } },
    ]);
  });

  it("warns about each failing service only, naming it, the stage and its failures", async () => {
    const functions = new MemoryFunctions(new MemoryArtifacts());
    functions.create("orders-prod", "live", { statusCode: 200, body: "orders ok" });
    functions.create("billing-prod", "live", { statusCode: 200, body: "nothing to bill" });
    const warnings: unknown[][] = [];
    const log = { ...silentLog, warn: (...entry: unknown[]) => warnings.push(entry) };
    await runScheduledCanary(registry, "prod", { functions, metrics: new MemoryMetrics(), log });
    expect(warnings).toEqual([
      ["scheduled canary failed", { service: "billing", stage: "prod", failures: 1 }],
    ]);
  });

  it("counts every check as failed for a service whose alias cannot be invoked", async () => {
    const functions = new MemoryFunctions(new MemoryArtifacts());
    functions.create("orders-prod", "live", { statusCode: 200, body: "orders" });
    const metrics = new MemoryMetrics();
    const results = await runScheduledCanary(registry, "prod", { functions, metrics });
    const billing = results.find((r) => r.service === "billing");
    expect(billing?.failures).toBe(2);
    expect(billing?.results.every((r) => r.detail.startsWith("invoke failed"))).toBe(true);
  });
});
