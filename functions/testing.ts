/**
 * Test support for the functions' tests (`<name>.test.ts`, one beside each function): each runs
 * the function's real exported `handler` (`createHandler(awsDeps())`) over mocked AWS SDK
 * clients, and checks which environment variables it reads, which commands it sends with which
 * inputs, and that its failures keep their names (the workflow's Retry and Catch match on
 * them). Not an entry point of the package: tests only.
 *
 * The function modules are singletons whose ports are built lazily on first use and kept once
 * built. Each test file imports its function afresh (vitest isolates test files), so within a
 * file a test of a missing setting runs before the tests that build the ports. Each test file
 * also resets the environment before its function module is imported, with
 * `await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());`
 * (a plain import would run after the function module's).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { type InvokeCommandOutput, LambdaClient, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { type GetObjectCommandOutput, S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  type DeploymentState,
  hexToBase64,
  type PreprodEvidence,
  type PromotedArtifact,
  type Rollout,
  resolvePlan,
} from "@gantry/core";
import { SHA_A, SHA_B, T0, testExecution, testRequest } from "@gantry/core/testing";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, vi } from "vitest";
import registry from "../gantry.registry.ts";

/**
 * Run before a function module is imported: a region for the SDK clients, no log output, and
 * none of Gantry's settings from the outside (the function reads them when it builds a port).
 */
export function isolateEnvironment(): void {
  process.env.AWS_REGION = "us-east-1";
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("GANTRY_") || name.startsWith("SST_RESOURCE_")) delete process.env[name];
  }
}

/** The mocked SDK clients: every client of that class, in the module under test too. */
export const s3 = mockClient(S3Client);
export const sfn = mockClient(SFNClient);
export const lambda = mockClient(LambdaClient);
export const cloudwatch = mockClient(CloudWatchClient);
export const ses = mockClient(SESv2Client);
export const secretsManager = mockClient(SecretsManagerClient);
export const scheduler = mockClient(SchedulerClient);

/** The wall clock during every test: 15 minutes after the execution started (T0). */
export const NOW = T0 + 15 * 60_000;
export const iso = (ms: number) => new Date(ms).toISOString();

export const STATE_BUCKET = "acme-gantry-state-prod";
export const SHA_A_BASE64 = hexToBase64(SHA_A);
export const SHA_B_BASE64 = hexToBase64(SHA_B);

export const REQUEST = testRequest();
export const EXECUTION = testExecution();
/** What ValidateInput leaves: the plan the project registry gives hello-service in prod. */
export const STATE: DeploymentState = {
  request: REQUEST,
  execution: EXECUTION,
  plan: resolvePlan(registry, "prod", REQUEST, { timeScale: 1 }),
};
export const ARTIFACT_KEY = `hello-service/${REQUEST.version}.zip`;
export const OTHER_EXECUTION =
  "arn:aws:states:eu-west-1:123456789012:execution:gantry-prod:other-run";

export const LOCK = {
  key: "locks/hello-service.json",
  owner: EXECUTION.id,
  acquiredAt: iso(T0 + 1000),
};
export const PREPROD: PreprodEvidence = {
  required: true,
  validatedAt: iso(T0 - 3_600_000),
  validatedBy: "ci-bot",
  preprodVersion: "12",
  alarms: [],
};
export const APPROVAL = {
  approved: true,
  how: "approver",
  by: "alice@example.com",
  at: iso(T0 + 60_000),
  verified: true,
} as const;
export const ARTIFACT: PromotedArtifact = {
  bucket: "acme-gantry-artifacts-prod",
  key: ARTIFACT_KEY,
  versionId: "dest-v1",
  sha256: SHA_A,
  size: 2048,
  copied: true,
};
/** The rollout Deploy returns: version 7 published, 6 still serving everything. */
export function rolloutOf(overrides: Partial<Rollout> = {}): Rollout {
  return {
    newVersion: "7",
    previousVersion: "6",
    phase: "steps",
    stepIndex: -1,
    weight: 0,
    holdEndsAt: iso(NOW),
    nextCheckAt: iso(NOW),
    checks: 0,
    holdTimeoutSeconds: 61,
    ...overrides,
  };
}

/** The Lambda context every invocation gets. */
export const context = {
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
export function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}
/** The `$metadata` of a Lambda service exception (HTTP 400), for the SDK's exception classes. */
export const lambdaMeta = { $metadata: { httpStatusCode: 400 } };

/** A GetObject body: the adapters only read it with transformToString. */
export function body(value: unknown) {
  return {
    transformToString: async () => JSON.stringify(value),
  } as unknown as GetObjectCommandOutput["Body"];
}

/** An Invoke payload (JSON bytes). */
export function payload(value: unknown) {
  return new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput["Payload"];
}

/** The JSON a command sent as its body or payload. */
export function sentJson(value: unknown): unknown {
  return JSON.parse(
    typeof value === "string" ? value : new TextDecoder().decode(value as Uint8Array),
  );
}

/** The class names of the commands a mocked client sent, in order. */
export function commandsSent(mock: { calls(): readonly { args: readonly unknown[] }[] }): string[] {
  return mock.calls().map((call) => (call.args[0] as object).constructor.name);
}

/** The first UpdateAlias input the Lambda mock received. */
export const aliasUpdateSent = () => lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input;

/** UpdateAlias for hello-service-prod's `live`: `version`, plus `weights`, if `revision` still holds. */
export function liveAliasUpdate(
  version: string,
  revision: string,
  weights: Record<string, number> = {},
) {
  return {
    FunctionName: "hello-service-prod",
    Name: "live",
    FunctionVersion: version,
    RoutingConfig: { AdditionalVersionWeights: weights },
    RevisionId: revision,
  };
}

/** The EMF documents written to stdout while `run` ran. */
export async function emfWrittenBy(
  run: () => Promise<unknown>,
): Promise<Record<string, unknown>[]> {
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

/**
 * What every test of a handler starts from and leaves behind: mocks with no behaviour and no
 * calls, the wall clock at {@link NOW}; then the real clock, the environment as it was, and no
 * spies. Call it once at the top of a test file.
 */
export function setUpHandlerTests(): void {
  beforeEach(() => {
    for (const mock of [s3, sfn, lambda, cloudwatch, ses, secretsManager, scheduler]) mock.reset();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
}
