import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { TaskTokenRegistry } from "./task-tokens.ts";

/**
 * Runs an ASL definition locally with aws-local-stepfunctions, the way Step Functions would run
 * it in AWS, with three things the library leaves to us:
 *
 * - every Task is resolved to an in-process handler (a Task without one is a start-up error,
 *   never a silent call to real AWS);
 * - `.waitForTaskToken` Tasks get a token through `$$.Task.Token` and wait on the registry;
 * - Retry intervals follow the time scale. (Waits need nothing: the deployment ASL waits on
 *   timestamps its own steps compute from the scaled plan.)
 */

/** One event of the engine's log (ExecutionStarted, StateEntered, StateExited, ...). */
export type EngineEvent =
  ReturnType<StateMachine["run"]>["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A function the Task states call: gets the Task's input, returns its result. */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface EngineOptions {
  readonly definition: StateMachineDefinition;
  /** Handlers by function ARN, as the (substituted) definition names them. */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
  /** Multiplies Retry intervals; 1 = real time. */
  readonly timeScale?: number;
  readonly tokens?: TaskTokenRegistry;
}

export interface ExecutionContext {
  readonly executionArn: string;
  readonly name: string;
}

export interface RunningExecution {
  /** Engine events in order; one consumer. */
  readonly events: AsyncGenerator<EngineEvent>;
  /** The output on success; rejects with the error (its `name` is the Step Functions error). */
  readonly result: Promise<unknown>;
  /** Stops the execution: waits end, waiting tokens fail, running handlers may not retry. */
  stop(reason: string): void;
  /** Resolves once no Task handler of this execution is running (after a stop, before cleanup). */
  idle(): Promise<void>;
}

export interface StartOptions {
  /** Called with each Task's result before the engine applies ResultPath (for the history). */
  readonly onTaskResult?: (stateName: string, result: unknown) => void;
}

interface LocalTask {
  readonly kind: "direct" | "invoke" | "token";
  readonly handler: TaskHandler;
  /** Retry intervals in milliseconds, per retrier, already scaled. */
  readonly retry: number[];
  /** Where the (relocated) TimeoutSecondsPath reads the Task's timeout. */
  readonly timeoutPath?: string;
}

/** Step Functions' limit on a state's input, output or a task's result: 256 KiB. */
export const MAX_STATE_BYTES = 262_144;

/**
 * What Step Functions fails an execution with when a state's data passes 256 KiB: terminal,
 * past every Retry and Catch (as `States.Runtime` is), so the local plane fails where AWS would.
 */
export class StatesDataLimitExceeded extends Error {
  override readonly name = "States.DataLimitExceeded";
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(stateName: string, what: "input" | "result" | "output", bytes: number) {
    super(
      `the ${what} of state ${stateName} is ${bytes} bytes, more than the ${MAX_STATE_BYTES}-byte limit`,
    );
  }
}

function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}

/** Raised into a Task that is still running when its execution is stopped. */
export class ExecutionStopped extends Error {
  override readonly name = "ExecutionStopped";
  // Read by the engine: neither Retry nor Catch may act on it.
  readonly isRetryable = false;
  readonly isCatchable = false;
}

const WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";
const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";

interface TaskState {
  readonly Type: "Task";
  readonly Resource: string;
  readonly Parameters?: { FunctionName?: string } & Record<string, unknown>;
  readonly TimeoutSecondsPath?: string;
  readonly Retry?: readonly { IntervalSeconds?: number }[];
}

/**
 * aws-local-stepfunctions evaluates TimeoutSecondsPath against the Task's Parameters output;
 * Step Functions evaluates it against the state's input. So that the deployed definition runs
 * unchanged, the engine gets a copy in which such a path is re-rooted through the Parameters
 * template: `$.plan.x` becomes `$.Payload.plan.x` when Parameters map `Payload.plan.$` to `$.plan`.
 * A path that cannot be re-rooted is a start-up error.
 */
