/**
 * The local control plane's Step Functions endpoint, driven with the official
 * @aws-sdk/client-sfn exactly as against AWS.
 */
import { GetObjectCommand } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LOCAL_ACCOUNT_ARN,
  type LocalProcess,
  PROD_BUCKET,
  pendingApprovalToken,
  publish,
  requestFor,
  STATE_MACHINE,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitForStatus,
} from "../support/local-process.ts";

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess();
});

afterAll(async () => {
  await local?.kill("SIGTERM");
});

async function historyOf(executionArn: string) {
  const out = await local.sfn.send(
    new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
  );
  return out.events ?? [];
}

describe("state machines", () => {
  it("lists both stages' state machines with AWS-shaped ARNs", async () => {
    const out = await local.sfn.send(new ListStateMachinesCommand({}));
    expect(out.stateMachines?.map((m) => m.name).sort()).toEqual(["gantry-preprod", "gantry-prod"]);
    expect(out.stateMachines?.[0]?.stateMachineArn).toMatch(
      /^arn:aws:states:us-east-1:\d{12}:stateMachine:gantry-/,
    );
    expect(out.stateMachines?.[0]?.creationDate).toBeInstanceOf(Date);
  });

  it("describes a state machine with the deployed ASL, local function ARNs substituted", async () => {
    const out = await local.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: STATE_MACHINE.prod }),
    );
    const definition = JSON.parse(out.definition ?? "{}");
    expect(out.status).toBe("ACTIVE");
    expect(out.type).toBe("STANDARD");
    expect(definition.StartAt).toBe("ValidateInput");
    expect(definition.States.Deploy.Resource).toBe(
      "arn:aws:lambda:us-east-1:000000000000:function:gantry-prod-deploy",
    );
    expect(out.definition).not.toContain("${");
  });
});

