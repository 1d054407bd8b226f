/**
 * reconcile's real exported `handler` over mocked AWS SDK clients (functions/testing.ts): cleaning
 * up after an execution that ended without running its own failure path.
 */
import { GetAliasCommand, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { GetExecutionHistoryCommand } from "@aws-sdk/client-sfn";
import type { DeploymentState } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { awsDeps, createHandler, handler as reconcile } from "./reconcile.ts";
import {
  APPROVAL,
  ARTIFACT,
  aliasUpdateSent,
  body,
  context,
  EXECUTION,
  emfWrittenBy,
  iso,
  LOCK,
  lambda,
  liveAliasUpdate,
  NOW,
  PREPROD,
  REQUEST,
  rolloutOf,
  STATE,
  STATE_BUCKET,
  s3,
  sentJson,
  setUpHandlerTests,
  sfn,
} from "./testing.ts";

await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

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
      Body: body({
        owner: EXECUTION.id,
        service: "hello-service",
        version: REQUEST.version,
        acquiredAt: "2026-11-01T12:00:00.000Z",
      }),
      ETag: '"lock-etag"',
    });
    s3.on(DeleteObjectCommand).resolves({});
  });

  /** What Finish leaves behind as the execution's output (Deployed passes its input on). */
  const baked: DeploymentState = {
    ...abandoned,
    rollout: rolloutOf({ phase: "baked", stepIndex: 2, weight: 100 }),
  };
  const succeeded = (output: unknown) => ({
    detail: {
      executionArn: EXECUTION.id,
      status: "SUCCEEDED",
      output: JSON.stringify(output),
      outputDetails: { included: true },
    },
  });

  it("skips an execution that SUCCEEDED with its outcome recorded, from the event alone (no AWS call)", async () => {
    const recorded = {
      ...baked,
      outcome: { status: "deployed", version: "7", lockReleased: true },
    };
    const result = await reconcile(succeeded(recorded), context);
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

  it("records a SUCCEEDED execution whose Finish failed for good as deployed and releases its lock, never touching the alias", async () => {
    const cleanupFailure = { Error: "Lambda.Unknown", Cause: "the Finish function timed out" };
    const result = await reconcile(succeeded({ ...baked, cleanupFailure }), context);
    expect(result).toMatchObject({
      outcome: { status: "deployed", version: "7", lockReleased: true },
    });
    expect(sfn.calls()).toHaveLength(0);
    expect(lambda.calls()).toHaveLength(0);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Key).toBe(
      `deployments/hello-service/2026-11-01T12-00-00-000Z_${EXECUTION.name}.json`,
    );
    const record = sentJson(put?.Body) as { outcome: { status: string; note: string } };
    expect(record.outcome.status).toBe("deployed");
    expect(record.outcome.note).toContain("the Finish function timed out");
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });

  it("reads the last state from the history when the event left a SUCCEEDED execution's output out", async () => {
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves(history({ ...baked, outcome: { status: "deployed", lockReleased: true } }));
    const result = await reconcile(
      {
        detail: {
          executionArn: EXECUTION.id,
          status: "SUCCEEDED",
          output: null,
          outputDetails: { included: false },
        },
      },
      context,
    );
    expect(result).toEqual({ skipped: "SUCCEEDED" });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
    expect(s3.calls()).toHaveLength(0);
  });

  it("tries a failed rollback once more and records that the reconcile rolled back", async () => {
    const recordKey = `deployments/hello-service/2026-11-01T12-00-00-000Z_${EXECUTION.name}.json`;
    const rollbackFailed = {
      ...abandoned,
      failure: { Error: "AlarmTriggered", Cause: "hello-prod-errors is in ALARM" },
      rollbackFailure: { Error: "RollbackFailed", Cause: "could not restore hello-prod:live" },
      outcome: {
        status: "failed",
        error: "RollbackFailed",
        cause: "rollback failed (could not restore hello-prod:live) after AlarmTriggered: x",
        lockReleased: true,
      },
    };
    sfn.on(GetExecutionHistoryCommand).resolves(history(rollbackFailed));
    const split = {
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
      RevisionId: "r1",
    };
    // Read to check the alias is still this deployment's, then by the rollback, then back.
    lambda
      .on(GetAliasCommand)
      .resolvesOnce(split)
      .resolvesOnce(split)
      .resolvesOnce({ Name: "live", FunctionVersion: "6", RevisionId: "r2" });
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error("NoSuchKey"), {
        name: "NoSuchKey",
        $metadata: { httpStatusCode: 404 },
      }),
    );
    s3.on(GetObjectCommand, { Key: recordKey }).resolves({
      Body: body({ outcome: rollbackFailed.outcome }),
      ETag: '"record"',
    });
    // The workflow's record is there (no amendment yet): the reconcile's is written beside it.
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand, { Key: recordKey }).rejects(
      Object.assign(new Error("At least one of the pre-conditions you specified did not hold"), {
        name: "PreconditionFailed",
        $metadata: { httpStatusCode: 412 },
      }),
    );
    const result = await reconcile(
      { detail: { executionArn: EXECUTION.id, status: "FAILED", error: "RollbackFailed" } },
      context,
    );
    expect(result).toMatchObject({
      rollback: { restoredVersion: "6", removedVersion: "7" },
      outcome: { status: "rolled-back", error: "AlarmTriggered" },
    });
    expect(aliasUpdateSent()).toEqual(liveAliasUpdate("6", "r1"));
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({
      Prefix: `${recordKey.slice(0, -".json".length)}.amended-`,
    });
    const [first, amendment] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({ Key: recordKey, IfNoneMatch: "*" });
    expect(amendment).toMatchObject({
      Key: `${recordKey.slice(0, -".json".length)}.amended-${iso(NOW).replace(/[:.]/g, "-")}.json`,
      IfNoneMatch: "*",
    });
    expect(sentJson(amendment?.Body)).toMatchObject({
      amends: recordKey,
      outcome: { status: "rolled-back", error: "AlarmTriggered" },
      rollback: { restoredVersion: "6" },
    });
  });
  it.each(["RUNNING", "PENDING_REDRIVE"])(
    "skips an execution whose status is %s (not an end the rule sends), without any AWS call",
    async (status) => {
      const result = await reconcile(statusChange(status), context);
      expect(result).toEqual({ skipped: status });
      for (const mock of [s3, sfn, lambda]) expect(mock.calls()).toHaveLength(0);
    },
  );

  it("names an execution that FAILED without an error or cause ExecutionFailed in the cause", async () => {
    const result = await reconcile(statusChange("FAILED"), context);
    expect(result).toMatchObject({
      outcome: {
        status: "rolled-back",
        error: "DeploymentFailed",
        cause:
          "ExecutionFailed: the execution ended FAILED without running its failure path; " +
          "rolled back to version 6",
      },
    });
  });

  it("skips a SUCCEEDED event whose output is not JSON, without any AWS call", async () => {
    const result = await reconcile(
      { detail: { executionArn: EXECUTION.id, status: "SUCCEEDED", output: "{not json" } },
      context,
    );
    expect(result).toEqual({ skipped: "SUCCEEDED" });
    for (const mock of [s3, sfn, lambda]) expect(mock.calls()).toHaveLength(0);
  });

  it("raises the RollbackFailed metric when the rollback of an ABORTED rollout fails, and still records it and releases the lock", async () => {
    lambda.on(UpdateAliasCommand).rejects(
      Object.assign(new Error("not authorized"), {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    // A handler built here from awsDeps(): its ports (SDK clients, clock, history reader) are
    // made inside the test, so the wiring is what this test exercises.
    const fresh = createHandler(awsDeps());
    let result: unknown;
    const emf = await emfWrittenBy(async () => {
      result = await fresh(statusChange("ABORTED"), context);
    });
    expect(result).toMatchObject({
      rollbackError: expect.stringContaining("AccessDeniedException: not authorized"),
      outcome: { status: "failed", error: "RollbackFailed", lockReleased: true },
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(sentJson(put?.Body)).toMatchObject({
      outcome: { status: "failed", error: "RollbackFailed" },
      finishedAt: iso(NOW),
    });
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ RollbackFailed: 1, Service: "hello-service", Stage: "prod" });
  });
});
