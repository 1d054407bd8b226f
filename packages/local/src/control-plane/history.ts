import { randomUUID } from "node:crypto";
import type { EngineEvent } from "../engine/workflow-engine.ts";

/**
 * Turns aws-local-stepfunctions' events into Step Functions history events (the shape
 * GetExecutionHistory returns and the console draws), numbered from 1 with previousEventId.
 *
 * Task states show as AWS shows them: `TaskStateEntered`, then `LambdaFunctionScheduled` /
 * `Started` / `Succeeded` or `Failed` for a Lambda ARN resource, or `TaskScheduled` / `Started` /
 * `Succeeded` / `Failed` / `TimedOut` for a `.waitForTaskToken` integration, then
 * `TaskStateExited`. A retry shows as the function being scheduled again. The approval Task's
 * parameters are never recorded: they carry the task token.
 *
 * What only the function call knows comes from the Task wrapper ({@link HistoryRecorder.taskInvoked}):
 * the input the function was given (LambdaFunctionScheduled's `input`), what a callback Task's
 * function returned (TaskSubmitted's `output`, the Invoke response) and the error a function
 * threw (LambdaFunctionFailed's `cause`, Lambda's error JSON). The engine's events are read
 * after the fact, so a Task's scheduling is written when both its StateEntered has been read
 * and its function has been called. (One function call at a time per execution: the
 * workflow has no Parallel or Map state.)
 */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Milliseconds since the epoch (the API layer converts to AWS's epoch seconds). */
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

/** One call of a Task's function, as the Task wrapper saw it. */
export interface TaskInvocation {
  readonly input: unknown;
  outcome?:
    | { readonly ok: true; readonly output: unknown }
    | { readonly ok: false; readonly error: unknown };
}

/** The role the local state machines run as (DescribeStateMachine, ExecutionStarted). */
export const LOCAL_ROLE_ARN = "arn:aws:iam::000000000000:role/gantry-local";

/** What the recorder needs to know about each state of the definition. */
export interface StateInfo {
  readonly type: string;
  /** For Task states: the Lambda ARN, or the integration (e.g. invoke.waitForTaskToken). */
  readonly resource?: string;
  readonly functionArn?: string;
  readonly timeoutSeconds?: number;
}

const TYPE_PREFIX: Record<string, string> = {
  Task: "Task",
  Pass: "Pass",
  Wait: "Wait",
  Choice: "Choice",
  Succeed: "Succeed",
  Fail: "Fail",
  Parallel: "Parallel",
  Map: "Map",
};

export class HistoryRecorder {
  readonly #states: ReadonlyMap<string, StateInfo>;
  readonly #emit: (event: HistoryEvent) => void;
  #nextId: number;
  #previous: number;
  /**
   * What each Task's function returned, queued per state by the Task wrapper. Events are read
   * after the fact, so a loop's next result may already be queued when an exit is recorded.
   */
  readonly #taskResults = new Map<string, unknown[]>();
  /** States whose failure was caught: their exit carries no function result. */
  readonly #caught = new Set<string>();
  /** Function calls not yet written, per function ARN, in call order. */
  readonly #invocations = new Map<string, TaskInvocation[]>();
  /** A Task entered (or retried) whose function call has not been written yet. */
  #awaiting:
    | { readonly state: string; readonly info: StateInfo | undefined; readonly at: number }
    | undefined;
  /** A callback Task whose function has been called but whose TaskSubmitted is not written. */
  #submitting: { readonly info: StateInfo | undefined; readonly call: TaskInvocation } | undefined;
  /** Each Task state's latest function call (for its failure's cause). */
  readonly #lastCall = new Map<string, TaskInvocation>();
  #closed = false;

  constructor(
    states: ReadonlyMap<string, StateInfo>,
    emit: (event: HistoryEvent) => void,
    lastId = 0,
  ) {
    this.#states = states;
    this.#emit = emit;
    this.#nextId = lastId + 1;
    this.#previous = lastId;
  }

  /** The id of the last event written (0 before the first). */
  get lastEventId(): number {
    return this.#previous;
  }

  /** Called by the Task wrapper with what the function returned (before the engine's ResultPath). */
  taskResult(stateName: string, result: unknown): void {
    const queue = this.#taskResults.get(stateName) ?? [];
    queue.push(result);
    this.#taskResults.set(stateName, queue);
  }

  /** Called by the Task wrapper as a function is called; returns the call to settle. */
  taskInvoked(functionArn: string, input: unknown): TaskInvocation {
    const call: TaskInvocation = { input };
    const queue = this.#invocations.get(functionArn) ?? [];
    queue.push(call);
    this.#invocations.set(functionArn, queue);
    this.#flush();
    return call;
  }

  /** Called by the Task wrapper when the function returned or threw. */
  taskSettled(call: TaskInvocation, outcome: NonNullable<TaskInvocation["outcome"]>): void {
    call.outcome = outcome;
    this.#flush();
  }

  /** No more events are written (the execution hit a hard limit). */
  close(): void {
    this.#closed = true;
  }

  /** Appends the history events for one engine event. */
  record(event: EngineEvent): void {
    const at = event.timestamp;
    switch (event.type) {
      case "ExecutionStarted":
        this.#add(at, "ExecutionStarted", {
          executionStartedEventDetails: {
            input: json(event.input),
            inputDetails: { truncated: false },
            roleArn: LOCAL_ROLE_ARN,
          },
        });
        return;
      case "ExecutionSucceeded":
        this.#add(at, "ExecutionSucceeded", {
          executionSucceededEventDetails: {
            output: json(event.output),
            outputDetails: { truncated: false },
          },
        });
        return;
      case "ExecutionFailed":
        this.#add(at, "ExecutionFailed", {
          executionFailedEventDetails: { error: event.Error, cause: text(event.Cause) },
        });
        return;
      case "ExecutionAborted":
        this.#add(at, "ExecutionAborted", { executionAbortedEventDetails: {} });
        return;
      case "ExecutionTimeout":
        this.#add(at, "ExecutionTimedOut", { executionTimedOutEventDetails: {} });
        return;
      case "StateEntered": {
        const info = this.#states.get(event.state.name);
        const prefix = TYPE_PREFIX[event.state.type] ?? event.state.type;
        this.#add(at, `${prefix}StateEntered`, {
          stateEnteredEventDetails: {
            name: event.state.name,
            input: json(event.state.input),
            inputDetails: { truncated: false },
          },
        });
        if (event.state.type === "Task") this.#expectCall(event.state.name, info, at);
        return;
      }
      case "StateRetried":
        this.#settleScheduling();
        this.#expectCall(event.state.name, this.#states.get(event.state.name), at);
        return;
      case "StateFailed": {
        if (event.state.type !== "Task") return; // Fail states: ExecutionFailed follows
        this.#settleScheduling();
        const info = this.#states.get(event.state.name);
        const details = {
          error: event.Error,
          cause: lambdaCause(event.Error, event.Cause, this.#lastCall.get(event.state.name)),
        };
        if (isCallback(info)) {
          if (event.Error === "States.Timeout")
            this.#add(at, "TaskTimedOut", {
              taskTimedOutEventDetails: {
                resourceType: "lambda",
                resource: resourceName(info),
                ...details,
              },
            });
          else
            this.#add(at, "TaskFailed", {
              taskFailedEventDetails: {
                resourceType: "lambda",
                resource: resourceName(info),
                ...details,
              },
            });
        } else if (event.Error === "States.Timeout") {
          this.#add(at, "LambdaFunctionTimedOut", { lambdaFunctionTimedOutEventDetails: details });
        } else {
          this.#add(at, "LambdaFunctionFailed", { lambdaFunctionFailedEventDetails: details });
        }
        return;
      }
      case "StateCaught":
        // Step Functions records the catch as the state's exit with the new output.
        this.#caught.add(event.state.name);
        return;
      case "StateExited": {
        this.#settleScheduling();
        const info = this.#states.get(event.state.name);
        const caught = this.#caught.delete(event.state.name);
        const queued = this.#taskResults.get(event.state.name);
        if (event.state.type === "Task" && !caught && queued && queued.length > 0) {
          const output = json(queued.shift());
          if (isCallback(info)) {
            this.#add(at, "TaskSucceeded", {
              taskSucceededEventDetails: {
                resourceType: "lambda",
                resource: resourceName(info),
                output,
                outputDetails: { truncated: false },
              },
            });
          } else {
            this.#add(at, "LambdaFunctionSucceeded", {
              lambdaFunctionSucceededEventDetails: { output, outputDetails: { truncated: false } },
            });
          }
        }
        const prefix = TYPE_PREFIX[event.state.type] ?? event.state.type;
        this.#add(at, `${prefix}StateExited`, {
          stateExitedEventDetails: {
            name: event.state.name,
            output: json(event.state.output),
            outputDetails: { truncated: false },
          },
        });
        return;
      }
      default:
        return; // Map and Parallel events: the workflow has none
    }
  }

  /** Adds an event that does not come from the engine (a stop, a restart). */
  add(timestamp: number, type: string, details: Record<string, unknown>): HistoryEvent {
    return this.#add(timestamp, type, details);
  }

  get lastId(): number {
    return this.#previous;
  }

  /** A Task was entered or retried: its scheduling is written once its function is called. */
  #expectCall(state: string, info: StateInfo | undefined, at: number): void {
    this.#settleScheduling();
    this.#awaiting = { state, info, at };
    this.#flush();
  }

  /**
   * Before a Task's outcome is written: a Task that failed before its function was called (a
   * Parameters error, a stop) shows no scheduling, as in AWS.
   */
  #settleScheduling(): void {
    this.#flush();
    this.#awaiting = undefined;
  }

  /** Writes what can be written: a pending Task's scheduling, a callback Task's submission. */
  #flush(): void {
    if (this.#closed) return;
    const awaiting = this.#awaiting;
    const functionArn = awaiting?.info?.functionArn;
    if (awaiting && functionArn) {
      const call = this.#invocations.get(functionArn)?.shift();
      if (call) {
        this.#awaiting = undefined;
        this.#lastCall.set(awaiting.state, call);
        this.#scheduled(awaiting.at, awaiting.info, call);
      }
    }
    const submitting = this.#submitting;
    if (submitting?.call.outcome) {
      this.#submitting = undefined;
      if (submitting.call.outcome.ok) {
        this.#add(Date.now(), "TaskSubmitted", {
          taskSubmittedEventDetails: {
            resourceType: "lambda",
            resource: resourceName(submitting.info),
            output: JSON.stringify(invokeResponse(submitting.call.outcome.output)),
            outputDetails: { truncated: false },
          },
        });
      }
    }
  }

  #scheduled(at: number, info: StateInfo | undefined, call: TaskInvocation): void {
    if (isCallback(info)) {
      this.#add(at, "TaskScheduled", {
        taskScheduledEventDetails: {
          resourceType: "lambda",
          resource: resourceName(info),
          region: "us-east-1",
          // The real parameters carry the task token: only the function is shown.
          parameters: JSON.stringify({
            FunctionName: info?.functionArn,
            Payload: "(omitted: carries the task token)",
          }),
          ...(info?.timeoutSeconds ? { timeoutInSeconds: info.timeoutSeconds } : {}),
        },
      });
      this.#add(at, "TaskStarted", {
        taskStartedEventDetails: { resourceType: "lambda", resource: resourceName(info) },
      });
      this.#submitting = { info, call };
    } else {
      this.#add(at, "LambdaFunctionScheduled", {
        lambdaFunctionScheduledEventDetails: {
          resource: info?.resource,
          input: json(call.input),
          inputDetails: { truncated: false },
          ...(info?.timeoutSeconds ? { timeoutInSeconds: info.timeoutSeconds } : {}),
        },
      });
      this.#add(at, "LambdaFunctionStarted", {});
    }
  }

  #add(timestamp: number, type: string, details: Record<string, unknown>): HistoryEvent {
    const event: HistoryEvent = {
      id: this.#nextId,
      previousEventId: this.#previous,
      timestamp,
      type,
      ...details,
    };
    this.#previous = this.#nextId;
    this.#nextId++;
    this.#emit(event);
    return event;
  }
}

