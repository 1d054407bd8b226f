import { defineRegistry, type Registry, type ServiceDefinition } from "@gantry/core";

/**
 * Registries for the infra tests: two services (one with its own artifact prefix, one without
 * approvals or preprod verification) with distinct alarms, so a statement that grants one
 * service's resources to another, or a prod resource to preprod, shows.
 */
const canary = {
  checks: [{ name: "ping", event: {}, expect: { statusCode: 200 } }],
};
const rollout = { steps: [10, 50], stepWaitSeconds: 60, pollSeconds: 30, bakeSeconds: 300 };

export const TWO_SERVICES: Registry = defineRegistry({
  stages: {
    preprod: { sourceBucket: "t-builds", artifactBucket: "t-artifacts-preprod" },
    prod: { sourceBucket: "t-artifacts-preprod", artifactBucket: "t-artifacts-prod" },
  },
  services: {
    orders: {
      artifactPrefix: "apps/orders/",
      canary,
      stages: {
        preprod: {
          functionName: "orders-pre",
          alias: "live",
          alarms: ["orders-pre-errors", "orders-pre-latency"],
          rollout,
          verifyPreprod: false,
        },
        prod: {
          functionName: "orders-prd",
          alias: "current",
          alarms: ["orders-prd-errors"],
          rollout,
          verifyPreprod: true,
          approval: { approvers: ["a@example.com"], timeoutSeconds: 3600 },
          // Every default: short samples are made up with synthetic requests.
          analysis: {},
        },
      },
    },
    billing: {
      canary,
      stages: {
        preprod: {
          functionName: "billing-pre",
          alias: "live",
          alarms: [],
          rollout,
          verifyPreprod: false,
        },
        prod: {
          functionName: "billing-prd",
          alias: "live",
          alarms: ["billing-prd-errors"],
          rollout,
          verifyPreprod: false,
          // Analysed, but never sent synthetic requests: CheckAlarms may not invoke it.
          analysis: { whenInsufficient: "fail" },
        },
      },
    },
  },
});

/** A registry with `count` services, to check policy sizes against IAM's limits. */
export function manyServices(count: number): Registry {
  const services: Record<string, ServiceDefinition> = {};
  for (let i = 0; i < count; i++) {
    const name = `service-number-${String(i).padStart(2, "0")}`;
    services[name] = {
      canary,
      stages: {
        preprod: {
          functionName: `${name}-preprod`,
          alias: "live",
          alarms: [`${name}-preprod-errors`, `${name}-preprod-latency`],
          rollout,
          verifyPreprod: false,
        },
        prod: {
          functionName: `${name}-prod`,
          alias: "live",
          alarms: [`${name}-prod-errors`, `${name}-prod-latency`],
          rollout,
          verifyPreprod: true,
          approval: { approvers: ["a@example.com"], timeoutSeconds: 3600 },
          // The largest check-alarms policy: every service may be sent synthetic requests.
          analysis: {},
        },
      },
    };
  }
  return defineRegistry({
    stages: {
      preprod: { sourceBucket: "m-artifacts-preprod", artifactBucket: "m-artifacts-preprod" },
      prod: { sourceBucket: "m-artifacts-preprod", artifactBucket: "m-artifacts-prod" },
    },
    services,
  });
}
