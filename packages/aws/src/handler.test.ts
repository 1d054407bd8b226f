import { DeploymentInProgress, MAX_ERROR_MESSAGE_LENGTH } from "@gantry/core";
import type { Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { correlationOf, createLogger, stepHandler } from "./handler.ts";

const EXECUTION = { id: "arn:aws:states:us-east-1:123456789012:execution:d:run-1", name: "run-1" };
const REQUEST = { service: "hello-service", version: "1.4.0" };
const TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAdo-secret-task-token-1234567890";

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: "gantry-prod-AcquireLock",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-AcquireLock",
  memoryLimitInMB: "256",
  awsRequestId: "req-1",
  logGroupName: "/aws/lambda/gantry-prod-AcquireLock",
  logStreamName: "2026/11/22/[$LATEST]abc",
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

describe("correlationOf", () => {
  it("reads the state document (execution, request.service, request.version)", () => {
    expect(correlationOf({ execution: EXECUTION, request: REQUEST, plan: {} })).toEqual({
      execution: "run-1",
      deployedService: "hello-service",
      version: "1.4.0",
    });
  });

  it("reads the finish event ({ state })", () => {
    expect(correlationOf({ state: { execution: EXECUTION, request: REQUEST } })).toEqual({
      execution: "run-1",
      deployedService: "hello-service",
      version: "1.4.0",
    });
  });

  it("reads the validate event ({ input, execution }) from the raw input", () => {
    expect(correlationOf({ input: REQUEST, execution: EXECUTION })).toEqual({
      execution: "run-1",
      deployedService: "hello-service",
      version: "1.4.0",
    });
  });

  it("reads the approval payload and leaves the task token out", () => {
    const keys = correlationOf({
      taskToken: TASK_TOKEN,
      request: REQUEST,
      plan: { service: "hello-service" },
      execution: EXECUTION,
    });
    expect(keys).toEqual({
      execution: "run-1",
      deployedService: "hello-service",
      version: "1.4.0",
    });
  });

  it("prefers the top-level values over nested ones", () => {
    expect(
      correlationOf({
        execution: { name: "outer" },
        request: { service: "outer-service", version: "2.0.0" },
        state: { execution: { name: "inner" }, request: { service: "inner", version: "1.0.0" } },
      }),
    ).toEqual({ execution: "outer", deployedService: "outer-service", version: "2.0.0" });
  });

  it("leaves out values that are not plain identifiers", () => {
    expect(
      correlationOf({
        execution: { name: "run 1\nINJECTED" },
        request: { service: { $ne: 1 }, version: "x".repeat(121) },
      }),
    ).toEqual({});
  });

  it.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "hello"],
    ["an empty object", {}],
  ])("returns no keys for %s", (_label, event) => {
    expect(correlationOf(event)).toEqual({});
  });
});

describe("stepHandler", () => {
  let output: string[];

  beforeEach(() => {
    output = [];
    const capture = (chunk: string | Uint8Array) => {
      output.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
      return true;
    };
    vi.spyOn(process.stdout, "write").mockImplementation(capture);
    vi.spyOn(process.stderr, "write").mockImplementation(capture);
  });

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const lines = () =>
    output
      .join("")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it("returns what the step returns", async () => {
    const handler = stepHandler(createLogger("acquire-lock"), async (event: { n: number }) => ({
      doubled: event.n * 2,
    }));
    await expect(handler({ n: 21 }, context)).resolves.toEqual({ doubled: 42 });
  });

  it("adds the correlation keys and the Lambda context to every log line of the invocation", async () => {
    const log = createLogger("acquire-lock");
    const handler = stepHandler(log, async (_event: unknown) => {
      log.info("took the lock");
    });
    await handler({ execution: EXECUTION, request: REQUEST }, context);
    expect(lines()).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: "took the lock",
        service: "gantry",
        function: "acquire-lock",
        execution: "run-1",
        deployedService: "hello-service",
        version: "1.4.0",
        function_name: "gantry-prod-AcquireLock",
        function_request_id: "req-1",
      }),
    ]);
  });

  it("does not carry one invocation's keys into the next", async () => {
    const log = createLogger("acquire-lock");
    const handler = stepHandler(log, async (_event: unknown) => {
      log.info("step");
    });
    await handler({ execution: EXECUTION, request: REQUEST }, context);
    await handler({}, context);
    const [first, second] = lines();
    expect(first).toMatchObject({ execution: "run-1" });
    expect(second).not.toHaveProperty("execution");
    expect(second).not.toHaveProperty("deployedService");
    expect(second).not.toHaveProperty("version");
  });

  it("rethrows the step's error with its name, and logs the name", async () => {
    const original = new DeploymentInProgress("hello-service (prod) is being deployed by run-0");
    const handler = stepHandler(createLogger("acquire-lock"), async (_event: unknown) => {
      throw original;
    });
    const error = await handler({ execution: EXECUTION, request: REQUEST }, context).catch(
      (e: unknown) => e,
    );
    expect(error).toBe(original);
    expect((error as Error).name).toBe("DeploymentInProgress");
    expect(lines()).toEqual([
      expect.objectContaining({
        level: "WARN",
        message: "step failed",
        errorName: "DeploymentInProgress",
        errorMessage: "hello-service (prod) is being deployed by run-0",
        execution: "run-1",
      }),
    ]);
  });

  it("bounds the error it rethrows, so Lambda's cause cannot swell the execution's state", async () => {
    const handler = stepHandler(createLogger("canary"), async (_event: unknown) => {
      throw new DeploymentInProgress("x".repeat(50_000));
    });
    const error = (await handler({}, context).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe("DeploymentInProgress");
    expect(error.message.length).toBe(MAX_ERROR_MESSAGE_LENGTH + 1);
    expect(error.stack?.length ?? 0).toBeLessThan(MAX_ERROR_MESSAGE_LENGTH + 2000);
  });

  it("never logs the event, so a task token in it does not appear in the logs", async () => {
    const log = createLogger("approval-gate");
    const handler = stepHandler(log, async (_event: unknown) => {
      log.info("approval requested");
      throw new Error("mail failed");
    });
    await handler({ taskToken: TASK_TOKEN, execution: EXECUTION, request: REQUEST }, context).catch(
      () => undefined,
    );
    expect(lines().map((l) => l.message)).toEqual(["approval requested", "step failed"]);
    expect(output.join("")).not.toContain(TASK_TOKEN);
  });

  it("never logs the event even when POWERTOOLS_LOGGER_LOG_EVENT is true", async () => {
    vi.stubEnv("POWERTOOLS_LOGGER_LOG_EVENT", "true");
    const log = createLogger("approval-gate");
    const handler = stepHandler(log, async (_event: unknown) => {
      log.info("approval requested");
    });
    await handler({ taskToken: TASK_TOKEN, execution: EXECUTION, request: REQUEST }, context);
    expect(lines().map((l) => l.message)).toEqual(["approval requested"]);
    expect(output.join("")).not.toContain(TASK_TOKEN);
  });
});
