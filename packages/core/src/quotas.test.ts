import { describe, expect, it } from "vitest";
import { deploymentCost, quotaProblems } from "./quotas.ts";
import { defineRegistry, type Registry, type StageTarget } from "./registry.ts";
import { testRegistry } from "./testing/fixtures.ts";

/** The fixtures' registry with prod's target changed. */
function withProd(change: Partial<StageTarget>): Registry {
  const registry = testRegistry();
  const service = registry.services["hello-service"];
  if (!service) throw new Error("no hello-service");
  return {
    ...registry,
    services: {
      "hello-service": {
        ...service,
        stages: { ...service.stages, prod: { ...service.stages.prod, ...change } },
      },
    },
  };
}

const prod = (registry: Registry) => {
  const service = registry.services["hello-service"];
  if (!service) throw new Error("no hello-service");
  return service;
};

describe("deploymentCost", () => {
  it("counts each hold twice round its loop, sixteen events each (one retry allowed), whatever the poll", () => {
    // 3 traffic steps and the bake: 4 holds, 8 times round at worst.
    const cost = deploymentCost(prod(testRegistry()), "prod");
    expect(cost.holds).toBe(4);
    expect(cost.historyEvents).toBe(132 + 8 * 16);
    // 1 h approval + 3 min of holds + 10 min of bake + a lost schedule's grace per hold + work.
    expect(cost.durationSeconds).toBe(3600 + 180 + 600 + 4 * 60 + 2200 + 8);
    const everySecond = withProd({
      rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 1, bakeSeconds: 600 },
    });
    expect(deploymentCost(prod(everySecond), "prod")).toMatchObject({
      holds: cost.holds,
      historyEvents: cost.historyEvents,
      durationSeconds: cost.durationSeconds,
    });
  });

  it("counts the analysis's one extension per hold when it may extend, and nothing else", () => {
    const base = deploymentCost(prod(testRegistry()), "prod");
    const extend = deploymentCost(
      prod(withProd({ analysis: { whenInsufficient: "extend" } })),
      "prod",
    );
    expect(extend.holds).toBe(4);
    expect(extend.historyEvents).toBe(132 + 16 * 16);
    // Every hold (3 min of steps, 10 min of bake) and its grace once more.
    expect(extend.durationSeconds).toBe(base.durationSeconds + 180 + 600 + 4 * 60 + 8);
    const synthesize = deploymentCost(prod(withProd({ analysis: {} })), "prod");
    expect(synthesize.historyEvents).toBe(base.historyEvents);
    expect(synthesize.durationSeconds).toBe(base.durationSeconds);
  });
});

describe("quotaProblems", () => {
  it("accepts the registries people write", () => {
    expect(quotaProblems(prod(testRegistry()), "prod")).toEqual([]);
    expect(quotaProblems(prod(testRegistry()), "preprod")).toEqual([]);
  });

  it("accepts a one-day bake polled every second: holds wait for events, they do not poll", () => {
    // Polled, this policy wrote 86,400 loops of history; held, it writes one loop per hold.
    const registry = withProd({
      rollout: { steps: [10, 50], stepWaitSeconds: 600, pollSeconds: 1, bakeSeconds: 86_400 },
    });
    expect(quotaProblems(prod(registry), "prod")).toEqual([]);
    expect(() => defineRegistry(registry)).not.toThrow();
  });

  it("the most traffic steps a registry takes stay far below 25,000 history events", () => {
    const registry = withProd({
      rollout: {
        steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        stepWaitSeconds: 60,
        pollSeconds: 1,
        bakeSeconds: 600,
      },
    });
    expect(deploymentCost(prod(registry), "prod").historyEvents).toBe(132 + 22 * 16);
  });

  it("refuses a 7-day approval with a long rollout: the state machine would time out first", () => {
    const registry = withProd({
      rollout: { steps: [10], stepWaitSeconds: 3600, pollSeconds: 600, bakeSeconds: 86_400 },
      approval: {
        approvers: ["alice@example.com"],
        timeoutSeconds: 7 * 86_400,
      },
    });
    expect(quotaProblems(prod(registry), "prod")).toEqual([
      expect.stringMatching(
        /^a deployment could run 193\.6 h .*; the state machine times out at 192 h, and Gantry allows 172\.8 h \(90% of it\)/,
      ),
    ]);
  });

  it("allows the most a registry can hold of canary checks, alarms and approvers", () => {
    const registry = withProd({
      alarms: Array.from({ length: 20 }, (_, i) => `alarm-${i}-${"x".repeat(130)}`),
      approval: {
        approvers: Array.from({ length: 50 }, (_, i) => `${"a".repeat(240)}${i}@example.com`),
        timeoutSeconds: 3600,
      },
    });
    const cost = deploymentCost(prod(registry), "prod");
    expect(cost.stateBytes).toBeLessThan(128 * 1024);
    expect(quotaProblems(prod(registry), "prod")).toEqual([]);
  });
});