function isCallback(info: StateInfo | undefined): boolean {
  return info?.resource?.endsWith(".waitForTaskToken") ?? false;
}

function resourceName(info: StateInfo | undefined): string {
  return info?.resource?.replace("arn:aws:states:::lambda:", "") ?? "invoke";
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value ?? "");
}

/**
 * A Lambda function's failure as Step Functions records it: the cause is Lambda's error JSON
 * (`errorMessage`, `errorType`, `stackTrace`). Errors the function did not throw (a timeout, the
 * execution stopping) keep the engine's cause.
 */
export function lambdaCause(
  error: string,
  cause: unknown,
  call: TaskInvocation | undefined,
): string {
  const thrown = call?.outcome && !call.outcome.ok ? call.outcome.error : undefined;
  if (!(thrown instanceof Error) || thrown.name !== error) return text(cause);
  const stackTrace = (thrown.stack ?? "")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ""))
    .filter((line) => line !== "");
  return JSON.stringify({ errorMessage: thrown.message, errorType: thrown.name, stackTrace });
}

/** What Lambda's Invoke API returned, as a callback Task's TaskSubmitted output shows it. */
function invokeResponse(payload: unknown) {
  const requestId = randomUUID();
  return {
    ExecutedVersion: "$LATEST",
    Payload: payload ?? null,
    SdkHttpMetadata: {
      AllHttpHeaders: {
        "X-Amz-Executed-Version": ["$LATEST"],
        "x-amzn-Remapped-Content-Length": ["0"],
        Connection: ["keep-alive"],
        "x-amzn-RequestId": [requestId],
        "Content-Type": ["application/json"],
      },
      HttpHeaders: {
        Connection: "keep-alive",
        "Content-Type": "application/json",
        "X-Amz-Executed-Version": "$LATEST",
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": requestId,
      },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

/** The per-state facts the recorder needs, read from a definition. */
export function stateInfo(definition: { States: Record<string, unknown> }): Map<string, StateInfo> {
  const map = new Map<string, StateInfo>();
  for (const [name, raw] of Object.entries(definition.States)) {
    const s = raw as {
      Type: string;
      Resource?: string;
      TimeoutSeconds?: number;
      Parameters?: { FunctionName?: string };
    };
    map.set(name, {
      type: s.Type,
      ...(s.Resource ? { resource: s.Resource } : {}),
      ...(s.Resource?.startsWith("arn:aws:states:::")
        ? { functionArn: s.Parameters?.FunctionName }
        : s.Resource
          ? { functionArn: s.Resource }
          : {}),
      ...(s.TimeoutSeconds ? { timeoutSeconds: s.TimeoutSeconds } : {}),
    });
  }
  return map;
}