describe("a deployment through the API", () => {
  it("starts, describes, lists and records a history with the state names the console shows", async () => {
    const built = await publish(local, "v2");
    const request = requestFor(built);
    const started = await startDeployment(local, "preprod", request);
    expect(started.executionArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:execution:gantry-preprod:hello-service-/,
    );
    expect(started.startDate).toBeInstanceOf(Date);

    const done = await waitForStatus(local, started.executionArn as string);
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.input ?? "{}")).toEqual(request);
    expect(JSON.parse(done.output ?? "{}").outcome).toMatchObject({
      status: "deployed",
      lockReleased: true,
    });
    expect(done.stopDate?.getTime()).toBeGreaterThanOrEqual(
      done.startDate?.getTime() ?? Number.POSITIVE_INFINITY,
    );

    const events = await historyOf(started.executionArn as string);
    expect(events[0]?.type).toBe("ExecutionStarted");
    expect(events.at(-1)?.type).toBe("ExecutionSucceeded");
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.every((e, i) => i === 0 || e.previousEventId === (events[i - 1]?.id ?? -1))).toBe(
      true,
    );
    const entered = events
      .filter((e) => e.type?.endsWith("StateEntered"))
      .map((e) => e.stateEnteredEventDetails?.name);
    expect(entered.slice(0, 7)).toEqual([
      "ValidateInput",
      "AcquireLock",
      "VerifyPreprod",
      "ApprovalGate",
      "VerifyApproval",
      "CopyArtifact",
      "Deploy",
    ]);
    expect(entered.slice(-2)).toEqual(["Finish", "Deployed"]);
    // Lambda tasks show as AWS shows them; the approval task as a callback task.
    expect(events.filter((e) => e.type === "LambdaFunctionSucceeded").length).toBeGreaterThan(5);
    expect(
      events.some(
        (e) =>
          e.type === "TaskScheduled" &&
          e.taskScheduledEventDetails?.resource === "invoke.waitForTaskToken",
      ),
    ).toBe(true);
    const deployExit = events.find(
      (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "Deploy",
    );
    expect(JSON.parse(deployExit?.stateExitedEventDetails?.output ?? "{}").rollout).toMatchObject({
      newVersion: "2",
      previousVersion: "1",
    });

    const reversed = await local.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: started.executionArn,
        reverseOrder: true,
        maxResults: 2,
      }),
    );
    expect(reversed.events?.map((e) => e.type)).toEqual([
      "ExecutionSucceeded",
      "SucceedStateExited",
    ]);
    expect(reversed.nextToken).toBeTruthy();
    const next = await local.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: started.executionArn,
        reverseOrder: true,
        maxResults: 2,
        nextToken: reversed.nextToken,
      }),
    );
    expect(next.events?.[0]?.id).toBe(events.length - 2);
    const lean = await local.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: started.executionArn,
        includeExecutionData: false,
      }),
    );
    expect(lean.events?.[0]?.executionStartedEventDetails?.input).toBeUndefined();

    const listed = await local.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: STATE_MACHINE.preprod,
        statusFilter: "SUCCEEDED",
      }),
    );
    expect(listed.executions?.map((e) => e.executionArn)).toContain(started.executionArn);
    const running = await local.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: STATE_MACHINE.preprod,
        statusFilter: "RUNNING",
      }),
    );
    expect(running.executions?.map((e) => e.executionArn)).not.toContain(started.executionArn);
  });

  it("treats the same name and input as the same execution while it runs, and refuses anything else", async () => {
    const { request } = await throughPreprod(local, "v1");
    const first = await startDeployment(local, "prod", request, 1);
    const again = await startDeployment(local, "prod", request, 1);
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());

    const other = { ...request, trigger: { actor: "someone-else" } };
    await expect(
      local.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: STATE_MACHINE.prod,
          name: first.executionArn?.split(":").at(-1),
          input: JSON.stringify(other),
        }),
      ),
    ).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });

    await local.sfn.send(
      new StopExecutionCommand({
        executionArn: first.executionArn,
        error: "Test",
        cause: "done with it",
      }),
    );
    await expect(startDeployment(local, "prod", request, 1)).rejects.toMatchObject({
      name: "ExecutionAlreadyExists",
    });
  });

  it("completes a waiting approval task by token and records its output, which VerifyApproval does not take for a decision", async () => {
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", request);
    const token = await pendingApprovalToken(local, started.executionArn as string);

    await local.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    const claim = {
      approved: true,
      how: "approver",
      by: "alice@example.com",
      at: new Date().toISOString(),
    };
    await local.sfn.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(claim) }),
    );
    const done = await waitForStatus(local, started.executionArn as string);

    // The API did what AWS does: the task succeeded with that output, in the history.
    const events = await historyOf(started.executionArn as string);
    const succeeded = events.find((e) => e.type === "TaskSucceeded");
    expect(JSON.parse(succeeded?.taskSucceededEventDetails?.output ?? "{}")).toEqual(claim);
    // But nobody decided: no sealed decision record, so nothing was copied or deployed.
    expect(done).toMatchObject({ status: "FAILED", error: "ApprovalNotVerified" });
    expect(events.some((e) => e.stateEnteredEventDetails?.name === "CopyArtifact")).toBe(false);
    await expect(
      local.s3.send(new GetObjectCommand({ Bucket: PROD_BUCKET, Key: request.artifact.key })),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
    // The token never shows in the history.
    expect(JSON.stringify(events)).not.toContain(token);
    // A token whose task is over: TaskTimedOut.
    await expect(
      local.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" })),
    ).rejects.toMatchObject({
      name: "TaskTimedOut",
    });
  });

  it("fails a waiting approval task by token with the caller's error", async () => {
    const { request } = await throughPreprod(local, "v4-prod-bug");
    const started = await startDeployment(local, "prod", request);
    const token = await pendingApprovalToken(local, started.executionArn as string);
    await local.sfn.send(
      new SendTaskFailureCommand({
        taskToken: token,
        error: "ApprovalRejected",
        cause: "rejected by bob@example.com",
      }),
    );
    const done = await waitForStatus(local, started.executionArn as string);

    expect(done.status).toBe("FAILED");
    expect(done.error).toBe("ApprovalRejected");
    expect(done.cause).toContain("bob@example.com");
    const events = await historyOf(started.executionArn as string);
    expect(events.find((e) => e.type === "TaskFailed")?.taskFailedEventDetails).toMatchObject({
      error: "ApprovalRejected",
    });
    expect(events.at(-1)?.type).toBe("ExecutionFailed");
  });

  it("stops a running execution: ABORTED with the caller's error and cause, lock released", async () => {
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", {
      ...request,
      trigger: { actor: "stopper" },
    });
    await pendingApprovalToken(local, started.executionArn as string);
    const stopped = await local.sfn.send(
      new StopExecutionCommand({
        executionArn: started.executionArn,
        error: "OperatorStop",
        cause: "wrong version",
      }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);

    const done = await local.sfn.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    );
    expect(done).toMatchObject({
      status: "ABORTED",
      error: "OperatorStop",
      cause: "wrong version",
    });
    const events = await historyOf(started.executionArn as string);
    expect(events.at(-1)).toMatchObject({
      type: "ExecutionAborted",
      executionAbortedEventDetails: { error: "OperatorStop", cause: "wrong version" },
    });
    // The lock is free again: the next deployment gets through AcquireLock.
    const fresh = await startDeployment(local, "prod", request);
    await pendingApprovalToken(local, fresh.executionArn as string);
    const freshEvents = await historyOf(fresh.executionArn as string);
    expect(
      freshEvents.some(
        (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "AcquireLock",
      ),
    ).toBe(true);
    await local.sfn.send(new StopExecutionCommand({ executionArn: fresh.executionArn }));
  });
});

