/**
 * Every Lambda's real exported `handler` (`createHandler(awsDeps())`) over mocked AWS SDK clients:
 * which environment variables it reads, which clients and commands it sends with which inputs,
 * and that its failures keep their names (the state machine's Retry and Catch match on them).
 *
 * The function modules are singletons whose ports are built lazily on first use and kept once
 * built, so within each describe the "missing setting" test runs before the happy path.
 * approval-http has its own file (approval-http.test.ts).
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import {
  type DeploymentState,
  hexToBase64,
  type PreprodEvidence,
  type PromotedArtifact,
  type Rollout,
  recordKeys,
  resolvePlan,
  signingKeysFrom,
  verifyApprovalLink,
} from "@gantry/core";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import registry from "../gantry.registry.ts";
import {
  SHA_A,
  SHA_B,
  T0,
  testExecution,
  testRequest,
} from "../packages/core/src/testing/fixtures.ts";
import { rejectionOf } from "../packages/core/src/testing/rejection.ts";
import { handler as acquireLock } from "./acquire-lock.ts";
import { handler as canary } from "./canary.ts";
import { handler as checkAlarms } from "./check-alarms.ts";
import { handler as copyArtifact } from "./copy-artifact.ts";
import { handler as deploy } from "./deploy.ts";
import { handler as finish } from "./finish.ts";
import { handler as promote } from "./promote.ts";
import { handler as reconcile } from "./reconcile.ts";
import { handler as requestApproval } from "./request-approval.ts";
import { handler as rollback } from "./rollback.ts";
import { handler as scheduledCanary } from "./scheduled-canary.ts";
import { handler as validateInput } from "./validate-input.ts";
import { handler as verifyPreprod } from "./verify-preprod.ts";

// Before the function modules are imported (they build their Powertools logger at import): a
// region for the SDK clients, no log output, and none of Gantry's settings from the outside.
vi.hoisted(() => {
  process.env.AWS_REGION = "us-east-1";
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("GANTRY_") || name.startsWith("SST_RESOURCE_")) delete process.env[name];
  }
});

// Watches whether verify-preprod ever asks for an assumed role's credentials (STS).
vi.mock("@aws-sdk/credential-providers", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@aws-sdk/credential-providers")>();
  return { ...actual, fromTemporaryCredentials: vi.fn(actual.fromTemporaryCredentials) };
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
const cloudwatch = mockClient(CloudWatchClient);
const ses = mockClient(SESv2Client);
const secretsManager = mockClient(SecretsManagerClient);

/** The wall clock during every test: 15 minutes after the execution started (T0). */
const NOW = T0 + 15 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const STATE_BUCKET = "acme-gantry-state-prod";
const SHA_A_BASE64 = hexToBase64(SHA_A);
const SHA_B_BASE64 = hexToBase64(SHA_B);

const REQUEST = testRequest();
const EXECUTION = testExecution();
/** The plan ValidateInput resolves from the project registry for hello-service in prod. */
const PLAN = resolvePlan(registry, "prod", REQUEST, { timeScale: 1 });
const STATE: DeploymentState = { request: REQUEST, execution: EXECUTION, plan: PLAN };
const ARTIFACT_KEY = `hello-service/${REQUEST.version}.zip`;
const OTHER_EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:gantry-prod:other-run";

const LOCK = {
  key: "locks/hello-service.json",
  owner: EXECUTION.id,
  acquiredAt: iso(T0 + 1000),
};
const PREPROD: PreprodEvidence = {
  required: true,
  validatedAt: iso(T0 - 3_600_000),
  validatedBy: "ci-bot",
  preprodVersion: "12",
  alarms: [],
};
const APPROVAL = {
  approved: true,
  how: "approver",
  by: "alice@example.com",
  at: iso(T0 + 60_000),
  verified: true,
} as const;
const ARTIFACT: PromotedArtifact = {
  bucket: "acme-gantry-artifacts-prod",
  key: ARTIFACT_KEY,
  versionId: "dest-v1",
  sha256: SHA_A,
  size: 2048,
  copied: true,
};
/** The rollout Deploy returns: version 7 published, 6 still serving everything. */
function rolloutOf(overrides: Partial<Rollout> = {}): Rollout {
  return {
    newVersion: "7",
    previousVersion: "6",
    phase: "steps",
    stepIndex: -1,
    weight: 0,
    holdEndsAt: iso(NOW),
    nextCheckAt: iso(NOW),
    checks: 0,
    ...overrides,
  };
}

const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: "gantry-prod-Step",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-Step",
  memoryLimitInMB: "256",
  awsRequestId: "req-1",
  logGroupName: "/aws/lambda/gantry-prod-Step",
  logStreamName: "2026/11/01/[$LATEST]abc",
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

/** An AWS service error as the SDK throws it: a name and an HTTP status. */
function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}
const lambdaMeta = { $metadata: { httpStatusCode: 400 } };

/** A GetObject body: the adapters only read it with transformToString. */
function body(value: unknown) {
  return {
    transformToString: async () => JSON.stringify(value),
  } as unknown as GetObjectCommandOutput["Body"];
}

/** An Invoke payload (JSON bytes). */
function payload(value: unknown) {
  return new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput["Payload"];
}

/** The JSON a command sent as its body or payload. */
function sentJson(value: unknown): unknown {
  return JSON.parse(
    typeof value === "string" ? value : new TextDecoder().decode(value as Uint8Array),
  );
}

/** The class names of the commands a mocked client sent, in order. */
function commandsSent(mock: { calls(): readonly { args: readonly unknown[] }[] }): string[] {
  return mock.calls().map((call) => (call.args[0] as object).constructor.name);
}

/** The first UpdateAlias input the Lambda mock received. */
const aliasUpdateSent = () => lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input;

