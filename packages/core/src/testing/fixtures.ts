/**
 * Test-only fixtures for the unit tests beside each module of @gantry/core: a small registry,
 * requests, plans, rollouts and a fixed clock. Nothing in the package imports this file.
 */
import { type Plan, resolvePlan } from "../plan.ts";
import type { Clock } from "../ports.ts";
import { defineRegistry, type Registry, type Stage } from "../registry.ts";
import type { DeploymentRequest } from "../request.ts";
import type { ExecutionRef, Rollout } from "../state.ts";

export const CI_BUCKET = "acme-ci-artifacts";
export const PREPROD_BUCKET = "acme-preprod-artifacts";
export const PROD_BUCKET = "acme-prod-artifacts";

export const SHA_A = "a".repeat(64);
export const SHA_B = "b".repeat(64);
export const VERSION = "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e";

/** 2026-11-01T12:00:00.000Z */
export const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

export function fixedClock(ms = T0): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = ms;
  return {
    now: () => now,
    set(next: number) {
      now = next;
    },
    advance(by: number) {
      now += by;
    },
  };
}

/**
 * Prod verifies preprod, needs one of two approvers and shifts 10 → 25 → 50; preprod does not.
 * Every target allows unverified triggers: most tests start deployments without an ID token.
 */
export function testRegistry(): Registry {
  return defineRegistry({
    stages: {
      preprod: { sourceBucket: CI_BUCKET, artifactBucket: PREPROD_BUCKET },
      prod: { sourceBucket: PREPROD_BUCKET, artifactBucket: PROD_BUCKET },
    },
    services: {
      "hello-service": {
        description: "answers GET /hello",
        repositoryUrl: "https://github.com/acme/hello-service",
        repository: "acme/hello-service",
        canary: {
          checks: [
            {
              name: "GET /hello",
              event: { rawPath: "/hello" },
              expect: { statusCode: 200, bodyIncludes: "hello" },
            },
          ],
        },
        stages: {
          preprod: {
            functionName: "hello-preprod",
            alias: "live",
            alarms: ["hello-preprod-errors"],
            rollout: { steps: [50], stepWaitSeconds: 60, pollSeconds: 20, bakeSeconds: 120 },
            verifyPreprod: false,
            allowUnverifiedTrigger: true,
          },
          prod: {
            functionName: "hello-prod",
            alias: "live",
            alarms: ["hello-prod-errors", "hello-prod-latency"],
            rollout: {
              steps: [10, 25, 50],
              stepWaitSeconds: 60,
              pollSeconds: 10,
              bakeSeconds: 600,
            },
            verifyPreprod: true,
            approval: {
              approvers: ["alice@example.com", "bob@example.com"],
              autoApprove: [{ actor: "dependabot[bot]" }],
              timeoutSeconds: 3600,
            },
            allowUnverifiedTrigger: true,
          },
        },
      },
      billing: {
        artifactPrefix: "builds/billing/",
        repository: "acme/billing",
        canary: { checks: [{ name: "ping", event: {}, expect: { statusCode: 200 } }] },
        stages: {
          preprod: {
            functionName: "billing-preprod",
            alias: "live",
            alarms: [],
            rollout: { steps: [], stepWaitSeconds: 30, pollSeconds: 10, bakeSeconds: 60 },
            verifyPreprod: false,
            allowUnverifiedTrigger: true,
          },
          prod: {
            functionName: "billing-prod",
            alias: "live",
            alarms: ["billing-prod-errors"],
            rollout: { steps: [], stepWaitSeconds: 30, pollSeconds: 10, bakeSeconds: 60 },
            verifyPreprod: false,
            allowUnverifiedTrigger: true,
          },
        },
      },
    },
  });
}

export function testRequest(
  overrides: {
    service?: string;
    version?: string;
    key?: string;
    sha256?: string;
    actor?: string;
    ciRunUrl?: string;
  } = {},
): DeploymentRequest {
  const service = overrides.service ?? "hello-service";
  const version = overrides.version ?? VERSION;
  return {
    service,
    version,
    artifact: {
      key: overrides.key ?? `${service}/${version}.zip`,
      sha256: overrides.sha256 ?? SHA_A,
    },
    trigger: {
      actor: overrides.actor ?? "octocat",
      ciRunUrl: overrides.ciRunUrl ?? "https://ci.example.com/runs/42",
    },
  };
}

export function testExecution(name = "hello-service-3f2a9c1e0b7d-aaaaaaaa"): ExecutionRef {
  return {
    id: `arn:aws:states:eu-west-1:123456789012:execution:gantry-prod:${name}`,
    name,
    startedAt: new Date(T0).toISOString(),
  };
}

export function testPlan(
  stage: Stage = "prod",
  request: DeploymentRequest = testRequest(),
  timeScale = 1,
): Plan {
  return resolvePlan(testRegistry(), stage, request, { timeScale });
}

/** A rollout Deploy would have produced: version 2 takes `weight`% from version 1. */
export function testRollout(overrides: Partial<Rollout> = {}): Rollout {
  const at = new Date(T0).toISOString();
  return {
    newVersion: "2",
    previousVersion: "1",
    phase: "steps",
    stepIndex: 0,
    weight: 10,
    holdEndsAt: at,
    nextCheckAt: at,
    holdTimeoutSeconds: 61,
    checks: 0,
    ...overrides,
  };
}
