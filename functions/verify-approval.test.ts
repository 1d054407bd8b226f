/**
 * VerifyApproval's real exported handler over mocked SDK clients: the settings it reads, the
 * records it reads, the one record it may write (the void marker), and the key it asks for.
 */
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  type ApprovalDecisionRecord,
  type DeploymentState,
  recordKeys,
  resolvePlan,
  type SealedDecision,
  sealDecision,
  signingKeysFrom,
} from "@gantry/core";
import { rejectionOf, testExecution, testRequest, verifiedTrigger } from "@gantry/core/testing";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import registry from "../gantry.registry.ts";
import { handler } from "./verify-approval.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);
const STATE_BUCKET = "acme-gantry-state-prod";
const DECISION_SECRET =
  "arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-decision-keys-AbCdEf";
const KEY = "decision-key-0123456789abcdefghijklmnop";
const ID = "AbCdEfGhIjKlMnOpQrStUv_-";
const REQUEST = testRequest();
const EXECUTION = testExecution();
const STATE: DeploymentState = {
  request: REQUEST,
  execution: EXECUTION,
  plan: resolvePlan(registry, "prod", REQUEST, { timeScale: 1 }),
};
const context = { functionName: "gantry-prod-verify-approval", awsRequestId: "r1" } as Context;

const body = (value: unknown) =>
  ({
    transformToString: async () => JSON.stringify(value),
  }) as unknown as GetObjectCommandOutput["Body"];
const notFound = () =>
  Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });

const fields: SealedDecision = {
  approvalId: ID,
  execution: EXECUTION.id,
  executionStartedAt: EXECUTION.startedAt,
  service: "hello-service",
  stage: "prod",
  version: REQUEST.version,
  sha256: REQUEST.artifact.sha256,
  decision: "approved",
  by: "alice@example.com",
  channel: "link",
  at: "2026-11-01T12:05:00.000Z",
};

function records(decision: ApprovalDecisionRecord | undefined) {
  const stored: Record<string, unknown> = {
    [recordKeys.approvalOfExecution(EXECUTION)]: { approvalId: ID, execution: EXECUTION.id },
    [recordKeys.approval(ID)]: { id: ID, execution: { id: EXECUTION.id } },
    ...(decision ? { [recordKeys.approvalDecision(ID)]: decision } : {}),
  };
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    if (!(input.Key in stored)) throw notFound();
    return { Body: body(stored[input.Key]), ETag: '"e"' };
  });
}

beforeEach(() => {
  s3.reset();
  secrets.reset();
  vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
  vi.stubEnv("GANTRY_DECISION_KEYS_SECRET", DECISION_SECRET);
  secrets
    .on(GetSecretValueCommand, { SecretId: DECISION_SECRET })
    .resolves({ SecretString: JSON.stringify({ current: KEY, previous: "" }) });
  s3.on(PutObjectCommand).resolves({ ETag: '"v"' });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("verify-approval", () => {
  it("fails with ConfigurationError when GANTRY_STATE_BUCKET is not set, before any call", async () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", undefined);
    const error = await rejectionOf(handler(STATE, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STATE_BUCKET");
    expect(s3.calls()).toHaveLength(0);
  });

  it("reads the execution's approval and its sealed decision from the state bucket, and the decision key from Secrets Manager", async () => {
    records({ ...fields, seal: sealDecision(fields, signingKeysFrom(KEY).current) });
    const approval = await handler(STATE, context);
    expect(approval).toMatchObject({ by: "alice@example.com", how: "approver", verified: true });
    expect(
      s3.commandCalls(GetObjectCommand).map((c) => [c.args[0].input.Bucket, c.args[0].input.Key]),
    ).toEqual([
      [STATE_BUCKET, recordKeys.approvalOfExecution(EXECUTION)],
      [STATE_BUCKET, recordKeys.approval(ID)],
      [STATE_BUCKET, recordKeys.approvalDecision(ID)],
    ]);
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: DECISION_SECRET,
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it("auto-approves on the state's verified trigger when a rule matches, reading no record and no key", async () => {
    const verified = verifiedTrigger({ sha: REQUEST.version, actor: "dependabot[bot]" });
    const request = { ...REQUEST, trigger: { actor: "dependabot[bot]", verified } };
    const state = {
      ...STATE,
      request,
      plan: resolvePlan(registry, "prod", request, { timeScale: 1 }),
    };
    expect(await handler(state, context)).toMatchObject({
      approved: true,
      how: "auto",
      by: "auto-approve rule 1",
      rule: { index: 0, matched: "actor dependabot[bot], ref refs/heads/main" },
      verified: true,
    });
    expect(s3.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });

  it("fails ApprovalNotVerified for a claimed auto-approve actor nobody decided for", async () => {
    const request = { ...REQUEST, trigger: { actor: "dependabot[bot]" } };
    const state = {
      ...STATE,
      request,
      plan: resolvePlan(registry, "prod", request, { timeScale: 1 }),
      approval: { approved: true, how: "auto", by: "auto-approve rule 1", at: "x" },
    };
    records(undefined);
    const error = await rejectionOf(handler(state as DeploymentState, context));
    expect(error.name).toBe("ApprovalNotVerified");
    expect(error.message).toBe(
      `the approval task was completed, but nobody decided approval ${ID}: no decision record`,
    );
  });

  it("fails ApprovalNotVerified on a record sealed with another key, writing only the void marker", async () => {
    records({
      ...fields,
      seal: sealDecision(fields, signingKeysFrom("another-key-0123456789abcdefghijklmn").current),
    });
    const error = await rejectionOf(handler(STATE, context));
    expect(error.name).toBe("ApprovalNotVerified");
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => [p.Bucket, p.Key, p.IfNoneMatch])).toEqual([
      [STATE_BUCKET, recordKeys.approvalVoid(ID), "*"],
    ]);
  });
});
