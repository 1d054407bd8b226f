import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ExecutionStatus, WorkflowCallbacks } from "@gantry/core";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { TaskTokenError, type TaskTokenRegistry } from "../engine/task-tokens.ts";
import {
  type RunningExecution,
  type TaskHandler,
  WorkflowEngine,
} from "../engine/workflow-engine.ts";
import {
  executionArn,
  isLocalArn,
  parseExecutionArn,
  parseResourceArn,
  parseStateMachineArn,
  stateMachineArn,
  validateExecutionName,
} from "./arns.ts";
import { SfnApiError } from "./errors.ts";
import { type ExecutionRecord, ExecutionStore } from "./execution-store.ts";
import {
  type HistoryEvent,
  HistoryRecorder,
  LOCAL_ROLE_ARN,
  type StateInfo,
  stateInfo,
  type TaskInvocation,
} from "./history.ts";
import { pageOf, validateMaxResults } from "./paging.ts";
import { type Tag, TagStore } from "./tags.ts";

/** One state machine the local Step Functions hosts. */
export interface StateMachineSpec {
  readonly name: string;
  readonly definition: StateMachineDefinition;
  /** The definition as text, as DescribeStateMachine returns it. */
  readonly definitionText: string;
  /** Task handlers by the function ARNs the definition names. */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
}

/**
 * Called when an execution ended without running its own failure path (stopped, or running
 * when the control plane died), with the last state document it had. The local world uses it
 * to roll the alias back and release the lock.
 */
export type AbandonedHandler = (
  stateMachine: string,
  lastState: unknown,
  error: string,
  cause: string,
) => Promise<void>;

export interface LocalStepFunctionsOptions {
  /** Where executions and histories live (`.gantry/sfn`). */
  readonly dir: string;
  readonly stateMachines: readonly StateMachineSpec[];
  readonly tokens: TaskTokenRegistry;
  readonly timeScale?: number;
  readonly onAbandoned?: AbandonedHandler;
}

/** What the Task wrapper reports about the function calls of the execution it runs in. */
interface CallObserver {
  invoked(functionArn: string, input: unknown): TaskInvocation;
  settled(call: TaskInvocation, outcome: NonNullable<TaskInvocation["outcome"]>): void;
}

/** The statuses ListExecutions filters on. */
const EXECUTION_STATUSES = [
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "TIMED_OUT",
  "ABORTED",
  "PENDING_REDRIVE",
] as const;

interface Hosted {
  readonly spec: StateMachineSpec;
  readonly arn: string;
  readonly engine: WorkflowEngine;
  readonly states: ReadonlyMap<string, StateInfo>;
  readonly creationDate: number;
}

interface Live {
  readonly run: RunningExecution;
  /** The input of the last state entered: what cleanup works from if the execution is abandoned. */
  lastState: unknown;
  readonly finished: Promise<void>;
  /** Set when the execution hit one of Step Functions' hard limits: it fails with this. */
  limit?: { readonly error: string; readonly cause: string };
}

/**
 * Step Functions' quota on one execution's history: at 25,000 events the execution fails, past
 * every Catch. The local Step Functions fails it the same way, so a policy that would hit it in AWS
 * fails here first.
 */
export const MAX_HISTORY_EVENTS = 25_000;

/** What subscribers (the console's live view) receive. */
export interface ExecutionEvent {
  readonly executionArn: string;
  readonly stateMachineName: string;
  readonly event: HistoryEvent;
  readonly status: ExecutionStatus;
}

/** Largest execution input accepted, as in AWS (256 KiB). */
const MAX_INPUT_BYTES = 262_144;

/** The error an execution running when the control plane stopped is marked with. */
export const RESTART_ERROR = "ControlPlaneRestarted";

/**
 * Step Functions, locally: hosts state machines, runs executions on the local engine, keeps
 * executions and their histories on disk, and answers the API's questions. The HTTP layer
 * (sfn-http.ts) only translates requests to these methods. It stands in for one AWS service, as
 * `LocalFunctions`, `LocalBuckets` and `LocalAlarms` (the local world) stand in for theirs; the
 * local control plane (`startLocalControlPlane`) runs them together.
 */
