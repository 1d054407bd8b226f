import { describe, expect, it } from "vitest";
import { InvalidInput } from "./errors.ts";
import { resolvePlan } from "./plan.ts";
import {
  CI_BUCKET,
  PREPROD_BUCKET,
  PROD_BUCKET,
  testRegistry,
  testRequest,
} from "./testing/fixtures.ts";

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInput);
    return (error as InvalidInput).issues;
  }
  throw new Error("expected InvalidInput");
}

describe("resolvePlan", () => {
  const registry = testRegistry();

  it("refuses an unregistered service with InvalidInput on the service field", () => {
    const request = testRequest({ service: "unknown-service" });
    expect(issuesOf(() => resolvePlan(registry, "prod", request, { timeScale: 1 }))).toEqual([
      { field: "service", reason: "is not a registered service (unknown-service)" },
    ]);
  });

  it.each(["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__"])(
    "refuses service %s as unregistered: Object.prototype is not a registry",
    (service) => {
      const request = testRequest({ service, key: `${service}/3f2a9c1.zip` });
      expect(issuesOf(() => resolvePlan(registry, "prod", request, { timeScale: 1 }))).toEqual([
        { field: "service", reason: `is not a registered service (${service})` },
      ]);
    },
  );

  it("refuses an artifact key outside the service's default prefix", () => {
    const request = testRequest({ key: "billing/3f2a9c1.zip" });
    expect(issuesOf(() => resolvePlan(registry, "prod", request, { timeScale: 1 }))).toEqual([
      { field: "artifact.key", reason: "must start with hello-service/" },
    ]);
  });

  it("refuses a key that only shares the service name as a prefix, not the directory", () => {
    const request = testRequest({ key: "hello-service-evil/3f2a9c1.zip" });
    expect(issuesOf(() => resolvePlan(registry, "prod", request, { timeScale: 1 }))).toEqual([
      { field: "artifact.key", reason: "must start with hello-service/" },
    ]);
  });

  it("uses a custom artifact prefix", () => {
    const ok = testRequest({ service: "billing", key: "builds/billing/v1.zip" });
    expect(resolvePlan(registry, "prod", ok, { timeScale: 1 }).source.key).toBe(
      "builds/billing/v1.zip",
    );
    const outside = testRequest({ service: "billing", key: "billing/v1.zip" });
    expect(issuesOf(() => resolvePlan(registry, "prod", outside, { timeScale: 1 }))).toEqual([
      { field: "artifact.key", reason: "must start with builds/billing/" },
    ]);
  });

  it("resolves the prod target, alarms, canary and policy from the registry", () => {
    const request = testRequest();
    const plan = resolvePlan(registry, "prod", request, { timeScale: 1 });
    expect(plan).toMatchObject({
      stage: "prod",
      service: "hello-service",
      repositoryUrl: "https://github.com/acme/hello-service",
      target: { functionName: "hello-prod", alias: "live" },
      alarms: ["hello-prod-errors", "hello-prod-latency"],
      rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 10, bakeSeconds: 600 },
      approval: {
        required: true,
        approvers: ["alice@example.com", "bob@example.com"],
        autoApprove: [{ actor: "dependabot[bot]" }],
        timeoutSeconds: 3600,
      },
      timeScale: 1,
    });
    expect(plan.canary.checks.map((c) => c.name)).toEqual(["GET /hello"]);
  });

  it("omits repositoryUrl when the service has none", () => {
    const plan = resolvePlan(
      registry,
      "prod",
      testRequest({ service: "billing", key: "builds/billing/v1.zip" }),
      { timeScale: 1 },
    );
    expect(plan).not.toHaveProperty("repositoryUrl");
  });

  it("multiplies every duration by the time scale, but not the traffic steps", () => {
    const plan = resolvePlan(registry, "prod", testRequest(), { timeScale: 0.01 });
    expect(plan.rollout.steps).toEqual([10, 25, 50]);
    expect(plan.rollout.stepWaitSeconds).toBeCloseTo(0.6, 10);
    expect(plan.rollout.pollSeconds).toBeCloseTo(0.1, 10);
    expect(plan.rollout.bakeSeconds).toBeCloseTo(6, 10);
    expect(plan.timeScale).toBe(0.01);
  });

  it("scales the approval timeout to a whole number of seconds, rounded up", () => {
    // 3600 s × 0.001 = 3.6 s -> 4 s
    const plan = resolvePlan(registry, "prod", testRequest(), { timeScale: 0.001 });
    expect(plan.approval.timeoutSeconds).toBe(4);
  });

  it("never scales the approval timeout below one second", () => {
    const plan = resolvePlan(registry, "prod", testRequest(), { timeScale: 0.0001 });
    expect(plan.approval.timeoutSeconds).toBe(1);
  });

  it("sets an approval timeout of 60 s (scaled) even when the stage needs no approval", () => {
    const unscaled = resolvePlan(registry, "preprod", testRequest(), { timeScale: 1 });
    expect(unscaled.approval).toEqual({
      required: false,
      approvers: [],
      autoApprove: [],
      timeoutSeconds: 60,
    });
    const scaled = resolvePlan(registry, "preprod", testRequest(), { timeScale: 0.5 });
    expect(scaled.approval.timeoutSeconds).toBe(30);
  });

  it("carries the stage's auto-approve rules, in order, and none when the approval has none", () => {
    const rules = [{ actor: "dependabot[bot]", ref: "refs/heads/main" }, { eventName: "push" }];
    const base = testRegistry();
    const service = base.services["hello-service"];
    const approval = service?.stages.prod.approval;
    if (!service || !approval) throw new Error("the test registry changed");
    const withRules = (autoApprove?: typeof rules) => ({
      ...base,
      services: {
        ...base.services,
        "hello-service": {
          ...service,
          stages: {
            ...service.stages,
            prod: {
              ...service.stages.prod,
              approval: { ...approval, autoApprove },
            },
          },
        },
      },
    });
    const plan = resolvePlan(withRules(rules), "prod", testRequest(), { timeScale: 1 });
    expect(plan.approval.autoApprove).toEqual(rules);
    const none = resolvePlan(withRules(undefined), "prod", testRequest(), { timeScale: 1 });
    expect(none.approval).toMatchObject({ required: true, autoApprove: [] });
  });

  it("includes what to verify in preprod only when the stage verifies preprod", () => {
    const prod = resolvePlan(registry, "prod", testRequest(), { timeScale: 1 });
    expect(prod.preprod).toEqual({
      bucket: PREPROD_BUCKET,
      functionName: "hello-preprod",
      alias: "live",
      alarms: ["hello-preprod-errors"],
    });
    const preprod = resolvePlan(registry, "preprod", testRequest(), { timeScale: 1 });
    expect(preprod).not.toHaveProperty("preprod");
    const billing = resolvePlan(
      registry,
      "prod",
      testRequest({ service: "billing", key: "builds/billing/v1.zip" }),
      { timeScale: 1 },
    );
    expect(billing).not.toHaveProperty("preprod");
  });

  it("copies from the stage's source bucket to its own artifact bucket under the same key", () => {
    const request = testRequest();
    const prod = resolvePlan(registry, "prod", request, { timeScale: 1 });
    expect(prod.source).toEqual({ bucket: PREPROD_BUCKET, key: request.artifact.key });
    expect(prod.destination).toEqual({ bucket: PROD_BUCKET, key: request.artifact.key });
    const preprod = resolvePlan(registry, "preprod", request, { timeScale: 1 });
    expect(preprod.source).toEqual({ bucket: CI_BUCKET, key: request.artifact.key });
    expect(preprod.destination).toEqual({ bucket: PREPROD_BUCKET, key: request.artifact.key });
    expect(preprod.target).toEqual({ functionName: "hello-preprod", alias: "live" });
  });

  it.each([0, -0.5, 1.01, 2, Number.NaN, Number.POSITIVE_INFINITY])(
    "refuses the time scale %d",
    (timeScale) => {
      expect(() => resolvePlan(registry, "prod", testRequest(), { timeScale })).toThrow(
        new RangeError("timeScale must be in (0, 1]"),
      );
    },
  );

  it("accepts the time scale 1 exactly", () => {
    expect(resolvePlan(registry, "prod", testRequest(), { timeScale: 1 }).timeScale).toBe(1);
  });
});