/** UpdateAlias for hello-service-prod's `live`: `version`, plus `weights`, if `revision` still holds. */
function liveAliasUpdate(version: string, revision: string, weights: Record<string, number> = {}) {
  return {
    FunctionName: "hello-service-prod",
    Name: "live",
    FunctionVersion: version,
    RoutingConfig: { AdditionalVersionWeights: weights },
    RevisionId: revision,
  };
}

/** The EMF documents written to stdout while `run` ran. */
async function emfWrittenBy(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    write.mockRestore();
  }
  return chunks
    .join("")
    .split("\n")
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeEach(() => {
  for (const mock of [s3, sfn, lambda, cloudwatch, ses, secretsManager]) mock.reset();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
// The functions
// ---------------------------------------------------------------------------------------------

describe("validate-input", () => {
  const event = { input: { ...REQUEST }, execution: EXECUTION };

  it("fails with ConfigurationError when GANTRY_STAGE is not set", async () => {
    const error = await rejectionOf(validateInput(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STAGE");
  });

  it("fails with ConfigurationError when GANTRY_STAGE is not a stage", async () => {
    vi.stubEnv("GANTRY_STAGE", "staging");
    const error = await rejectionOf(validateInput(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("got staging");
  });

  it("resolves the hello-service plan for the stage GANTRY_STAGE names, without any AWS call", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const result = await validateInput(event, context);
    expect(result.request).toEqual(REQUEST);
    expect(result.execution).toEqual(EXECUTION);
    expect(result.plan).toMatchObject({
      stage: "prod",
      service: "hello-service",
      target: { functionName: "hello-service-prod", alias: "live" },
      source: { bucket: "acme-gantry-artifacts-preprod", key: ARTIFACT_KEY },
      destination: { bucket: "acme-gantry-artifacts-prod", key: ARTIFACT_KEY },
      alarms: ["hello-service-prod-errors"],
      rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 60, bakeSeconds: 600 },
      preprod: { bucket: "acme-gantry-artifacts-preprod", functionName: "hello-service-preprod" },
      approval: { required: true, approvers: ["alice@example.com", "bob@example.com"] },
      timeScale: 1,
    });
    for (const mock of [s3, sfn, lambda, cloudwatch, ses]) expect(mock.calls()).toHaveLength(0);
  });

  it("refuses an artifact key outside the service's prefix with InvalidInput", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const input = { ...REQUEST, artifact: { ...REQUEST.artifact, key: "billing/x.zip" } };
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain("artifact.key: must start with hello-service/");
  });

  it("refuses a malformed request with InvalidInput", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const input = { ...REQUEST, artifact: { ...REQUEST.artifact, sha256: "not-a-digest" } };
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain("artifact.sha256");
  });
});

describe("acquire-lock", () => {
  beforeEach(() => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
  });

  it("fails with ConfigurationError when GANTRY_STATE_BUCKET is not set", async () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", undefined);
    const error = await rejectionOf(acquireLock(STATE, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STATE_BUCKET");
    expect(s3.calls()).toHaveLength(0);
  });

  it("takes a free lock with a conditional create in the state bucket", async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"lock-1"' });
    const grant = await acquireLock(STATE, context);
    expect(grant).toEqual({
      key: "locks/hello-service.json",
      owner: EXECUTION.id,
      acquiredAt: iso(NOW),
    });
    expect(commandsSent(s3)).toEqual(["PutObjectCommand"]);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
      IfNoneMatch: "*",
      ContentType: "application/json",
    });
    expect(put?.IfMatch).toBeUndefined();
    expect(sentJson(put?.Body)).toEqual({
      owner: EXECUTION.id,
      service: "hello-service",
      version: REQUEST.version,
      acquiredAt: iso(NOW),
    });
    expect(sfn.calls()).toHaveLength(0);
  });

  it("fails with DeploymentInProgress when the lock's owner is still RUNNING", async () => {
    s3.on(PutObjectCommand).rejects(awsError("PreconditionFailed", 412));
    s3.on(GetObjectCommand).resolves({
      Body: body({
        owner: OTHER_EXECUTION,
        service: "hello-service",
        version: "1111111",
        acquiredAt: iso(T0),
      }),
      ETag: '"held"',
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });

    const error = await rejectionOf(acquireLock(STATE, context));
    expect(error.name).toBe("DeploymentInProgress");
    expect(error.message).toContain(OTHER_EXECUTION);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: OTHER_EXECUTION,
    });
    // Only the failed create: the running owner's lock is never replaced.
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it("takes over the lock of a finished execution with a conditional replace (IfMatch)", async () => {
    s3.on(PutObjectCommand, { IfNoneMatch: "*" }).rejects(awsError("PreconditionFailed", 412));
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).resolves({ ETag: '"lock-2"' });
    s3.on(GetObjectCommand).resolves({
      Body: body({
        owner: OTHER_EXECUTION,
        service: "hello-service",
        version: "1111111",
        acquiredAt: iso(T0),
      }),
      ETag: '"held"',
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: "FAILED" });

    const grant = await acquireLock(STATE, context);
    expect(grant).toEqual({
      key: "locks/hello-service.json",
      owner: EXECUTION.id,
      acquiredAt: iso(NOW),
      brokeStaleLockOf: OTHER_EXECUTION,
    });
    const replace = s3.commandCalls(PutObjectCommand)[1]?.args[0].input;
    expect(replace).toMatchObject({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
      IfMatch: '"held"',
    });
    expect(sentJson(replace?.Body)).toMatchObject({ brokeStaleLockOf: OTHER_EXECUTION });
  });

  it("turns S3 throttling (SlowDown, 503) into TransientError", async () => {
    s3.on(PutObjectCommand).rejects(awsError("SlowDown", 503, "Please reduce your request rate."));
    const error = await rejectionOf(acquireLock(STATE, context));
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain("PutObject failed transiently (SlowDown");
  });
});

