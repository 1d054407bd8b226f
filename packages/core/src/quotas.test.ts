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
  it("counts the alarm polls of every hold and the bake, twelve events each (one retry allowed)", () => {
    // 10 s polls: 3 steps of 60 s (6 polls each) and a 600 s bake (60 polls).
    const cost = deploymentCost(prod(testRegistry()), "prod");
    expect(cost.polls).toBe(3 * 6 + 60);
    expect(cost.historyEvents).toBe(132 + 78 * 12);
    // 1 h approval + 3 min of holds + 10 min of bake + work.
    expect(cost.durationSeconds).toBe(3600 + 180 + 600 + 2200 + 78);
  });
});

describe("quotaProblems", () => {
  it("accepts the registries people write", () => {
    expect(quotaProblems(prod(testRegistry()), "prod")).toEqual([]);
    expect(quotaProblems(prod(testRegistry()), "preprod")).toEqual([]);
  });

  it("refuses a one-day bake polled every 30 s: it would pass 25,000 history events", () => {
    const registry = withProd({
      rollout: { steps: [10, 50], stepWaitSeconds: 600, pollSeconds: 30, bakeSeconds: 86_400 },
    });
    const [problem] = quotaProblems(prod(registry), "prod");
    expect(problem).toMatch(
      /^a deployment could write 35,\d{3} history events \(2,920 alarm polls\); Step Functions fails an execution at 25,000, and Gantry allows 20,000 \(80% of it\)/,
    );
    expect(() => defineRegistry(registry)).toThrow(
      /invalid service registry: hello-service\.prod: a deployment could write .* history events/,
    );
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
        /^a deployment could run 193\.7 h .*; the state machine times out at 192 h, and Gantry allows 172\.8 h \(90% of it\)/,
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