export function relocateTimeoutPaths(definition: StateMachineDefinition): StateMachineDefinition {
  const states: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(definition.States)) {
    const state = raw as unknown as TaskState;
    if (state.Type !== "Task" || !state.TimeoutSecondsPath) {
      states[name] = raw;
      continue;
    }
    const relocated = state.Parameters
      ? relocate(state.TimeoutSecondsPath, state.Parameters, "$")
      : undefined;
    if (!relocated)
      throw new Error(
        `${name}: TimeoutSecondsPath ${state.TimeoutSecondsPath} is not passed through its Parameters`,
      );
    states[name] = { ...state, TimeoutSecondsPath: relocated };
  }
  return { ...definition, States: states as StateMachineDefinition["States"] };
}

function relocate(path: string, template: Record<string, unknown>, at: string): string | undefined {
  for (const [key, value] of Object.entries(template)) {
    if (
      key.endsWith(".$") &&
      typeof value === "string" &&
      value.startsWith("$.") &&
      (path === value || path.startsWith(`${value}.`))
    ) {
      return `${at}.${key.slice(0, -2)}${path.slice(value.length)}`;
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const inner = relocate(path, value as Record<string, unknown>, `${at}.${key}`);
      if (inner) return inner;
    }
  }
  return undefined;
}

function readPath(value: unknown, path: string): unknown {
  return path
    .slice(2)
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
}

export class WorkflowEngine {
  readonly #machine: StateMachine;
  readonly #tasks: ReadonlyMap<string, LocalTask>;
  /** Task states without Parameters: their input is the whole state document. */
  readonly #withoutParameters: ReadonlySet<string>;
  readonly tokens: TaskTokenRegistry;

  constructor(options: EngineOptions) {
    const scale = options.timeScale ?? 1;
    this.tokens = options.tokens ?? new TaskTokenRegistry();
    const definition = relocateTimeoutPaths(options.definition);
    const tasks = new Map<string, LocalTask>();
    for (const [name, raw] of Object.entries(definition.States)) {
      if (raw.Type !== "Task") continue;
      const state = raw as unknown as TaskState;
      const kind =
        state.Resource === WAIT_FOR_TOKEN
          ? "token"
          : state.Resource === LAMBDA_INVOKE
            ? "invoke"
            : "direct";
      const arn = kind === "direct" ? state.Resource : state.Parameters?.FunctionName;
      const handler = arn ? options.handlers[arn] : undefined;
      if (!handler) {
        throw new Error(
          `Task state ${name} has no local handler for ${arn ?? state.Resource}; it would call real AWS`,
        );
      }
      const retry = (state.Retry ?? []).map((r) =>
        Math.round((r.IntervalSeconds ?? 1) * 1000 * scale),
      );
      tasks.set(name, {
        kind,
        handler,
        retry,
        ...(state.TimeoutSecondsPath ? { timeoutPath: state.TimeoutSecondsPath } : {}),
      });
    }
    this.#tasks = tasks;
    this.#withoutParameters = new Set(
      Object.entries(definition.States)
        .filter(([, raw]) => raw.Type === "Task" && !("Parameters" in raw))
        .map(([name]) => name),
    );
    // Validation costs a few hundred milliseconds: done once, here.
    this.#machine = new StateMachine(definition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  }