describe("verify-preprod", () => {
  const validation = {
    service: "hello-service",
    version: REQUEST.version,
    sha256: SHA_A,
    validatedAt: iso(T0 - 3_600_000),
    validatedBy: "ci-bot",
    ciRunUrl: "https://ci.example.com/runs/41",
  };

  beforeEach(() => {
    vi.stubEnv("GANTRY_PREPROD_ROLE_ARN", undefined);
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_A_BASE64,
      ChecksumType: "FULL_OBJECT",
      ETag: '"src"',
    });
    s3.on(GetObjectCommand).resolves({ Body: body(validation), ETag: '"v"' });
    lambda.on(GetAliasCommand).resolves({ Name: "live", FunctionVersion: "12", RevisionId: "r" });
    lambda.on(GetFunctionConfigurationCommand).resolves({
      Version: "12",
      CodeSha256: SHA_A_BASE64,
    });
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: "hello-service-preprod-errors",
          StateValue: "OK",
          StateReason: "Threshold Crossed: no datapoints were breaching",
          StateUpdatedTimestamp: new Date(T0 - 60_000),
        },
      ],
    });
  });

  it("returns the evidence after reading the artifact, its validation record, the preprod alias and alarms", async () => {
    const evidence = await verifyPreprod(STATE, context);
    expect(evidence).toEqual({
      required: true,
      validatedAt: validation.validatedAt,
      validatedBy: "ci-bot",
      ciRunUrl: "https://ci.example.com/runs/41",
      preprodVersion: "12",
      alarms: [
        {
          name: "hello-service-preprod-errors",
          state: "OK",
          reason: "Threshold Crossed: no datapoints were breaching",
          updatedAt: iso(T0 - 60_000),
        },
      ],
    });
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-gantry-artifacts-preprod",
      Key: ARTIFACT_KEY,
      ChecksumMode: "ENABLED",
    });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-gantry-artifacts-preprod",
      Key: `validations/hello-service/${REQUEST.version}.json`,
    });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-preprod",
      Name: "live",
    });
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-preprod",
      Qualifier: "12",
    });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toMatchObject({
      AlarmNames: ["hello-service-preprod-errors"],
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0); // read-only
  });

  it("uses the function's own credentials (no assumed role, no STS) when GANTRY_PREPROD_ROLE_ARN is unset", async () => {
    await verifyPreprod(STATE, context);
    expect(process.env.GANTRY_PREPROD_ROLE_ARN).toBeUndefined();
    expect(vi.mocked(fromTemporaryCredentials)).not.toHaveBeenCalled();
  });

  it("fails with PreprodNotValidated when there is no validation record", async () => {
    s3.on(GetObjectCommand).rejects(
      awsError("NoSuchKey", 404, "The specified key does not exist."),
    );
    const error = await rejectionOf(verifyPreprod(STATE, context));
    expect(error.name).toBe("PreprodNotValidated");
    expect(error.message).toContain(`no preprod validation record for hello-service`);
    expect(lambda.calls()).toHaveLength(0);
    expect(cloudwatch.calls()).toHaveLength(0);
  });

  it("fails with ArtifactChecksumMismatch when the preprod object has other bytes", async () => {
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_B_BASE64,
      ETag: '"src"',
    });
    const error = await rejectionOf(verifyPreprod(STATE, context));
    expect(error.name).toBe("ArtifactChecksumMismatch");
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});

