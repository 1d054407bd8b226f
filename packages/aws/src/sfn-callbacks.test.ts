import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  InvalidArn,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  TaskDoesNotExist,
  TaskTimedOut,
} from "@aws-sdk/client-sfn";
import { TransientError } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { SfnWorkflowCallbacks } from "./sfn-callbacks.ts";

const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:gantry-deploy:run-1";
const meta = { $metadata: { httpStatusCode: 400 } };
const throttled = () =>
  new SFNServiceException({
    name: "ThrottlingException",
    message: "Rate exceeded",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });

let sfn: SFNClient;
let mock: AwsClientStub<SFNClient>;
let workflows: SfnWorkflowCallbacks;

beforeEach(() => {
  sfn = new SFNClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(sfn);
  workflows = new SfnWorkflowCallbacks(sfn);
});

describe("SfnWorkflowCallbacks.sendTaskSuccess", () => {
  it("sends the output as JSON with the token", async () => {
    mock.on(SendTaskSuccessCommand).resolves({});
    await workflows.sendTaskSuccess("token-1", { approved: true, by: "alice@example.com" });
    expect(mock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: "token-1",
      output: '{"approved":true,"by":"alice@example.com"}',
    });
  });

  it("passes an expired token through as TaskTimedOut", async () => {
    const original = new TaskTimedOut({ ...meta, message: "Task Timed Out" });
    mock.on(SendTaskSuccessCommand).rejects(original);
    await expect(workflows.sendTaskSuccess("token-1", {})).rejects.toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(SendTaskSuccessCommand).rejects(original);
    const error = await rejectionOf(workflows.sendTaskSuccess("token-1", {}));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("SfnWorkflowCallbacks.sendTaskFailure", () => {
  it("sends the error and the cause with the token", async () => {
    mock.on(SendTaskFailureCommand).resolves({});
    await workflows.sendTaskFailure("token-1", "ApprovalRejected", "rejected by bob");
    expect(mock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: "token-1",
      error: "ApprovalRejected",
      cause: "rejected by bob",
    });
  });

  it("cuts the error to 256 and the cause to 32768 characters", async () => {
    mock.on(SendTaskFailureCommand).resolves({});
    await workflows.sendTaskFailure("token-1", "E".repeat(300), "c".repeat(40_000));
    const input = mock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(input?.error).toHaveLength(256);
    expect(input?.cause).toHaveLength(32_768);
  });

  it("passes an unknown token through as TaskDoesNotExist", async () => {
    const original = new TaskDoesNotExist({ ...meta, message: "no task" });
    mock.on(SendTaskFailureCommand).rejects(original);
    await expect(workflows.sendTaskFailure("token-1", "E", "c")).rejects.toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(SendTaskFailureCommand).rejects(original);
    const error = await rejectionOf(workflows.sendTaskFailure("token-1", "E", "c"));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("SfnWorkflowCallbacks.executionStatus", () => {
  it("returns the execution's status", async () => {
    mock.on(DescribeExecutionCommand).resolves({ status: "SUCCEEDED" });
    await expect(workflows.executionStatus(EXECUTION)).resolves.toBe("SUCCEEDED");
    expect(mock.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: EXECUTION,
    });
  });

  it("returns undefined for an execution that does not exist", async () => {
    mock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ ...meta, message: "Execution Does Not Exist" }));
    await expect(workflows.executionStatus(EXECUTION)).resolves.toBeUndefined();
  });

  it("passes other errors through", async () => {
    const original = new InvalidArn({ ...meta, message: "Invalid Arn" });
    mock.on(DescribeExecutionCommand).rejects(original);
    await expect(workflows.executionStatus("not-an-arn")).rejects.toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(DescribeExecutionCommand).rejects(original);
    const error = await rejectionOf(workflows.executionStatus(EXECUTION));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});
