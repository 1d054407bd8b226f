/**
 * The real exported `handler` of finish (Finish, FinishAfterFailure) over mocked AWS SDK
 * clients (functions/testing.ts): the deployment record, the lock released when this execution
 * owns it, and the RollbackFailed metric.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { DeploymentState } from "@gantry/core";
import { rejectionOf, SHA_A } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { handler as finish } from "./finish.ts";
import {
  APPROVAL,
  ARTIFACT,
  body,
  commandsSent,
  context,
  EXECUTION,
  emfWrittenBy,
  iso,
  LOCK,
  NOW,
  OTHER_EXECUTION,
  PREPROD,
  REQUEST,
  rolloutOf,
  STATE,
  STATE_BUCKET,
  s3,
  sentJson,
  setUpHandlerTests,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

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
      repository: { url: "https://github.com/acme/hello-service", verified: false },
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