describe("request-approval", () => {
  const TOKEN = "AQCEAAAAKgAAAA-task-token-that-must-stay-secret-0123456789";
  const APPROVAL_URL = "https://approve.acme.dev";
  const SIGNING_KEY = "k".repeat(40);
  const LINK_KEYS_SECRET =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-link-keys";
  const event = { ...STATE, preprod: PREPROD, taskToken: TOKEN };

  beforeEach(() => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    vi.stubEnv("GANTRY_APPROVAL_URL", APPROVAL_URL);
    vi.stubEnv("GANTRY_SENDER", "gantry@acme.dev");
    vi.stubEnv("GANTRY_LINK_KEYS_SECRET", LINK_KEYS_SECRET);
    secretsManager
      .on(GetSecretValueCommand, { SecretId: LINK_KEYS_SECRET })
      .resolves({ SecretString: JSON.stringify({ current: SIGNING_KEY, previous: "" }) });
    s3.on(GetObjectCommand).rejects(awsError("NoSuchKey", 404));
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    ses.on(SendEmailCommand).resolves({ MessageId: "m-1" });
    sfn.on(SendTaskSuccessCommand).resolves({});
  });

  it("fails with ConfigurationError when GANTRY_SENDER is not set, before storing or sending anything", async () => {
    vi.stubEnv("GANTRY_SENDER", undefined);
    const error = await rejectionOf(requestApproval(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_SENDER");
    expect(s3.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("in a stage without approvals, completes its task with none of the mail settings or keys", async () => {
    for (const name of [
      "GANTRY_SENDER",
      "GANTRY_APPROVAL_URL",
      "GANTRY_LINK_KEYS_SECRET",
      "GANTRY_STATE_BUCKET",
    ])
      vi.stubEnv(name, undefined);
    const preprod = resolvePlan(registry, "preprod", REQUEST, { timeScale: 1 });
    const result = await requestApproval({ ...event, plan: preprod }, context);
    expect(result).toEqual({ mode: "not-required", by: "policy:preprod" });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe(TOKEN);
    expect(s3.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it("fails with ConfigurationError naming the key's secret when the key is too short, storing nothing", async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: LINK_KEYS_SECRET })
      .resolves({ SecretString: JSON.stringify({ current: "too-short" }) });
    const error = await rejectionOf(requestApproval(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_LINK_KEYS_SECRET");
    expect(error.message).not.toContain("too-short");
    expect(s3.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it("reads the signing key from Secrets Manager, never from the environment", async () => {
    vi.stubEnv("GANTRY_SIGNING_KEY", "e".repeat(40));
    await requestApproval(event, context);
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: LINK_KEYS_SECRET,
    });
    const text =
      ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Simple?.Body?.Text?.Data ?? "";
    expect(new URL(/Approve: (\S+)/.exec(text)?.[1] ?? "").searchParams.get("kid")).toBe(
      signingKeysFrom(SIGNING_KEY).current.id,
    );
  });

  it("stores one approval for the execution, its token apart, and emails each approver signed links", async () => {
    const result = await requestApproval(event, context);
    if (result.mode !== "requested")
      throw new Error(`expected an approval request: ${result.mode}`);
    const id = result.approvalId;
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(result).toEqual({
      mode: "requested",
      approvalId: id,
      approvers: ["alice@example.com", "bob@example.com"],
      expiresAt: iso(NOW + 24 * 3_600_000),
      emailed: true,
    });

    // The execution's index (conditional), the token (replaced by a retry), the approval
    // (conditional), and the mark that every approver was emailed.
    const puts = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts.map((put) => [put.Bucket, put.Key, put.IfNoneMatch])).toEqual([
      [STATE_BUCKET, recordKeys.approvalOfExecution(EXECUTION), "*"],
      [STATE_BUCKET, `approval-tokens/${id}.json`, undefined],
      [STATE_BUCKET, `approvals/${id}.json`, "*"],
      [STATE_BUCKET, `approvals/${id}.notified.json`, "*"],
    ]);
    expect(sentJson(puts[1]?.Body)).toEqual({ approvalId: id, taskToken: TOKEN });
    expect(sentJson(puts[2]?.Body)).toMatchObject({
      id,
      stage: "prod",
      service: "hello-service",
      version: REQUEST.version,
      sha256: SHA_A,
      artifactKey: ARTIFACT_KEY,
      execution: { id: EXECUTION.id, name: EXECUTION.name, startedAt: EXECUTION.startedAt },
      approvers: ["alice@example.com", "bob@example.com"],
      requestedAt: iso(NOW),
      expiresAt: iso(NOW + 24 * 3_600_000),
      preprod: PREPROD,
    });
    for (const put of [puts[0], ...puts.slice(2)]) expect(String(put?.Body)).not.toContain(TOKEN);

    // One email per approver, links to the approval pages signed with the link key.
    const emails = ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input);
    expect(emails.map((email) => email.Destination?.ToAddresses)).toEqual([
      ["alice@example.com"],
      ["bob@example.com"],
    ]);
    const keys = signingKeysFrom(SIGNING_KEY);
    for (const [i, approver] of ["alice@example.com", "bob@example.com"].entries()) {
      const email = emails[i];
      expect(email?.FromEmailAddress).toBe("gantry@acme.dev");
      const text = email?.Content?.Simple?.Body?.Text?.Data ?? "";
      const html = email?.Content?.Simple?.Body?.Html?.Data ?? "";
      for (const part of [text, html]) {
        expect(part).toContain(`${APPROVAL_URL}/approvals/${id}?action=approve`);
        expect(part).toContain(`${APPROVAL_URL}/approvals/${id}?action=reject`);
      }
      for (const part of [text, html, email?.Content?.Simple?.Subject?.Data ?? ""])
        expect(part).not.toContain(TOKEN);
      const link = new URL(/Approve: (\S+)/.exec(text)?.[1] ?? "");
      const q = link.searchParams;
      const claims = verifyApprovalLink(
        {
          approvalId: id,
          action: q.get("action"),
          approver: q.get("approver"),
          exp: q.get("exp"),
          kid: q.get("kid"),
          sig: q.get("sig"),
        },
        keys,
        NOW,
      );
      expect(claims).toEqual({
        approvalId: id,
        action: "approve",
        approver,
        expiresAt: Math.floor((NOW + 24 * 3_600_000) / 1000),
      });
    }
    expect(sfn.calls()).toHaveLength(0);
  });

  it("asks people even when the caller claims to be an auto-approved actor", async () => {
    const request = { ...REQUEST, trigger: { actor: "dependabot[bot]" } };
    const result = await requestApproval({ ...event, request }, context);
    expect(result).toMatchObject({ mode: "requested", emailed: true });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
  });
});

describe("copy-artifact", () => {
  const state = { ...STATE, approval: APPROVAL };
  const source = { Bucket: "acme-gantry-artifacts-preprod", Key: ARTIFACT_KEY };
  const destination = { Bucket: "acme-gantry-artifacts-prod", Key: ARTIFACT_KEY };

  beforeEach(() => {
    s3.on(HeadObjectCommand, source).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_A_BASE64,
      ChecksumType: "FULL_OBJECT",
      ETag: '"9b2cf535f27731c9"',
      VersionId: "src-v3",
    });
    s3.on(HeadObjectCommand, destination).rejects(awsError("NotFound", 404));
    s3.on(CopyObjectCommand).resolves({
      CopyObjectResult: { ETag: '"c4ca4238a0b92382"', ChecksumSHA256: SHA_A_BASE64 },
      VersionId: "dest-v1",
    });
  });

  it("copies server-side into the stage bucket with a SHA-256 checksum, conditional on the source's ETag", async () => {
    const artifact = await copyArtifact(state, context);
    expect(artifact).toEqual({
      bucket: "acme-gantry-artifacts-prod",
      key: ARTIFACT_KEY,
      versionId: "dest-v1",
      sha256: SHA_A,
      size: 2048,
      copied: true,
    });
    const heads = s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input);
    expect(heads).toContainEqual({ ...source, ChecksumMode: "ENABLED" });
    expect(heads).toContainEqual({ ...destination, ChecksumMode: "ENABLED" });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-gantry-artifacts-prod",
      Key: ARTIFACT_KEY,
      CopySource: `acme-gantry-artifacts-preprod/${ARTIFACT_KEY}?versionId=src-v3`,
      CopySourceIfMatch: '"9b2cf535f27731c9"',
      ChecksumAlgorithm: "SHA256",
      MetadataDirective: "REPLACE",
      Metadata: {
        "gantry-service": "hello-service",
        "gantry-version": REQUEST.version,
        "gantry-sha256": SHA_A,
        "gantry-execution": EXECUTION.name,
        "gantry-approved-by": "alice@example.com",
        "gantry-promoted-at": iso(NOW),
      },
      TaggingDirective: "REPLACE",
      Tagging: `gantry-service=hello-service&gantry-version=${REQUEST.version}`,
    });
  });

  it("fails with ArtifactChecksumMismatch when the source has another digest, and copies nothing", async () => {
    s3.on(HeadObjectCommand, source).resolves({
      ContentLength: 2048,
      ChecksumSHA256: SHA_B_BASE64,
      ETag: '"9b2cf535f27731c9"',
    });
    const error = await rejectionOf(copyArtifact(state, context));
    expect(error.name).toBe("ArtifactChecksumMismatch");
    expect(error.message).toContain(SHA_B);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  it("fails with ArtifactConflict when the destination already holds other bytes", async () => {
    s3.on(HeadObjectCommand, destination).resolves({
      ContentLength: 999,
      ChecksumSHA256: SHA_B_BASE64,
      ETag: '"other"',
    });
    const error = await rejectionOf(copyArtifact(state, context));
    expect(error.name).toBe("ArtifactConflict");
    expect(error.message).toContain("acme-gantry-artifacts-prod");
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe("deploy", () => {
  const state = { ...STATE, approval: APPROVAL, artifact: ARTIFACT };

  beforeEach(() => {
    lambda.on(GetAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RevisionId: "alias-rev",
    });
    lambda.on(UpdateFunctionCodeCommand).resolves({
      LastUpdateStatus: "Successful",
      CodeSha256: SHA_A_BASE64,
      RevisionId: "rev-updating",
    });
    lambda.on(GetFunctionConfigurationCommand).resolves({
      Version: "$LATEST",
      CodeSha256: SHA_A_BASE64,
      RevisionId: "rev-latest",
    });
    lambda.on(PublishVersionCommand).resolves({ Version: "7", CodeSha256: SHA_A_BASE64 });
  });

  it("updates the code from the stage's copy and publishes a version with the artifact's CodeSha256, moving no traffic", async () => {
    const rollout = await deploy(state, context);
    expect(rollout).toEqual({
      newVersion: "7",
      previousVersion: "6",
      phase: "steps",
      stepIndex: -1,
      weight: 0,
      holdEndsAt: iso(NOW),
      nextCheckAt: iso(NOW),
      checks: 0,
    });
    expect(commandsSent(lambda)).toEqual([
      "GetAliasCommand",
      "UpdateFunctionCodeCommand",
      "GetFunctionConfigurationCommand",
      "PublishVersionCommand",
    ]);
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      Name: "live",
    });
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      S3Bucket: "acme-gantry-artifacts-prod",
      S3Key: ARTIFACT_KEY,
      S3ObjectVersion: "dest-v1",
      Publish: false,
    });
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      Qualifier: "$LATEST",
    });
    expect(lambda.commandCalls(PublishVersionCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      CodeSha256: SHA_A_BASE64,
      RevisionId: "rev-latest",
      Description: `gantry hello-service ${REQUEST.version} (${EXECUTION.name})`,
    });
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it("fails with ConcurrentModification when PublishVersion's RevisionId no longer matches", async () => {
    lambda.on(PublishVersionCommand).rejects(
      new PreconditionFailedException({
        ...lambdaMeta,
        message: "The Revision Id provided does not match the latest Revision Id.",
      }),
    );
    const error = await rejectionOf(deploy(state, context));
    expect(error.name).toBe("ConcurrentModification");
    expect(error.message).toContain("hello-service-prod");
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it("fails with TargetNotFound when the alias does not exist, and changes nothing", async () => {
    lambda
      .on(GetAliasCommand)
      .rejects(new ResourceNotFoundException({ ...lambdaMeta, message: "Alias not found" }));
    const error = await rejectionOf(deploy(state, context));
    expect(error.name).toBe("TargetNotFound");
    expect(error.message).toContain("hello-service-prod:live");
    expect(commandsSent(lambda)).toEqual(["GetAliasCommand"]);
  });
});

describe("canary", () => {
  const state = { ...STATE, artifact: ARTIFACT, rollout: rolloutOf() };

  beforeEach(() => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      Payload: payload({ statusCode: 200, body: "hello from version 7" }),
    });
    lambda.on(GetAliasCommand).resolves({ Name: "live", FunctionVersion: "6", RevisionId: "r1" });
    lambda.on(UpdateAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
    });
  });

  it("invokes the new version directly, then gives it the first traffic step", async () => {
    const rollout = await canary(state, context);
    expect(rollout).toEqual({
      ...rolloutOf(),
      stepIndex: 0,
      weight: 10,
      holdEndsAt: iso(NOW + 60_000),
      nextCheckAt: iso(NOW + 60_000),
      canary: {
        version: "7",
        results: [{ name: "GET /hello", passed: true, detail: "ok (version 7)" }],
      },
    });
    expect(commandsSent(lambda)).toEqual([
      "InvokeCommand",
      "GetAliasCommand",
      "UpdateAliasCommand",
    ]);
    const invoke = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(invoke?.FunctionName).toBe("hello-service-prod");
    expect(invoke?.Qualifier).toBe("7");
    expect(sentJson(invoke?.Payload)).toEqual({
      rawPath: "/hello",
      requestContext: { http: { method: "GET" } },
    });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r1", { "7": 0.1 }));
  });

  it("fails with CanaryFailed on a function error, and gives the version no traffic", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      FunctionError: "Unhandled",
      Payload: payload({ errorType: "TypeError", errorMessage: "boom" }),
    });
    const error = await rejectionOf(canary(state, context));
    expect(error.name).toBe("CanaryFailed");
    expect(error.message).toContain("GET /hello: function error (Unhandled): TypeError: boom");
    expect(commandsSent(lambda)).toEqual(["InvokeCommand"]);
  });
});

