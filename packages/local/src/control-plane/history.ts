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
 */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Milliseconds since the epoch (the API layer converts to AWS's epoch seconds). */
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

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

  /** Appends the history events for one engine event. */
  record(event: EngineEvent): void {
    const at = event.timestamp;
    switch (event.type) {
      case "ExecutionStarted":
        this.#add(at, "ExecutionStarted", {
          executionStartedEventDetails: {
            input: json(event.input),
            inputDetails: { truncated: false },
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
        if (event.state.type === "Task") this.#scheduled(at, info);
        return;
      }
      case "StateRetried":
        this.#scheduled(at, this.#states.get(event.state.name));
        return;
      case "StateFailed": {
        if (event.state.type !== "Task") return; // Fail states: ExecutionFailed follows
        const info = this.#states.get(event.state.name);
        const details = { error: event.Error, cause: text(event.Cause) };
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
        return; // Map and Parallel events: the deployment workflow has none
    }
  }

  /** Adds an event that does not come from the engine (a stop, a restart). */
  add(timestamp: number, type: string, details: Record<string, unknown>): HistoryEvent {
    return this.#add(timestamp, type, details);
  }

  get lastId(): number {
    return this.#previous;
  }

  #scheduled(at: number, info: StateInfo | undefined): void {
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
      this.#add(at, "TaskSubmitted", {
        taskSubmittedEventDetails: { resourceType: "lambda", resource: resourceName(info) },
      });
    } else {
      this.#add(at, "LambdaFunctionScheduled", {
        lambdaFunctionScheduledEventDetails: {
          resource: info?.resource,
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
