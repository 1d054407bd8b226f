/**
 * Step Functions fails an execution outright (States.DataLimitExceeded, which no Catch sees)
 * when a state's input or output passes 256 KB. This builds the largest document the deployment
 * workflow can carry, every field at the most any bound allows, and measures it.
 */
import { describe, expect, it } from "vitest";
import { MAX_COMMENT_LENGTH } from "./approval/decide.ts";
import { MAX_ERROR_MESSAGE_LENGTH, MAX_ERROR_STACK_FRAMES } from "./errors.ts";
import { resolvePlan } from "./plan.ts";
import { deploymentCost } from "./quotas.ts";
import { defineRegistry, MAX_CANARY_SPEC_BYTES, type Registry } from "./registry.ts";
import { MAX_REQUEST_BYTES, parseDeploymentRequest } from "./request.ts";
import type { DeploymentState } from "./state.ts";
import { MAX_DETAIL } from "./steps/canary.ts";
import type { VerifiedTrigger } from "./trigger/claims.ts";

/** Step Functions' limit on the state document. */
const STATE_LIMIT_BYTES = 256 * 1024;
/** CloudWatch's limit on an alarm's StateReason. */
const ALARM_REASON_LIMIT = 1023;

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const pad = (prefix: string, length: number) => prefix + "x".repeat(length - prefix.length);

/** 20 auto-approve rules, every field at its bound (they travel in the plan). */
function largestRules() {
  return Array.from({ length: 20 }, (_, i) => ({
    actor: pad(`bot-${i}-`, 100),
    ref: `${pad(`refs/heads/${i}-`, 255)}*`,
    workflow: pad(`acme/app/.github/workflows/${i}-`, 300),
    eventName: "e".repeat(50),
    environment: pad(`env-${i}-`, 255),
  }));
}

/**
 * The verified claims of the longest ID token a request may carry: its payload is at most
 * 6 KiB of JSON (8192 base64url characters, less header and signature), and ISO times and
 * Gantry's longer names add a few hundred bytes. Padded to 6.5 KB here.
 */
function largestVerifiedTrigger(): VerifiedTrigger {
  const base: VerifiedTrigger = {
    issuer: pad("https://token.actions.githubusercontent.com/", 200),
    audience: pad("gantry-prod-", 200),
    subject: pad("repo:acme/hello-service:ref:", 300),
    repository: pad("acme/", 140),
    repositoryId: "9".repeat(20),
    ref: pad("refs/heads/", 255),
    sha: "f".repeat(40),
    actor: pad("a", 100),
    workflow: pad("w", 300),
    eventName: "e".repeat(50),
    environment: pad("env-", 255),
    runId: "9".repeat(20),
    runAttempt: "9".repeat(5),
    issuedAt: new Date(0).toISOString(),
    expiresAt: new Date(0).toISOString(),
  };
  const workflowRef = pad("acme/app/.github/workflows/", 6_500 - bytes(base) - 20);
  const verified = { ...base, workflowRef };
  expect(bytes(verified)).toBeGreaterThanOrEqual(6_480);
  return verified;
}

/** A registry at every bound: 20 alarms of 140 characters, 50 approvers, a 16 KiB canary. */
function largestRegistry(): Registry {
  const alarms = Array.from({ length: 20 }, (_, i) => pad(`alarm-${i}-`, 140));
  const approvers = Array.from(
    { length: 50 },
    (_, i) => `${pad(`approver-${i}-`, 240)}@example.com`,
  );
  const checks = Array.from({ length: 4 }, (_, i) => ({
    name: pad(`check-${i}-`, 100),
    event: { body: "e".repeat(3500) },
    expect: { statusCode: 200, bodyIncludes: "b".repeat(280) },
  }));
  const target = {
    functionName: pad("fn-", 140),
    alias: pad("a", 128),
    alarms,
    rollout: {
      steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      stepWaitSeconds: 60,
      pollSeconds: 60,
      bakeSeconds: 600,
    },
  };
  const registry = defineRegistry({
    stages: {
      preprod: { sourceBucket: "acme-ci", artifactBucket: "acme-preprod" },
      prod: { sourceBucket: "acme-preprod", artifactBucket: "acme-prod" },
    },
    services: {
      "hello-service": {
        description: "d".repeat(500),
        repositoryUrl: `https://github.com/${"r".repeat(200)}`,
        repository: `${"o".repeat(39)}/${"r".repeat(100)}`,
        repositoryId: "9".repeat(20),
        canary: { checks },
        stages: {
          preprod: { ...target, verifyPreprod: false },
          prod: {
            ...target,
            verifyPreprod: true,
            approval: { approvers, autoApprove: largestRules(), timeoutSeconds: 86_400 },
          },
        },
      },
    },
  });
  expect(bytes(registry.services["hello-service"]?.canary)).toBeGreaterThan(
    MAX_CANARY_SPEC_BYTES * 0.85,
  );
  return registry;
}