  /** The Task state names and their kinds, for start-up reports and tests. */
  get taskStates(): string[] {
    return [...this.#tasks.keys()];
  }

  start(input: unknown, execution: ExecutionContext, options: StartOptions = {}): RunningExecution {
    const stopped = { reason: undefined as string | undefined };
    let inFlight: Promise<unknown> = Promise.resolve();
    let pendingToken: string | undefined;
    let currentTaskState = "";
    const tokens = this.tokens;

    const guard =
      (stateName: string, run: (input: unknown) => Promise<unknown>) => async (input: unknown) => {
        if (stopped.reason) throw new ExecutionStopped(stopped.reason);
        const inputBytes = jsonBytes(input);
        if (inputBytes > MAX_STATE_BYTES)
          throw new StatesDataLimitExceeded(stateName, "input", inputBytes);
        currentTaskState = stateName;
        const attempt = run(input);
        inFlight = attempt.catch(() => undefined);
        const result = await attempt;
        if (stopped.reason) throw new ExecutionStopped(stopped.reason);
        // The result, and the state it becomes part of (a Task without Parameters gets the
        // whole state as its input, and its ResultPath adds the result to it).
        const resultBytes = jsonBytes(result);
        if (resultBytes > MAX_STATE_BYTES)
          throw new StatesDataLimitExceeded(stateName, "result", resultBytes);
        if (this.#withoutParameters.has(stateName) && inputBytes + resultBytes > MAX_STATE_BYTES)
          throw new StatesDataLimitExceeded(stateName, "output", inputBytes + resultBytes);
        options.onTaskResult?.(stateName, result);
        return result as JsonValue;
      };

    const localHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    for (const [stateName, task] of this.#tasks) {
      if (task.kind === "direct") {
        localHandlers[stateName] = guard(stateName, (input) => task.handler(input));
      } else if (task.kind === "invoke") {
        localHandlers[stateName] = guard(stateName, async (params) => ({
          Payload: (await task.handler((params as { Payload?: unknown }).Payload)) as JsonValue,
          StatusCode: 200,
        }));
      } else {
        localHandlers[stateName] = guard(stateName, async (params) => {
          const payload = (params as { Payload?: unknown }).Payload;
          const token = pendingToken;
          pendingToken = undefined;
          if (!token) throw new Error(`${stateName} did not pass $$.Task.Token to its function`);
          // When the Task's timeout passes, the engine fails it with States.Timeout; the token
          // must stop accepting decisions at that moment too (SendTaskSuccess -> TaskTimedOut).
          const timeoutSeconds = task.timeoutPath
            ? Number(readPath(params, task.timeoutPath))
            : Number.NaN;
          const timer = Number.isFinite(timeoutSeconds)
            ? setTimeout(() => tokens.expire(token), timeoutSeconds * 1000)
            : undefined;
          try {
            await task.handler(payload);
            return await tokens.wait(token);
          } finally {
            clearTimeout(timer);
            tokens.expire(token);
          }
        });
      }
    }

    // The engine starts a Task's handler before it reads the Task's TimeoutSecondsPath; when that
    // read fails (States.Runtime) the handler's promise is dropped, and its later rejection (the
    // token closed with the execution) must not end the process.
    for (const [stateName, handler] of Object.entries(localHandlers)) {
      localHandlers[stateName] = (input) => {
        const running = handler(input);
        running.catch(() => undefined);
        return running;
      };
    }

    const context = {
      Execution: { Id: execution.executionArn, Name: execution.name },
      Task: {
        // Read (possibly several times) while the Task's Parameters are evaluated; one token
        // per Task attempt, consumed by its handler.
        get Token(): string {
          pendingToken ??= tokens.issue(execution.executionArn, currentTaskState);
          return pendingToken;
        },
      },
    };

    const retryIntervalOverrides = Object.fromEntries(
      [...this.#tasks].filter(([, t]) => t.retry.length > 0).map(([name, t]) => [name, t.retry]),
    );
    const run = this.#machine.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers: localHandlers, retryIntervalOverrides },
      context,
      noThrowOnAbort: true,
    });

    return {
      events: run.eventLogs,
      result: run.result.then(
        (output) => {
          tokens.closeExecution(execution.executionArn, "the execution ended");
          if (stopped.reason) throw new ExecutionStopped(stopped.reason);
          return output;
        },
        (error: unknown) => {
          tokens.closeExecution(execution.executionArn, "the execution ended");
          throw unwrapExecutionError(error);
        },
      ),
      stop(reason: string) {
        if (stopped.reason) return;
        stopped.reason = reason;
        tokens.closeExecution(execution.executionArn, `the execution was stopped: ${reason}`);
        run.abort();
      },
      idle: () => inFlight.then(() => undefined),
    };
  }
}

/**
 * The engine wraps the failing state's error in an ExecutionError; callers want Step Functions'
 * view: the error name and cause of the execution's failure.
 */
export class ExecutionFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

function unwrapExecutionError(error: unknown): Error {
  if (error instanceof Error && error.cause instanceof Error) {
    const inner = error.cause;
    const cause = (inner as { cause?: unknown }).cause;
    return new ExecutionFailure(inner.name, typeof cause === "string" ? cause : inner.message);
  }
  return error instanceof Error ? error : new Error(String(error));
}