describe("check-alarms", () => {
  const alarm = (StateValue: "OK" | "ALARM") => ({
    MetricAlarms: [
      {
        AlarmName: "hello-service-prod-errors",
        StateValue,
        StateReason: `state ${StateValue}`,
        StateUpdatedTimestamp: new Date(NOW - 5000),
      },
    ],
  });
  const holding = rolloutOf({ stepIndex: 0, weight: 10, holdEndsAt: iso(NOW + 30_000), checks: 2 });

  it("keeps the step while its hold is not over, with the next check at the hold's end", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarm("OK"));
    const rollout = await checkAlarms({ ...STATE, rollout: holding }, context);
    expect(rollout).toEqual({ ...holding, checks: 3, nextCheckAt: iso(NOW + 30_000) });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toMatchObject({
      AlarmNames: ["hello-service-prod-errors"],
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
    });
    expect(lambda.calls()).toHaveLength(0);
  });

  it("moves to the next traffic step once the hold is over", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarm("OK"));
    lambda.on(GetAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
      RevisionId: "r2",
    });
    lambda.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "6" });
    const over = { ...holding, holdEndsAt: iso(NOW - 1000) };
    const rollout = await checkAlarms({ ...STATE, rollout: over }, context);
    expect(rollout).toMatchObject({
      stepIndex: 1,
      weight: 25,
      checks: 3,
      holdEndsAt: iso(NOW + 60_000),
    });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r2", { "7": 0.25 }));
  });

  it("fails with AlarmTriggered when an alarm is in ALARM, and moves no traffic", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarm("ALARM"));
    const error = await rejectionOf(
      checkAlarms({ ...STATE, rollout: { ...holding, holdEndsAt: iso(NOW - 1000) } }, context),
    );
    expect(error.name).toBe("AlarmTriggered");
    expect(error.message).toContain("hello-service-prod-errors in ALARM");
    expect(lambda.calls()).toHaveLength(0);
  });

  it("turns CloudWatch throttling into TransientError", async () => {
    cloudwatch.on(DescribeAlarmsCommand).rejects(awsError("Throttling", 400, "Rate exceeded"));
    const error = await rejectionOf(checkAlarms({ ...STATE, rollout: holding }, context));
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain("DescribeAlarms failed transiently (Throttling");
  });
});