/** The largest request a caller can send: every field at its own bound (under MAX_REQUEST_BYTES). */
function largestRequest() {
  const request = parseDeploymentRequest({
    service: "hello-service",
    version: "f".repeat(40),
    artifact: {
      key: `hello-service/${"k".repeat(512 - "hello-service/".length - ".zip".length)}.zip`,
      sha256: "a".repeat(64),
    },
    trigger: { actor: pad("a", 100), ciRunUrl: pad("https://ci.example.com/", 2048) },
  });
  expect(request.artifact.key).toHaveLength(512);
  expect(request.trigger.ciRunUrl).toHaveLength(2048);
  expect(bytes(request)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
  // ValidateInput replaces the token with its verified claims.
  return { ...request, trigger: { ...request.trigger, verified: largestVerifiedTrigger() } };
}

describe("the largest state an execution can carry", () => {
  it("stays far below Step Functions' 256 KB, with every field at its bound", () => {
    const request = largestRequest();
    const plan = resolvePlan(largestRegistry(), "prod", request, { timeScale: 1 });
    const at = new Date(0).toISOString();
    // Lambda's cause of a caught error, for the longest message and stack a function reports.
    const cause = JSON.stringify({
      errorType: "e".repeat(64),
      errorMessage: `${"m".repeat(MAX_ERROR_MESSAGE_LENGTH)}…`,
      trace: Array.from({ length: MAX_ERROR_STACK_FRAMES + 1 }, () => "t".repeat(201)),
    });
    const state: DeploymentState = {
      request,
      execution: {
        id: `arn:aws:states:us-east-1:123456789012:execution:gantry-prod:${"n".repeat(80)}`,
        name: "n".repeat(80),
        startedAt: at,
      },
      plan,
      lock: {
        key: "locks/hello-service.json",
        owner: "o".repeat(200),
        acquiredAt: at,
        brokeStaleLockOf: "o".repeat(200),
      },
      preprod: {
        required: true,
        validatedAt: at,
        validatedBy: pad("v", 100),
        ciRunUrl: `https://ci.example.com/${"u".repeat(2000)}`,
        preprodVersion: "9".repeat(10),
        alarms: plan.alarms.map((name) => ({
          name,
          state: "OK" as const,
          reason: "r".repeat(ALARM_REASON_LIMIT),
          updatedAt: at,
        })),
        bucket: plan.source.bucket,
        key: plan.source.key,
        sha256: request.artifact.sha256,
        codeSha256: request.artifact.sha256,
      },
      approval: {
        approved: true,
        how: "operator",
        by: plan.approval.approvers[0] ?? "",
        at,
        approvalId: "i".repeat(24),
        comment: "m".repeat(MAX_COMMENT_LENGTH),
        principal: `arn:aws:sts::123456789012:assumed-role/${"r".repeat(64)}/${"s".repeat(64)}`,
        verified: true,
      },
      artifact: {
        bucket: "acme-prod",
        key: request.artifact.key,
        versionId: "v".repeat(1024),
        sha256: request.artifact.sha256,
        size: 2 ** 40,
        copied: true,
      },
      rollout: {
        newVersion: "9".repeat(10),
        previousVersion: "9".repeat(10),
        codeSha256: request.artifact.sha256,
        phase: "bake",
        stepIndex: 9,
        weight: 100,
        holdEndsAt: at,
        nextCheckAt: at,
        holdTimeoutSeconds: 86_461,
        checks: 1_000_000,
        canary: {
          version: "9".repeat(10),
          results: plan.canary.checks.map((c) => ({
            name: c.name,
            passed: false,
            detail: "d".repeat(MAX_DETAIL + 1),
          })),
        },
      },
      failure: { Error: "e".repeat(256), Cause: cause },
      rollback: { restoredVersion: "9".repeat(10), removedVersion: "9".repeat(10), verifiedAt: at },
      rollbackFailure: { Error: "e".repeat(256), Cause: cause },
      outcome: {
        status: "failed",
        error: "RollbackFailed",
        cause: "o".repeat(2001),
        version: "9".repeat(10),
        lockReleased: true,
      },
    };
    const size = bytes({ ...state, cleanupFailure: { Error: "e".repeat(256), Cause: cause } });
    // Measured: about 119 KB (46% of the limit); most of it is policy from the registry (20
    // auto-approve rules at their bounds alone are 21 KB), within the 50% the quotas allow.
    expect(size).toBeLessThan(STATE_LIMIT_BYTES * 0.5);
    // What a caller of StartExecution (with the claims of its ID token) and an approver can
    // put in: about 12 KiB of it.
    const callerPart = bytes(request) + MAX_COMMENT_LENGTH + 2048;
    expect(callerPart).toBeLessThan(14 * 1024);
    console.info(
      `largest state: ${size} bytes (${Math.round((size / STATE_LIMIT_BYTES) * 100)}% of 256 KB)`,
    );
    // The registry's quota model is an upper bound of the same thing.
    const service = largestRegistry().services["hello-service"];
    if (!service) throw new Error("no service");
    expect(deploymentCost(service, "prod").stateBytes).toBeGreaterThanOrEqual(size);
  });
});
