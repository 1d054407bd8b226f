/**
 * The Step Functions endpoint in-process, driven with the official @aws-sdk/client-sfn: what
 * AWS documents for paging, tags, validation, foreign ARNs, StopExecution and history details.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ValidateStateMachineDefinitionCommand,
} from "@aws-sdk/client-sfn";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskTokenRegistry } from "../engine/task-tokens.ts";
import { LocalStepFunctions } from "./local-step-functions.ts";
import { handleSfnRequest } from "./sfn-http.ts";

const WORK = "arn:aws:lambda:us-east-1:000000000000:function:work";
const BOOM = "arn:aws:lambda:us-east-1:000000000000:function:boom";
const ASK = "arn:aws:lambda:us-east-1:000000000000:function:ask";

const definition = {
  StartAt: "Choose",
  States: {
    Choose: {
      Type: "Choice",
      Choices: [
        { Variable: "$.mode", StringEquals: "fail", Next: "Explode" },
        { Variable: "$.mode", StringEquals: "wait", Next: "Ask" },
      ],
      Default: "Work",
    },
    Work: {
      Type: "Task",
      Resource: WORK,
      Parameters: { "n.$": "$.n", fixed: "yes", "execution.$": "$$.Execution.Name" },
      TimeoutSeconds: 10,
      ResultPath: "$.work",
      End: true,
    },
    Explode: { Type: "Task", Resource: BOOM, TimeoutSeconds: 10, End: true },
    Ask: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: ASK, Payload: { "token.$": "$$.Task.Token" } },
      TimeoutSeconds: 30,
      End: true,
    },
  },
};

class Kaboom extends Error {
  override name = "Kaboom";
}

let dir: string;
let stepFunctions: LocalStepFunctions;
let server: Server;
let sfn: SFNClient;
let lastRequestId: string | null = null;
const tokens: string[] = [];

async function open(): Promise<LocalStepFunctions> {
  return LocalStepFunctions.open({
    dir,
    tokens: new TaskTokenRegistry(),
    stateMachines: ["alpha", "beta", "gamma"].map((name) => ({
      name,
      definition: definition as unknown as StateMachineDefinition,
      definitionText: JSON.stringify(definition),
      handlers: {
        [WORK]: async (input) => ({ doubled: ((input as { n: number }).n ?? 0) * 2 }),
        [BOOM]: async () => {
          throw new Kaboom("the function broke");
        },
        [ASK]: async (input) => {
          tokens.push((input as { token: string }).token);
          return { asked: true };
        },
      },
    })),
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-sfn-http-"));
  stepFunctions = await open();
  server = createServer((req, res) => {
    void handleSfnRequest(stepFunctions, req, res).then(() => {
      lastRequestId = res.getHeader("x-amzn-requestid") as string | null;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  sfn = new SFNClient({
    endpoint: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  await stepFunctions.shutdown();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const ARN = (name: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;

async function run(
  machine: string,
  input: object,
  name = `run-${Math.random().toString(36).slice(2)}`,
) {
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: ARN(machine),
      name,
      input: JSON.stringify(input),
    }),
  );
  return started.executionArn as string;
}

async function until(arn: string, statuses = ["SUCCEEDED", "FAILED", "ABORTED"]) {
  for (let i = 0; i < 500; i++) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (statuses.includes(out.status ?? "")) return out;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${arn} did not finish`);
}

async function history(arn: string): Promise<HistoryEvent[]> {
  return (
    (await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 })))
      .events ?? []
  );
}

describe("every response", () => {
  it("carries an x-amzn-RequestId, errors included", async () => {
    const out = await sfn.send(new ListStateMachinesCommand({}));
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const failed = await sfn
      .send(new DescribeStateMachineCommand({ stateMachineArn: ARN("nope") }))
      .catch((error: { $metadata: { requestId?: string } }) => error);
    expect((failed as { $metadata: { requestId?: string } }).$metadata.requestId).toBe(
      lastRequestId,
    );
  });
});

describe("ARNs of another account or region", () => {
  it.each([
    "arn:aws:states:eu-west-1:000000000000:stateMachine:alpha",
    "arn:aws:states:us-east-1:111111111111:stateMachine:alpha",
    "arn:aws-cn:states:us-east-1:000000000000:stateMachine:alpha",
  ])("name no state machine here: %s", async (stateMachineArn) => {
    for (const command of [
      new DescribeStateMachineCommand({ stateMachineArn }),
      new StartExecutionCommand({ stateMachineArn, input: "{}" }),
      new ListExecutionsCommand({ stateMachineArn }),
    ])
      await expect(sfn.send(command as never)).rejects.toMatchObject({
        name: "StateMachineDoesNotExist",
      });
  });

  it("name no execution here", async () => {
    const arn = await run("alpha", { mode: "work", n: 1 }, "foreign-check");
    await until(arn);
    await expect(
      sfn.send(
        new DescribeExecutionCommand({ executionArn: arn.replace("us-east-1", "us-west-2") }),
      ),
    ).rejects.toMatchObject({ name: "ExecutionDoesNotExist" });
  });
});

describe("paging and filters", () => {
  it("pages ListStateMachines, and refuses a token from another listing", async () => {
    const first = await sfn.send(new ListStateMachinesCommand({ maxResults: 2 }));
    expect(first.stateMachines?.map((m) => m.name)).toEqual(["alpha", "beta"]);
    const second = await sfn.send(
      new ListStateMachinesCommand({ maxResults: 2, nextToken: first.nextToken }),
    );
    expect(second.stateMachines?.map((m) => m.name)).toEqual(["gamma"]);
    expect(second.nextToken).toBeUndefined();
    await expect(
      sfn.send(
        new ListExecutionsCommand({ stateMachineArn: ARN("alpha"), nextToken: first.nextToken }),
      ),
    ).rejects.toMatchObject({ name: "InvalidToken" });
    await expect(
      sfn.send(new ListStateMachinesCommand({ nextToken: "not-a-token" })),
    ).rejects.toMatchObject({ name: "InvalidToken" });
  });

  it("refuses maxResults over 1000 and an unknown statusFilter with ValidationException", async () => {
    await expect(
      sfn.send(new ListStateMachinesCommand({ maxResults: 1001 })),
    ).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(
      sfn.send(new ListExecutionsCommand({ stateMachineArn: ARN("alpha"), maxResults: 5000 })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      sfn.send(
        new ListExecutionsCommand({ stateMachineArn: ARN("alpha"), statusFilter: "DONE" as never }),
      ),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("pages ListExecutions newest first, with statusFilter", async () => {
    for (let i = 0; i < 3; i++) await until(await run("beta", { mode: "work", n: i }));
    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: ARN("beta"),
        maxResults: 2,
        statusFilter: "SUCCEEDED",
      }),
    );
    expect(page.executions).toHaveLength(2);
    expect(page.executions?.[0]?.redriveCount).toBe(0);
    const rest = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: ARN("beta"),
        maxResults: 2,
        statusFilter: "SUCCEEDED",
        nextToken: page.nextToken,
      }),
    );
    expect(rest.executions).toHaveLength(1);
  });
});

describe("StopExecution and DescribeExecution", () => {
  it("leaves error and cause empty when the stop gives none, as AWS does", async () => {
    const arn = await run("alpha", { mode: "wait" });
    for (let i = 0; i < 200 && tokens.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    const described = await until(arn, ["ABORTED"]);
    expect(described.error).toBeUndefined();
    expect(described.cause).toBeUndefined();
    expect(described).toMatchObject({ redriveCount: 0, redriveStatus: "NOT_REDRIVABLE" });
    expect(described.redriveStatusReason).toBeTruthy();
    const last = (await history(arn)).at(-1);
    expect(last?.type).toBe("ExecutionAborted");
    expect(last?.executionAbortedEventDetails).toEqual({});
  });
});

describe("history details as AWS records them", () => {
  it("ExecutionStarted has the role; LambdaFunctionScheduled has the Task's effective input", async () => {
    const arn = await run("gamma", { mode: "work", n: 21, other: "not passed" }, "inputs");
    expect((await until(arn)).status).toBe("SUCCEEDED");
    const events = await history(arn);
    expect(events[0]?.executionStartedEventDetails?.roleArn).toBe(
      "arn:aws:iam::000000000000:role/gantry-local",
    );
    const scheduled = events.find((e) => e.type === "LambdaFunctionScheduled");
    expect(JSON.parse(scheduled?.lambdaFunctionScheduledEventDetails?.input ?? "null")).toEqual({
      n: 21,
      fixed: "yes",
      execution: "inputs",
    });
    expect(scheduled?.lambdaFunctionScheduledEventDetails).toMatchObject({
      resource: WORK,
      timeoutInSeconds: 10,
      inputDetails: { truncated: false },
    });
    expect(events.map((e) => e.type)).toEqual([
      "ExecutionStarted",
      "ChoiceStateEntered",
      "ChoiceStateExited",
      "TaskStateEntered",
      "LambdaFunctionScheduled",
      "LambdaFunctionStarted",
      "LambdaFunctionSucceeded",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("a function's failure cause is Lambda's error JSON", async () => {
    const arn = await run("gamma", { mode: "fail" });
    expect((await until(arn)).status).toBe("FAILED");
    const failed = (await history(arn)).find((e) => e.type === "LambdaFunctionFailed");
    expect(failed?.lambdaFunctionFailedEventDetails?.error).toBe("Kaboom");
    const cause = JSON.parse(failed?.lambdaFunctionFailedEventDetails?.cause ?? "{}");
    expect(cause).toMatchObject({ errorMessage: "the function broke", errorType: "Kaboom" });
    expect(Array.isArray(cause.stackTrace)).toBe(true);
    expect(cause.stackTrace.length).toBeGreaterThan(0);
  });

  it("TaskSubmitted has the Invoke response, with the function's result as its Payload", async () => {
    tokens.length = 0;
    const arn = await run("gamma", { mode: "wait" });
    for (let i = 0; i < 200 && tokens.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokens[0], output: '{"ok":true}' }));
    expect((await until(arn)).status).toBe("SUCCEEDED");
    const events = await history(arn);
    const types = events.map((e) => e.type);
    expect(types.slice(3, 8)).toEqual([
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskSucceeded",
    ]);
    const submitted = events.find((e) => e.type === "TaskSubmitted")?.taskSubmittedEventDetails;
    expect(JSON.parse(submitted?.output ?? "{}")).toMatchObject({
      Payload: { asked: true },
      StatusCode: 200,
      ExecutedVersion: "$LATEST",
    });
    expect(JSON.stringify(events)).not.toContain(tokens[0]);
  });
});

describe("tags", () => {
  it("tags, lists and untags a state machine, and keeps its tags across a restart", async () => {
    await sfn.send(
      new TagResourceCommand({
        resourceArn: ARN("alpha"),
        tags: [
          { key: "team", value: "platform" },
          { key: "env", value: "local" },
        ],
      }),
    );
    await sfn.send(new UntagResourceCommand({ resourceArn: ARN("alpha"), tagKeys: ["env"] }));
    const listed = await sfn.send(new ListTagsForResourceCommand({ resourceArn: ARN("alpha") }));
    expect(listed.tags).toEqual([{ key: "team", value: "platform" }]);
    const reopened = await open();
    expect(reopened.listTagsForResource({ resourceArn: ARN("alpha") })).toEqual([
      { key: "team", value: "platform" },
    ]);
  });

  it("answers as AWS for executions, unknown machines and too many tags", async () => {
    await expect(
      sfn.send(
        new ListTagsForResourceCommand({
          resourceArn: "arn:aws:states:us-east-1:000000000000:execution:alpha:x",
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidArn" });
    await expect(
      sfn.send(new ListTagsForResourceCommand({ resourceArn: ARN("nope") })),
    ).rejects.toMatchObject({ name: "ResourceNotFound" });
    await expect(
      sfn.send(
        new TagResourceCommand({
          resourceArn: ARN("beta"),
          tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: "v" })),
        }),
      ),
    ).rejects.toMatchObject({ name: "TooManyTags" });
    await expect(
      sfn.send(
        new TagResourceCommand({ resourceArn: ARN("beta"), tags: [{ key: "", value: "v" }] }),
      ),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });
});

describe("ValidateStateMachineDefinition", () => {
  const validate = (text: string, severity?: "ERROR" | "WARNING") =>
    sfn.send(
      new ValidateStateMachineDefinitionCommand({
        definition: text,
        ...(severity ? { severity } : {}),
      }),
    );

  it("says OK for a valid definition", async () => {
    expect(await validate(JSON.stringify(definition))).toMatchObject({
      result: "OK",
      diagnostics: [],
      truncated: false,
    });
  });

  it("says FAIL with diagnostics for broken ones", async () => {
    const json = await validate("{ not json");
    expect(json.result).toBe("FAIL");
    expect(json.diagnostics?.[0]?.code).toBe("INVALID_JSON_DESCRIPTION");
    const target = await validate(
      JSON.stringify({ StartAt: "A", States: { A: { Type: "Pass", Next: "Nowhere" } } }),
    );
    expect(target.result).toBe("FAIL");
    expect(target.diagnostics?.map((d) => d.code)).toContain("SCHEMA_VALIDATION_FAILED");
    const field = await validate(
      JSON.stringify({ StartAt: "A", States: { A: { Type: "Pass", End: true, Bogus: 1 } } }),
    );
    expect(field.result).toBe("FAIL");
  });

  it("warns NO_DOLLAR and PASS_RESULT_IS_STATIC, and severity ERROR leaves warnings out", async () => {
    const text = JSON.stringify({
      StartAt: "A",
      States: {
        A: { Type: "Pass", Parameters: { value: "$.input" }, Next: "B" },
        B: { Type: "Pass", Result: { "x.$": "$.y" }, End: true },
      },
    });
    const warned = await validate(text);
    expect(warned.result).toBe("OK");
    expect(warned.diagnostics?.map((d) => [d.severity, d.code])).toEqual([
      ["WARNING", "NO_DOLLAR"],
      ["WARNING", "PASS_RESULT_IS_STATIC"],
    ]);
    expect((await validate(text, "ERROR")).diagnostics).toEqual([]);
  });
});

describe("hostile requests get AWS's errors, never a reset or a 200", () => {
  function endpoint(): string {
    const address = server.address();
    return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  async function call(target: string, body: string | Uint8Array<ArrayBuffer>) {
    const response = await fetch(endpoint(), {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": `AWSStepFunctions.${target}`,
      },
      body,
    });
    return {
      status: response.status,
      type: response.headers.get("x-amzn-errortype"),
      body: (await response.json()) as { __type?: string; message?: string },
    };
  }

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "Nope"])(
    "answers AWSStepFunctions.%s with 400 UnknownOperationException",
    async (operation) => {
      const answer = await call(operation, "{}");
      expect(answer.status).toBe(400);
      expect(answer.type).toBe("UnknownOperationException");
      expect(answer.body.__type).toBe("UnknownOperationException");
    },
  );

  it("answers a 10 MB body with 413 RequestEntityTooLargeException that the SDK receives", async () => {
    const input = JSON.stringify({ pad: "x".repeat(10 * 1024 * 1024) });
    const error = await sfn
      .send(new StartExecutionCommand({ stateMachineArn: ARN("alpha"), input }))
      .then(
        () => undefined,
        (e: unknown) => e as { name: string; $metadata?: { httpStatusCode?: number } },
      );
    expect(error?.name).toBe("RequestEntityTooLargeException");
    expect(error?.$metadata?.httpStatusCode).toBe(413);
    // The same connection pool still works afterwards.
    expect((await sfn.send(new ListStateMachinesCommand({}))).stateMachines).toHaveLength(3);
  });

  it("answers a body that is not UTF-8 or not a JSON object with SerializationException", async () => {
    for (const body of [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "[1]", "null", "{"]) {
      const answer = await call("ListStateMachines", body);
      expect(answer.status).toBe(400);
      expect(answer.body.__type).toBe("SerializationException");
    }
  });

  it("refuses a nextToken it did not issue, even one shaped like its own", async () => {
    const first = await sfn.send(new ListStateMachinesCommand({ maxResults: 1 }));
    const token = String(first.nextToken);
    const forged = [
      token.replace(/^\d+/, "2"),
      `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`,
      Buffer.from(JSON.stringify({ s: "x", o: 1 })).toString("base64url"),
      "0.AAAAAAAAAAAAAAAAAAAAAAAA",
    ];
    for (const nextToken of forged) {
      await expect(
        sfn.send(new ListStateMachinesCommand({ maxResults: 1, nextToken })),
      ).rejects.toMatchObject({ name: "InvalidToken" });
    }
    const other = await call(
      "ListExecutions",
      JSON.stringify({ stateMachineArn: ARN("alpha"), nextToken: token }),
    );
    expect(other.body.__type).toBe("InvalidToken");
  });

  it.each([
    [{ maxResults: 1.5 }],
    [{ maxResults: "10" }],
    [{ maxResults: -1 }],
    [{ maxResults: 1001 }],
    [{ maxResults: true }],
    [{ statusFilter: 5 }],
    [{ statusFilter: "running" }],
    [{ statusFilter: "" }],
    [{ nextToken: 7 }],
    [{ nextToken: "" }],
  ])("refuses ListExecutions %j with ValidationException", async (fields) => {
    const answer = await call(
      "ListExecutions",
      JSON.stringify({ stateMachineArn: ARN("alpha"), ...fields }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe("ValidationException");
  });
});