export class LocalStepFunctions implements WorkflowCallbacks {
  readonly #machines = new Map<string, Hosted>();
  readonly #executions = new Map<string, ExecutionRecord>();
  readonly #live = new Map<string, Live>();
  readonly #store: ExecutionStore;
  readonly #tokens: TaskTokenRegistry;
  readonly #onAbandoned: AbandonedHandler | undefined;
  readonly #listeners = new Set<(event: ExecutionEvent) => void>();
  readonly #cleanups = new Set<Promise<void>>();
  /** Which execution a Task's function call belongs to (the engine's handlers are shared). */
  readonly #calls = new AsyncLocalStorage<CallObserver>();
  readonly #tags: TagStore;

  private constructor(options: LocalStepFunctionsOptions) {
    this.#store = new ExecutionStore(join(options.dir, "executions"));
    this.#tokens = options.tokens;
    this.#onAbandoned = options.onAbandoned;
    const machinesDir = join(options.dir, "state-machines");
    mkdirSync(machinesDir, { recursive: true });
    this.#tags = new TagStore(machinesDir);
    for (const spec of options.stateMachines) {
      this.#machines.set(spec.name, {
        spec,
        arn: stateMachineArn(spec.name),
        engine: new WorkflowEngine({
          definition: spec.definition,
          handlers: this.#observed(spec.handlers),
          tokens: options.tokens,
          ...(options.timeScale ? { timeScale: options.timeScale } : {}),
        }),
        states: stateInfo(spec.definition),
        creationDate: creationDate(machinesDir, spec.name),
      });
    }
  }

  /**
   * Opens the local Step Functions on its data directory. Executions that were running when the last
   * control plane stopped are marked FAILED (ControlPlaneRestarted) and cleaned up; their
   * histories say so.
   */
  static async open(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
    const stepFunctions = new LocalStepFunctions(options);
    const interrupted: ExecutionRecord[] = [];
    for (const record of stepFunctions.#store.loadAll()) {
      stepFunctions.#executions.set(record.executionArn, record);
      if (record.status === "RUNNING") interrupted.push(record);
    }
    for (const record of interrupted) await stepFunctions.#failInterrupted(record);
    return stepFunctions;
  }

  // ---- state machines -------------------------------------------------------------------

  listStateMachines() {
    return [...this.#machines.values()].map((m) => ({
      stateMachineArn: m.arn,
      name: m.spec.name,
      type: "STANDARD",
      creationDate: m.creationDate,
    }));
  }

  /** ListStateMachines with AWS's paging (maxResults 0..1000, opaque nextToken). */
  listStateMachinesPage(request: { maxResults?: unknown; nextToken?: unknown }) {
    const all = this.listStateMachines().sort((a, b) => a.name.localeCompare(b.name));
    const { items, nextToken } = pageOf(all, request, "ListStateMachines");
    return { stateMachines: items, ...(nextToken ? { nextToken } : {}) };
  }

  describeStateMachine(arn: unknown) {
    const machine = this.#machineByArn(arn);
    return {
      stateMachineArn: machine.arn,
      name: machine.spec.name,
      status: "ACTIVE",
      definition: machine.spec.definitionText,
      roleArn: LOCAL_ROLE_ARN,
      type: "STANDARD",
      creationDate: machine.creationDate,
    };
  }

  // ---- tags (state machines; AWS tags state machines and activities, not executions) ----

  tagResource(request: { resourceArn?: unknown; tags?: unknown }): void {
    const machine = this.#taggable(request.resourceArn);
    this.#tags.add(machine.spec.name, request.tags);
  }

  untagResource(request: { resourceArn?: unknown; tagKeys?: unknown }): void {
    const machine = this.#taggable(request.resourceArn);
    this.#tags.remove(machine.spec.name, request.tagKeys);
  }

  listTagsForResource(request: { resourceArn?: unknown }): Tag[] {
    const machine = this.#taggable(request.resourceArn);
    return this.#tags.list(machine.spec.name);
  }

  // ---- executions -----------------------------------------------------------------------

  startExecution(request: { stateMachineArn?: unknown; name?: unknown; input?: unknown }) {
    const machine = this.#machineByArn(request.stateMachineArn);
    const name = request.name === undefined ? randomUUID() : validateExecutionName(request.name);
    const inputText = request.input === undefined ? "{}" : request.input;
    if (typeof inputText !== "string" || Buffer.byteLength(inputText) > MAX_INPUT_BYTES) {
      throw new SfnApiError(
        "InvalidExecutionInput",
        "Invalid State Machine Execution Input: must be a JSON string of at most 256 KiB",
      );
    }
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch {
      throw new SfnApiError(
        "InvalidExecutionInput",
        "Invalid State Machine Execution Input: the input is not valid JSON",
      );
    }

    const arn = executionArn(machine.spec.name, name);
    const existing = this.#executions.get(arn);
    if (existing) {
      // Step Functions' idempotency: the same name and input while the first is still open.
      if (existing.status === "RUNNING" && sameJson(existing.input, inputText)) {
        return { executionArn: arn, startDate: existing.startDate };
      }
      throw new SfnApiError("ExecutionAlreadyExists", `Execution Already Exists: '${arn}'`);
    }

    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: machine.arn,
      stateMachineName: machine.spec.name,
      name,
      status: "RUNNING",
      startDate: Date.now(),
      input: inputText,
    };
    this.#executions.set(arn, record);
    this.#store.save(record);
    this.#run(machine, record, input);
    return { executionArn: arn, startDate: record.startDate };
  }

  describeExecution(arn: unknown): ExecutionRecord {
    return this.#execution(arn);
  }

  listExecutions(request: {
    stateMachineArn?: unknown;
    statusFilter?: unknown;
    redriveFilter?: unknown;
    maxResults?: unknown;
    nextToken?: unknown;
  }) {
    const status = request.statusFilter;
    if (
      status !== undefined &&
      (typeof status !== "string" || !(EXECUTION_STATUSES as readonly string[]).includes(status))
    ) {
      throw new SfnApiError(
        "ValidationException",
        `1 validation error detected: Value '${String(status)}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(", ")}]`,
      );
    }
    const redrive = request.redriveFilter;
    if (redrive !== undefined && redrive !== "REDRIVEN" && redrive !== "NOT_REDRIVEN") {
      throw new SfnApiError(
        "ValidationException",
        `1 validation error detected: Value '${String(redrive)}' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]`,
      );
    }
    if (status !== undefined && redrive !== undefined)
      throw new SfnApiError(
        "ValidationException",
        "Cannot specify both statusFilter and redriveFilter",
      );
    validateMaxResults(request.maxResults);
    const machine = this.#machineByArn(request.stateMachineArn);
    const all = [...this.#executions.values()]
      .filter(
        (e) =>
          e.stateMachineName === machine.spec.name &&
          (status === undefined || e.status === status) &&
          // Nothing is ever redriven locally.
          redrive !== "REDRIVEN",
      )
      .sort((a, b) => b.startDate - a.startDate);
    const { items, nextToken } = pageOf(
      all,
      request,
      `ListExecutions:${machine.arn}:${String(status)}`,
    );
    return { executions: items, ...(nextToken ? { nextToken } : {}) };
  }

  getExecutionHistory(request: {
    executionArn?: unknown;
    maxResults?: unknown;
    nextToken?: unknown;
    reverseOrder?: unknown;
    includeExecutionData?: unknown;
  }) {
    validateMaxResults(request.maxResults);
    const record = this.#execution(request.executionArn);
    let events = this.#store.readHistory(record);
    if (request.reverseOrder === true) events = events.reverse();
    if (request.includeExecutionData === false) events = events.map(withoutData);
    const { items, nextToken } = pageOf(
      events,
      request,
      `GetExecutionHistory:${record.executionArn}:${request.reverseOrder === true}`,
    );
    return { events: items, ...(nextToken ? { nextToken } : {}) };
  }

  async stopExecution(request: { executionArn?: unknown; error?: unknown; cause?: unknown }) {
    const record = this.#execution(request.executionArn);
    const live = this.#live.get(record.executionArn);
    if (!live || record.status !== "RUNNING") return { stopDate: record.stopDate ?? Date.now() };
    const error = typeof request.error === "string" ? request.error.slice(0, 256) : undefined;
    const cause = typeof request.cause === "string" ? request.cause.slice(0, 32_768) : undefined;
    // As in AWS: without an error or cause, the execution has none (not a made-up one).
    if (error !== undefined) record.error = error;
    if (cause !== undefined) record.cause = cause;
    live.run.stop(cause ?? "stopped through StopExecution");
    await live.finished;
    return { stopDate: record.stopDate ?? Date.now() };
  }

  /** Resolves when every cleanup of an abandoned execution has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.#cleanups]);
  }

  /** Stops every running execution, as an operator would, and waits for their cleanup. */
  async shutdown(cause = "the local control plane shut down"): Promise<void> {
    const running = [...this.#live.keys()];
    await Promise.all(
      running.map((executionArn) =>
        this.stopExecution({ executionArn, error: "ControlPlaneShutdown", cause }),
      ),
    );
    await this.settled();
  }

  /** Live history events of every execution (the console's server-sent events). */
  subscribe(listener: (event: ExecutionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- task tokens (WorkflowCallbacks) ----------------------------------------------------

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    this.#tokenCall(() => this.#tokens.succeed(taskToken, output));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    this.#tokenCall(() => this.#tokens.fail(taskToken, error, cause));
  }

  sendTaskHeartbeat(taskToken: string): void {
    this.#tokenCall(() => this.#tokens.heartbeat(taskToken));
  }

  async executionStatus(arn: string): Promise<ExecutionStatus | undefined> {
    return this.#executions.get(arn)?.status;
  }

  // ---- internals --------------------------------------------------------------------------

  #run(machine: Hosted, record: ExecutionRecord, input: unknown): void {
    const recorder = new HistoryRecorder(machine.states, (event) => this.#append(record, event));
    const observer: CallObserver = {
      invoked: (functionArn, callInput) => recorder.taskInvoked(functionArn, callInput),
      settled: (call, outcome) => recorder.taskSettled(call, outcome),
    };
    // Everything the engine does for this execution runs in its context, so the shared Task
    // handlers know whose call they are making.
    const run = this.#calls.run(observer, () =>
      machine.engine.start(
        input,
        { executionArn: record.executionArn, name: record.name },
        {
          onTaskResult: (stateName, result) => recorder.taskResult(stateName, result),
        },
      ),
    );
    const live: Live = { run, lastState: input, finished: Promise.resolve() };
    const consumed = (async () => {
      for await (const event of run.events) {
        if (event.type === "StateEntered") live.lastState = event.state.input;
        if (event.type === "ExecutionAborted") continue; // recorded below with the stop's error and cause
        if (live.limit) continue; // the execution is over: its last event is written below
        // One engine event writes up to four history events; one more is ExecutionFailed.
        if (recorder.lastEventId >= MAX_HISTORY_EVENTS - 5) {
          live.limit = {
            error: "States.Runtime",
            cause: `the execution history reached the Step Functions limit of ${MAX_HISTORY_EVENTS} events`,
          };
          recorder.close();
          run.stop("history limit");
          continue;
        }
        recorder.record(event);
      }
    })();
    (live as { finished: Promise<void> }).finished = run.result.then(
      async (output) => {
        await consumed;
        this.#close(record, "SUCCEEDED", { output: JSON.stringify(output ?? null) });
      },
      async (error: Error) => {
        await consumed;
        if (error.name === "ExecutionStopped" && live.limit) {
          const { error: name, cause } = live.limit;
          recorder.add(Date.now(), "ExecutionFailed", {
            executionFailedEventDetails: { error: name, cause },
          });
          this.#close(record, "FAILED", { error: name, cause });
          await run.idle();
          this.#cleanUp(machine.spec.name, live.lastState, name, cause);
        } else if (error.name === "ExecutionStopped") {
          recorder.add(Date.now(), "ExecutionAborted", {
            executionAbortedEventDetails: {
              ...(record.error !== undefined ? { error: record.error } : {}),
              ...(record.cause !== undefined ? { cause: record.cause } : {}),
            },
          });
          this.#close(record, "ABORTED", {});
          await run.idle();
          this.#cleanUp(
            machine.spec.name,
            live.lastState,
            record.error ?? "ExecutionAborted",
            record.cause ?? "stopped",
          );
        } else {
          this.#close(record, "FAILED", { error: error.name, cause: error.message });
          // As the EventBridge rule does in AWS: a failure past every Catch (States.Runtime,
          // States.DataLimitExceeded) ran no failure path; reconcile finds nothing to do when
          // one did.
          await run.idle();
          this.#cleanUp(machine.spec.name, live.lastState, error.name, error.message);
        }
      },
    );
    this.#live.set(record.executionArn, live);
  }

  #close(record: ExecutionRecord, status: ExecutionStatus, fields: Partial<ExecutionRecord>): void {
    Object.assign(record, fields, { status, stopDate: Date.now() });
    this.#store.save(record);
    this.#live.delete(record.executionArn);
  }

  #append(record: ExecutionRecord, event: HistoryEvent): void {
    this.#store.appendHistory(record, event);
    for (const listener of this.#listeners) {
      listener({
        executionArn: record.executionArn,
        stateMachineName: record.stateMachineName,
        event,
        status: record.status,
      });
    }
  }

  async #failInterrupted(record: ExecutionRecord): Promise<void> {
    const history = this.#store.readHistory(record);
    const recorder = new HistoryRecorder(
      this.#machines.get(record.stateMachineName)?.states ?? new Map(),
      (event) => this.#store.appendHistory(record, event),
      history.at(-1)?.id ?? 0,
    );
    const cause =
      "the local control plane stopped while this execution was running; it did not resume it";
    recorder.add(Date.now(), "ExecutionFailed", {
      executionFailedEventDetails: { error: RESTART_ERROR, cause },
    });
    Object.assign(record, { status: "FAILED", stopDate: Date.now(), error: RESTART_ERROR, cause });
    this.#store.save(record);
    const lastEntered = [...history]
      .reverse()
      .find((e) => typeof e.type === "string" && e.type.endsWith("StateEntered"));
    const details = lastEntered?.stateEnteredEventDetails as { input?: string } | undefined;
    const lastState = details?.input ? JSON.parse(details.input) : JSON.parse(record.input);
    this.#cleanUp(record.stateMachineName, lastState, RESTART_ERROR, cause);
    await this.settled();
  }

  #cleanUp(stateMachine: string, lastState: unknown, error: string, cause: string): void {
    if (!this.#onAbandoned) return;
    const job = this.#onAbandoned(stateMachine, lastState, error, cause)
      .catch(() => undefined)
      .finally(() => this.#cleanups.delete(job));
    this.#cleanups.add(job);
  }

  #tokenCall(call: () => void): void {
    try {
      call();
    } catch (error) {
      if (error instanceof TaskTokenError) throw new SfnApiError(error.name, error.message);
      throw error;
    }
  }

  /**
   * The state machine an ARN names: InvalidArn if it is not a state machine ARN,
   * StateMachineDoesNotExist if it is one of another account or region (never a match by name).
   */
  #machineByArn(arn: unknown): Hosted {
    const name = parseStateMachineArn(arn);
    const machine = isLocalArn(arn as string) ? this.#machines.get(name) : undefined;
    if (!machine)
      throw new SfnApiError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${String(arn)}'`,
      );
    return machine;
  }

  /** A resource TagResource and friends accept: a hosted state machine. */
  #taggable(arn: unknown): Hosted {
    const resource = parseResourceArn(arn);
    if (resource.type !== "stateMachine")
      throw new SfnApiError(
        "InvalidArn",
        `Invalid Arn: 'Resource type not valid in this context: ${resource.type}'`,
      );
    const machine = isLocalArn(arn as string) ? this.#machines.get(resource.name) : undefined;
    if (!machine) throw new SfnApiError("ResourceNotFound", `Resource not found: '${String(arn)}'`);
    return machine;
  }

  /** The hosted handlers, reporting each call to the execution it belongs to. */
  #observed(handlers: Readonly<Record<string, TaskHandler>>): Record<string, TaskHandler> {
    const observed: Record<string, TaskHandler> = {};
    for (const [functionArn, handler] of Object.entries(handlers)) {
      observed[functionArn] = async (input) => {
        const observer = this.#calls.getStore();
        const call = observer?.invoked(functionArn, input);
        try {
          const output = await handler(input);
          if (call) observer?.settled(call, { ok: true, output });
          return output;
        } catch (error) {
          if (call) observer?.settled(call, { ok: false, error });
          throw error;
        }
      };
    }
    return observed;
  }

  #execution(arn: unknown): ExecutionRecord {
    parseExecutionArn(arn);
    const record = this.#executions.get(arn as string);
    if (!record)
      throw new SfnApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${String(arn)}'`);
    return record;
  }
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

function creationDate(dir: string, name: string): number {
  const file = join(dir, `${name}.json`);
  if (existsSync(file)) {
    try {
      return (JSON.parse(readFileSync(file, "utf8")) as { creationDate: number }).creationDate;
    } catch {
      // rewritten below
    }
  }
  const created = Date.now();
  writeFileSync(file, JSON.stringify({ name, creationDate: created }));
  return created;
}

function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(copy)) {
    if (key.endsWith("EventDetails") && typeof value === "object" && value !== null) {
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      copy[key] = rest;
    }
  }
  return copy as HistoryEvent;
}