describe("promote", () => {
  const atLastStep = rolloutOf({ phase: "promote", stepIndex: 2, weight: 50 });
  const state = { ...STATE, rollout: atLastStep };

  beforeEach(() => {
    lambda.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "7" });
  });

  it("gives the new version the whole alias, reads it back and starts the bake", async () => {
    lambda
      .on(GetAliasCommand)
      .resolvesOnce({
        Name: "live",
        FunctionVersion: "6",
        RoutingConfig: { AdditionalVersionWeights: { "7": 0.5 } },
        RevisionId: "r5",
      })
      .resolvesOnce({ Name: "live", FunctionVersion: "7", RevisionId: "r6" });
    const rollout = await promote(state, context);
    expect(rollout).toEqual({
      ...atLastStep,
      phase: "bake",
      weight: 100,
      holdEndsAt: iso(NOW + 600_000),
      nextCheckAt: iso(NOW + 60_000),
    });
    expect(commandsSent(lambda)).toEqual([
      "GetAliasCommand",
      "UpdateAliasCommand",
      "GetAliasCommand",
    ]);
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("7", "r5"));
  });

  it("fails with ConcurrentModification when the alias read back is still weighted", async () => {
    lambda.on(GetAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "7",
      RoutingConfig: { AdditionalVersionWeights: { "8": 0.2 } },
      RevisionId: "r9",
    });
    const error = await rejectionOf(promote(state, context));
    expect(error.name).toBe("ConcurrentModification");
    expect(error.message).toContain("20% to 8");
  });
});

describe("rollback", () => {
  const state = { ...STATE, rollout: rolloutOf({ stepIndex: 1, weight: 25 }) };

  beforeEach(() => {
    lambda
      .on(GetAliasCommand)
      .resolvesOnce({
        Name: "live",
        FunctionVersion: "6",
        RoutingConfig: { AdditionalVersionWeights: { "7": 0.25 } },
        RevisionId: "r3",
      })
      .resolvesOnce({ Name: "live", FunctionVersion: "6", RevisionId: "r4" });
    lambda.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "6" });
  });

  it("restores the previous version with no weights and verifies it", async () => {
    const report = await rollback(state, context);
    expect(report).toEqual({ restoredVersion: "6", removedVersion: "7", verifiedAt: iso(NOW) });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r3"));
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(2);
  });

  it("fails with RollbackFailed when UpdateAlias is denied", async () => {
    lambda
      .on(UpdateAliasCommand)
      .rejects(awsError("AccessDeniedException", 403, "not authorized to perform UpdateAlias"));
    const error = await rejectionOf(rollback(state, context));
    expect(error.name).toBe("RollbackFailed");
    expect(error.message).toContain("AccessDeniedException");
    expect(error.message).toContain("hello-service-prod:live");
  });
});