describe("the API's error shapes", () => {
  const missing = `${LOCAL_ACCOUNT_ARN}:execution:gantry-prod:does-not-exist`;

  it.each([
    ["ExecutionDoesNotExist", () => new DescribeExecutionCommand({ executionArn: missing })],
    ["ExecutionDoesNotExist", () => new GetExecutionHistoryCommand({ executionArn: missing })],
    ["ExecutionDoesNotExist", () => new StopExecutionCommand({ executionArn: missing })],
    ["InvalidArn", () => new DescribeExecutionCommand({ executionArn: "not-an-arn" })],
    [
      "InvalidArn",
      () => new StartExecutionCommand({ stateMachineArn: "arn:aws:states:::nope", input: "{}" }),
    ],
    [
      "StateMachineDoesNotExist",
      () =>
        new StartExecutionCommand({
          stateMachineArn: `${LOCAL_ACCOUNT_ARN}:stateMachine:nope`,
          input: "{}",
        }),
    ],
    [
      "StateMachineDoesNotExist",
      () =>
        new DescribeStateMachineCommand({
          stateMachineArn: `${LOCAL_ACCOUNT_ARN}:stateMachine:nope`,
        }),
    ],
    [
      "InvalidExecutionInput",
      () => new StartExecutionCommand({ stateMachineArn: STATE_MACHINE.prod, input: "{not json" }),
    ],
    [
      "InvalidExecutionInput",
      () =>
        new StartExecutionCommand({
          stateMachineArn: STATE_MACHINE.prod,
          input: `"${"x".repeat(300_000)}"`,
        }),
    ],
    [
      "InvalidName",
      () =>
        new StartExecutionCommand({
          stateMachineArn: STATE_MACHINE.prod,
          name: "has space",
          input: "{}",
        }),
    ],
    [
      "InvalidName",
      () =>
        new StartExecutionCommand({
          stateMachineArn: STATE_MACHINE.prod,
          name: "../escape",
          input: "{}",
        }),
    ],
    [
      "InvalidToken",
      () => new SendTaskSuccessCommand({ taskToken: "AQnot-a-real-token", output: "{}" }),
    ],
    ["InvalidToken", () => new SendTaskFailureCommand({ taskToken: "AQnot-a-real-token" })],
    ["InvalidToken", () => new SendTaskHeartbeatCommand({ taskToken: "AQnot-a-real-token" })],
  ] as const)("answers %s", async (name, command) => {
    await expect(local.sfn.send(command() as never)).rejects.toMatchObject({
      name,
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("answers InvalidOutput for a decision that is not JSON", async () => {
    const { request } = await throughPreprod(local, "v1");
    const started = await local.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE.prod,
        name: `invalid-output-${Date.now()}`,
        input: JSON.stringify(request),
      }),
    );
    const token = await pendingApprovalToken(local, started.executionArn as string);
    await expect(
      local.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{oops" })),
    ).rejects.toMatchObject({
      name: "InvalidOutput",
    });
    await local.sfn.send(new StopExecutionCommand({ executionArn: started.executionArn }));
  });

  it("rejects a request for the wrong stage's input at ValidateInput, not at the API", async () => {
    const started = await local.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE.prod,
        name: `bad-input-${Date.now()}`,
        input: JSON.stringify({ service: "hello-service" }),
      }),
    );
    const done = await waitForStatus(local, started.executionArn as string);
    expect(done).toMatchObject({ status: "FAILED", error: "InvalidInput" });
    expect(done.cause).toContain("version: is required");
  });
});
