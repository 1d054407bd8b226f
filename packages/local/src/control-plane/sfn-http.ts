import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { clientGone, readLimitedBody } from "../http-body.ts";
import { logInternalError, SfnApiError } from "./errors.ts";
import type { ExecutionRecord } from "./execution-store.ts";
import type { LocalStepFunctions } from "./local-step-functions.ts";
import { validateDefinition } from "./validate-definition.ts";

/**
 * The Step Functions JSON protocol (`POST /`, `X-Amz-Target: AWSStepFunctions.<Operation>`,
 * `application/x-amz-json-1.0`), so the AWS SDK, the AWS CLI and `gantry` talk to the local
 * control plane exactly as to AWS. Requests are not authenticated: the server only listens on
 * 127.0.0.1. Timestamps go out as epoch seconds, as AWS sends them; every response carries an
 * `x-amzn-RequestId`.
 */
const MAX_BODY_BYTES = 1024 * 1024;

type Operation = (stepFunctions: LocalStepFunctions, body: Record<string, unknown>) => unknown;

const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  Object.entries({
    // The input's checks (size, JSON, nesting depth) are startExecution's (execution-input.ts).
    StartExecution: (stepFunctions, body) => stepFunctions.startExecution(body),
    DescribeExecution: (stepFunctions, body) =>
      describe(stepFunctions.describeExecution(body.executionArn)),
    ListExecutions: (stepFunctions, body) => {
      const out = stepFunctions.listExecutions(body);
      return { ...out, executions: out.executions.map(summary) };
    },
    GetExecutionHistory: (stepFunctions, body) => stepFunctions.getExecutionHistory(body),
    StopExecution: (stepFunctions, body) => stepFunctions.stopExecution(body),
    SendTaskSuccess: async (stepFunctions, body) => {
      const token = requireToken(body);
      let output: unknown;
      try {
        output = JSON.parse(String(body.output));
      } catch {
        throw new SfnApiError("InvalidOutput", "Invalid Output: the output is not valid JSON");
      }
      await stepFunctions.sendTaskSuccess(token, output);
      return {};
    },
    SendTaskFailure: async (stepFunctions, body) => {
      await stepFunctions.sendTaskFailure(
        requireToken(body),
        String(body.error ?? ""),
        String(body.cause ?? ""),
      );
      return {};
    },
    SendTaskHeartbeat: (stepFunctions, body) => {
      stepFunctions.sendTaskHeartbeat(requireToken(body));
      return {};
    },
    DescribeStateMachine: (stepFunctions, body) =>
      stepFunctions.describeStateMachine(body.stateMachineArn),
    TagResource: (stepFunctions, body) => {
      stepFunctions.tagResource(body);
      return {};
    },
    UntagResource: (stepFunctions, body) => {
      stepFunctions.untagResource(body);
      return {};
    },
    ListTagsForResource: (stepFunctions, body) => ({
      tags: stepFunctions.listTagsForResource(body),
    }),
    ValidateStateMachineDefinition: (_stepFunctions, body) => validateDefinition(body),
    DescribeStateMachineForExecution: (stepFunctions, body) => {
      const execution = stepFunctions.describeExecution(body.executionArn);
      const machine = stepFunctions.describeStateMachine(execution.stateMachineArn);
      return { ...machine, updateDate: machine.creationDate };
    },
    ListStateMachines: (stepFunctions, body) => stepFunctions.listStateMachinesPage(body),
  } satisfies Record<string, Operation>),
);

/** Answers one request if it is a Step Functions call; returns false if it is not one. */
export async function handleSfnRequest(
  stepFunctions: LocalStepFunctions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const target = req.headers["x-amz-target"];
  if (
    req.method !== "POST" ||
    typeof target !== "string" ||
    !target.startsWith("AWSStepFunctions.")
  )
    return false;
  res.setHeader("x-amzn-RequestId", randomUUID());
  try {
    // Own entries only: "constructor" or "__proto__" is not an operation.
    const operation = OPERATIONS.get(target.slice("AWSStepFunctions.".length));
    // The body is read (and, when too large, discarded) whatever the operation, so the client
    // sees the answer instead of a reset connection.
    const body = await readJsonBody(req);
    if (!operation)
      throw new SfnApiError("UnknownOperationException", `Unknown operation ${target}`);
    send(res, 200, toWire(await operation(stepFunctions, body)));
  } catch (error) {
    if (clientGone(error, res)) return true;
    if (!(error instanceof SfnApiError)) logInternalError(`Step Functions ${target}`, error);
    sendSfnError(res, error);
  }
  return true;
}

/** Sends `error` as Step Functions' JSON error (anything not an SfnApiError: InternalFailure). */
export function sendSfnError(res: ServerResponse, error: unknown): void {
  const failure =
    error instanceof SfnApiError
      ? error
      : new SfnApiError("InternalFailure", "internal error in the local control plane", 500);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader("x-amzn-errortype", failure.type);
  send(res, failure.status, { __type: failure.type, message: failure.message });
}

function requireToken(body: Record<string, unknown>): string {
  const token = body.taskToken;
  if (typeof token !== "string" || token.length === 0 || token.length > 2048) {
    throw new SfnApiError("InvalidToken", "Invalid Token: taskToken is required");
  }
  return token;
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const read = await readLimitedBody(req, MAX_BODY_BYTES);
  if (!read.ok)
    throw new SfnApiError(
      "RequestEntityTooLargeException",
      `Request entity too large: ${read.bytes} bytes or more, at most ${MAX_BODY_BYTES} accepted`,
      413,
    );
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(read.body);
  } catch {
    throw new SfnApiError("SerializationException", "The request body is not valid UTF-8");
  }
  if (text.trim() === "") return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch {
    throw new SfnApiError("SerializationException", "The request body is not a JSON object");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function describe(record: ExecutionRecord) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate,
    ...(record.stopDate !== undefined ? { stopDate: record.stopDate } : {}),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output !== undefined
      ? { output: record.output, outputDetails: { included: true } }
      : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
    // Local Step Functions does not redrive executions (RedriveExecution is not served): none is
    // redrivable, and it says why.
    redriveCount: 0,
    redriveStatus: "NOT_REDRIVABLE",
    redriveStatusReason:
      record.status === "RUNNING" || record.status === "SUCCEEDED"
        ? `Execution is ${record.status} and cannot be redriven`
        : "The local control plane does not redrive executions",
  };
}

/** ListExecutions' entries: DescribeExecution's identity and timing fields. */
function summary(record: ExecutionRecord) {
  const { executionArn, stateMachineArn, name, status, startDate, stopDate } = describe(record);
  return {
    executionArn,
    stateMachineArn,
    name,
    status,
    startDate,
    ...(stopDate !== undefined ? { stopDate } : {}),
    redriveCount: 0,
  };
}

const DATE_FIELDS = new Set(["startDate", "stopDate", "creationDate", "updateDate", "timestamp"]);

/** Epoch milliseconds inside the control plane; epoch seconds on the wire, as AWS. */
function toWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    out[key] = DATE_FIELDS.has(key) && typeof field === "number" ? field / 1000 : toWire(field);
  }
  return out;
}