describe("finish", () => {
  const RECORD_KEY = `deployments/hello-service/2026-11-01T12-00-00-000Z_${EXECUTION.name}.json`;
  const finished: Partial<DeploymentState> = {
    ...STATE,
    lock: LOCK,
    preprod: PREPROD,
    approval: APPROVAL,
    artifact: ARTIFACT,
    rollout: rolloutOf({ phase: "baked", stepIndex: 2, weight: 100 }),
  };
  const lockHeldBy = (owner: string) => ({
    Body: body({
      owner,
      service: "hello-service",
      version: REQUEST.version,
      acquiredAt: LOCK.acquiredAt,
    }),
    ETag: '"lock-etag"',
  });

  beforeEach(() => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    s3.on(PutObjectCommand).resolves({ ETag: '"rec"' });
    s3.on(GetObjectCommand).resolves(lockHeldBy(EXECUTION.id));
    s3.on(DeleteObjectCommand).resolves({});
  });

  it("fails with ConfigurationError when GANTRY_STATE_BUCKET is not set", async () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", undefined);
    const error = await rejectionOf(finish({ result: "succeeded", state: finished }, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STATE_BUCKET");
    expect(s3.calls()).toHaveLength(0);
  });

  it("writes the deployment record and releases the lock it owns with a conditional delete", async () => {
    const emf = await emfWrittenBy(async () => {
      const outcome = await finish({ result: "succeeded", state: finished }, context);
      expect(outcome).toEqual({ status: "deployed", version: "7", lockReleased: true });
    });
    expect(commandsSent(s3)).toEqual([
      "PutObjectCommand",
      "GetObjectCommand",
      "DeleteObjectCommand",
    ]);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: STATE_BUCKET, Key: RECORD_KEY });
    expect(sentJson(put?.Body)).toEqual({
      service: "hello-service",
      stage: "prod",
      version: REQUEST.version,
      sha256: SHA_A,
      trigger: REQUEST.trigger,
      execution: EXECUTION,
      artifact: ARTIFACT,
      preprod: PREPROD,
      approval: APPROVAL,
      release: { newVersion: "7", previousVersion: "6" },
      outcome: { status: "deployed", version: "7" },
      finishedAt: iso(NOW),
    });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
    });
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
      IfMatch: '"lock-etag"',
    });
    expect(emf).toEqual([]);
  });

  it("names a failed rollback RollbackFailed and publishes the RollbackFailed metric (Service, Stage)", async () => {
    s3.on(GetObjectCommand).resolves(lockHeldBy(OTHER_EXECUTION));
    const state: Partial<DeploymentState> = {
      ...finished,
      rollout: rolloutOf({ stepIndex: 0, weight: 10 }),
      failure: { Error: "AlarmTriggered", Cause: "hello-service-prod-errors in ALARM" },
      rollbackFailure: { Error: "RollbackFailed", Cause: "AccessDeniedException: denied" },
    };
    let outcome: unknown;
    const emf = await emfWrittenBy(async () => {
      outcome = await finish({ result: "failed", state }, context);
    });
    expect(outcome).toMatchObject({
      status: "failed",
      error: "RollbackFailed",
      lockReleased: false,
    });
    expect(emf).toHaveLength(1);
    const document = emf[0] as Record<string, unknown> & { _aws: Record<string, unknown> };
    expect(document._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: "Gantry",
        Dimensions: [["Service", "Stage"]],
        Metrics: [{ Name: "RollbackFailed", Unit: "Count" }],
      },
    ]);
    expect(document).toMatchObject({ Service: "hello-service", Stage: "prod", RollbackFailed: 1 });
    expect(document.service).toBeUndefined();
    expect(sentJson(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body)).toMatchObject({
      outcome: { status: "failed", error: "RollbackFailed" },
    });
    // Someone else's lock is left alone.
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });
});

describe("reconcile", () => {
  /** The last state entered: CheckAlarms, with 10% of traffic on version 7. */
  const abandoned: DeploymentState = {
    ...STATE,
    lock: LOCK,
    preprod: PREPROD,
    approval: APPROVAL,
    artifact: ARTIFACT,
    rollout: rolloutOf({ stepIndex: 0, weight: 10 }),
  };
  const history = (state: unknown) => ({
    events: [
      { id: 40, timestamp: new Date(NOW), type: "ExecutionAborted" as const },
      {
        id: 39,
        timestamp: new Date(NOW - 1000),
        type: "TaskStateEntered" as const,
        stateEnteredEventDetails: { name: "CheckAlarms", input: JSON.stringify(state) },
      },
    ],
  });
  const statusChange = (status: string) => ({
    detail: { executionArn: EXECUTION.id, status },
  });

  beforeEach(() => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    sfn.on(GetExecutionHistoryCommand).resolves(history(abandoned));
    lambda
      .on(GetAliasCommand)
      .resolvesOnce({
        Name: "live",
        FunctionVersion: "6",
        RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
        RevisionId: "r1",
      })
      .resolvesOnce({ Name: "live", FunctionVersion: "6", RevisionId: "r2" });
    lambda.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "6" });
    s3.on(PutObjectCommand).resolves({ ETag: '"rec"' });
    s3.on(GetObjectCommand).resolves({
      Body: body({ owner: EXECUTION.id, service: "hello-service", version: REQUEST.version }),
      ETag: '"lock-etag"',
    });
    s3.on(DeleteObjectCommand).resolves({});
  });

  it("skips an execution that SUCCEEDED without any AWS call", async () => {
    const result = await reconcile(statusChange("SUCCEEDED"), context);
    expect(result).toEqual({ skipped: "SUCCEEDED" });
    for (const mock of [s3, sfn, lambda]) expect(mock.calls()).toHaveLength(0);
  });

  it("fails with ConfigurationError when GANTRY_STATE_BUCKET is not set, before touching the alias", async () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", undefined);
    const error = await rejectionOf(reconcile(statusChange("ABORTED"), context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STATE_BUCKET");
    expect(lambda.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it("puts the alias back on the previous version after an ABORTED rollout, records it and releases the lock", async () => {
    const result = await reconcile(statusChange("ABORTED"), context);
    expect(result).toEqual({
      rollback: { restoredVersion: "6", removedVersion: "7", verifiedAt: iso(NOW) },
      outcome: {
        status: "rolled-back",
        error: "DeploymentFailed",
        cause:
          "ExecutionAborted: the execution ended ABORTED without running its failure path; " +
          "rolled back to version 6",
        lockReleased: true,
      },
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toEqual({
      executionArn: EXECUTION.id,
      reverseOrder: true,
      maxResults: 100,
      nextToken: undefined,
    });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r1"));
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Key).toBe(
      `deployments/hello-service/2026-11-01T12-00-00-000Z_${EXECUTION.name}.json`,
    );
    expect(sentJson(put?.Body)).toMatchObject({
      rollback: { restoredVersion: "6" },
      outcome: { status: "rolled-back", error: "DeploymentFailed" },
    });
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: STATE_BUCKET,
      Key: "locks/hello-service.json",
      IfMatch: '"lock-etag"',
    });
  });

  it("rolls back an execution that FAILED past every Catch (States.DataLimitExceeded) with traffic on the new version", async () => {
    const result = await reconcile(
      {
        detail: {
          executionArn: EXECUTION.id,
          status: "FAILED",
          error: "States.DataLimitExceeded",
          cause: "The state/task returned a result with a size exceeding the maximum",
        },
      },
      context,
    );
    expect(result).toMatchObject({
      rollback: { restoredVersion: "6", removedVersion: "7" },
      outcome: { status: "rolled-back", lockReleased: true },
    });
    expect((result as { outcome: { cause: string } }).outcome.cause).toContain(
      "States.DataLimitExceeded",
    );
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r1"));
  });

  it("does nothing for an execution that FAILED through its own failure path (it has an outcome)", async () => {
    const failedProperly = {
      ...abandoned,
      rollback: { restoredVersion: "6", removedVersion: "7", verifiedAt: iso(NOW) },
      outcome: { status: "rolled-back", error: "AlarmTriggered", cause: "x", lockReleased: true },
    };
    sfn.on(GetExecutionHistoryCommand).resolves(history(failedProperly));
    const result = await reconcile(
      { detail: { executionArn: EXECUTION.id, status: "FAILED", error: "AlarmTriggered" } },
      context,
    );
    expect(result).toEqual({});
    expect(lambda.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it("leaves the alias alone when the execution TIMED_OUT before Deploy, and still releases the lock", async () => {
    sfn.on(GetExecutionHistoryCommand).resolves(history({ ...STATE, lock: LOCK }));
    const result = await reconcile(statusChange("TIMED_OUT"), context);
    expect(result).toEqual({
      outcome: {
        status: "failed",
        error: "DeploymentFailed",
        cause: "ExecutionTimedOut: the execution ended TIMED_OUT without running its failure path",
        lockReleased: true,
      },
    });
    expect(lambda.calls()).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });
});

describe("scheduled-canary", () => {
  beforeEach(() => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      Payload: payload({ statusCode: 200, body: "hello, world" }),
    });
  });

  it("fails with ConfigurationError when GANTRY_STAGE is not set, invoking nothing", async () => {
    vi.stubEnv("GANTRY_STAGE", undefined);
    const error = await rejectionOf(scheduledCanary({}, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STAGE");
    expect(lambda.calls()).toHaveLength(0);
  });

  it("invokes every registered service's alias and publishes CanaryFailures 0 when all checks pass", async () => {
    let result: unknown;
    const emf = await emfWrittenBy(async () => {
      result = await scheduledCanary({}, context);
    });
    expect(result).toEqual({
      failures: 0,
      services: [
        {
          service: "hello-service",
          target: "hello-service-prod:live",
          results: [{ name: "GET /hello", passed: true, detail: "ok (version 7)" }],
          failures: 0,
        },
      ],
    });
    expect(Object.keys(registry.services)).toEqual(["hello-service"]);
    const invokes = lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input);
    expect(invokes).toHaveLength(1);
    expect(invokes[0]?.FunctionName).toBe("hello-service-prod");
    expect(invokes[0]?.Qualifier).toBe("live");
    expect(sentJson(invokes[0]?.Payload)).toEqual({
      rawPath: "/hello",
      requestContext: { http: { method: "GET" } },
    });
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: "Gantry",
            Dimensions: [["Service", "Stage"]],
            Metrics: [{ Name: "CanaryFailures", Unit: "Count" }],
          },
        ],
      },
      Service: "hello-service",
      Stage: "prod",
      CanaryFailures: 0,
    });
  });

  it("counts a failing check and publishes CanaryFailures 1", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: "7",
      Payload: payload({ statusCode: 502, body: "bad gateway" }),
    });
    let result: unknown;
    const emf = await emfWrittenBy(async () => {
      result = await scheduledCanary({}, context);
    });
    expect(result).toMatchObject({ failures: 1, services: [{ failures: 1 }] });
    expect(emf.map((document) => [document.Service, document.CanaryFailures])).toEqual([
      ["hello-service", 1],
    ]);
  });
});
