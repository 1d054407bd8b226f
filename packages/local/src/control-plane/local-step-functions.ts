import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { ExecutionStatus, WorkflowCallbacks } from "@gantry/core";
import { TaskTokenError, type TaskTokenRegistry } from "../engine/task-tokens.ts";
import { Quarantine, sweepTempFiles } from "../storage/durable-file.ts";
import { executionArn, parseExecutionArn, validateExecutionName } from "./arns.ts";
import { SfnApiError } from "./errors.ts";
import { parseExecutionInput } from "./execution-input.ts";
import { listExecutionsFilters, sameJson, stopDetails, withoutData } from "./execution-requests.ts";
import { ExecutionRun, type ExecutionRunContext } from "./execution-run.ts";
import {
  type ExecutionRecord,
  ExecutionStore,
  type ExecutionSummary,
  type ReconcileIntent,
} from "./execution-store.ts";
import { type HistoryEvent, LOCAL_ROLE_ARN } from "./history.ts";
import {
  type HostedStateMachine,
  HostedStateMachines,
  type StateMachineSpec,
} from "./hosted-state-machines.ts";
import { pageOf, validateMaxResults } from "./paging.ts";
import { type AbandonedHandler, describeError, ExecutionReconciler } from "./recovery.ts";
import { DEFAULT_RETENTION, expiredExecutions, type RetentionPolicy } from "./retention.ts";
import type { Tag } from "./tags.ts";
import { TaskCallRouter } from "./task-calls.ts";

export interface LocalStepFunctionsOptions {
  /** Where executions and histories live (`.gantry/sfn`). */
  readonly dir: string;
  readonly stateMachines: readonly StateMachineSpec[];
  readonly tokens: TaskTokenRegistry;
  readonly timeScale?: number;
  readonly onAbandoned?: AbandonedHandler;
  /** Where damaged files are moved (the world's, so the console lists them all in one place). */
  readonly quarantine?: Quarantine;
  /** How long finished executions are kept (default: 90 days, 1,000 per state machine). */
  readonly retention?: RetentionPolicy;
  /** Where the Step Functions reports what went wrong outside any execution (default: stderr). */
  readonly log?: (line: string) => void;
}

/** What subscribers (the console's live view) receive. */
export interface ExecutionEvent {
  readonly executionArn: string;
  readonly stateMachineName: string;
  readonly event: HistoryEvent;
  readonly status: ExecutionStatus;
}

/** How often retention runs besides at start and after each execution ends. */
const RETENTION_INTERVAL_MS = 3_600_000;

export { MAX_HISTORY_EVENTS } from "./execution-run.ts";
export type { StateMachineSpec } from "./hosted-state-machines.ts";
export { type AbandonedHandler, RESTART_ERROR } from "./recovery.ts";

/**
 * Step Functions, locally: hosts state machines, runs executions on the local engine, keeps
 * executions and their histories on disk, and answers the API's questions. The HTTP layer
 * (sfn-http.ts) only translates requests to these methods. It stands in for one AWS service, as
 * `LocalFunctions`, `LocalBuckets` and `LocalAlarms` (the local world) stand in for theirs; the
 * local control plane (`startLocalControlPlane`) runs them together.
 */
export class LocalStepFunctions implements WorkflowCallbacks {
  readonly #machines: HostedStateMachines;
  /** Every execution kept, as a summary: input, output and history are read from disk on demand. */
  readonly #executions = new Map<string, ExecutionSummary>();
  /** The executions running in this process (execution-run.ts). */
  readonly #live = new Map<string, ExecutionRun>();
  /** Ends the executions that need cleanup, crash-safely (recovery.ts). */
  readonly #reconciler: ExecutionReconciler;
  readonly #store: ExecutionStore;
  readonly #tokens: TaskTokenRegistry;
  readonly #retention: RetentionPolicy;
  readonly #log: (line: string) => void;
  readonly #listeners = new Set<(event: ExecutionEvent) => void>();
  /** Which execution a Task's function call belongs to (the engine's handlers are shared). */
  readonly #calls = new TaskCallRouter();
  #retentionTimer: NodeJS.Timeout | undefined;

  private constructor(options: LocalStepFunctionsOptions) {
    this.#log = options.log ?? ((line) => console.error(line));
    // Temporary files of writes a crash cut short: never read, removed before anything writes.
    sweepTempFiles(options.dir);
    // Damaged files are moved aside and reported, never silently dropped: with no quarantine
    // given (tests), one of its own under the data directory.
    const quarantine = options.quarantine ?? new Quarantine(options.dir, this.#log);
    this.#store = new ExecutionStore(join(options.dir, "executions"), quarantine, this.#log);
    this.#tokens = options.tokens;
    this.#reconciler = new ExecutionReconciler({
      store: this.#store,
      onAbandoned: options.onAbandoned,
      log: this.#log,
      append: (record, event) => this.#append(record, event),
      ended: (record) => {
        this.#executions.set(record.executionArn, summaryOf(record));
        this.#live.delete(record.executionArn);
        this.#applyRetention();
      },
    });
    this.#retention = options.retention ?? DEFAULT_RETENTION;
    this.#machines = new HostedStateMachines({
      dir: join(options.dir, "state-machines"),
      specs: options.stateMachines,
      tokens: options.tokens,
      ...(options.timeScale ? { timeScale: options.timeScale } : {}),
      quarantine,
      calls: this.#calls,
    });
  }

  /**
   * Opens the local Step Functions on its data directory. An execution that had not ended when
   * the last control plane stopped is cleaned up now: one that was running fails with
   * ControlPlaneRestarted, one whose cleanup had started (stopped, failed) finishes it. Each is
   * marked terminal only once its cleanup ran; a cleanup that fails leaves it RUNNING, retried at
   * the next start. Then retention deletes the finished executions it no longer keeps.
   */
  static async open(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
    const stepFunctions = new LocalStepFunctions(options);
    const unfinished: { record: ExecutionRecord; intent?: ReconcileIntent }[] = [];
    for (const stored of stepFunctions.#store.loadAll()) {
      stepFunctions.#executions.set(stored.record.executionArn, summaryOf(stored.record));
      if (stored.record.status === "RUNNING") unfinished.push(stored);
    }
    for (const { record, intent } of unfinished)
      await stepFunctions.#reconciler.recover(record, intent);
    stepFunctions.#applyRetention();
    stepFunctions.#retentionTimer = setInterval(
      () => stepFunctions.#applyRetention(),
      RETENTION_INTERVAL_MS,
    ).unref();
    return stepFunctions;
  }

  // ---- state machines -------------------------------------------------------------------

  listStateMachines() {
    return this.#machines.all().map((m) => ({
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
    const machine = this.#machines.byArn(arn);
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
    this.#machines.tag(request.resourceArn, request.tags);
  }

  untagResource(request: { resourceArn?: unknown; tagKeys?: unknown }): void {
    this.#machines.untag(request.resourceArn, request.tagKeys);
  }

  listTagsForResource(request: { resourceArn?: unknown }): Tag[] {
    return this.#machines.tagsOf(request.resourceArn);
  }

  // ---- executions -----------------------------------------------------------------------

  startExecution(request: { stateMachineArn?: unknown; name?: unknown; input?: unknown }) {
    const machine = this.#machines.byArn(request.stateMachineArn);
    const name = request.name === undefined ? randomUUID() : validateExecutionName(request.name);
    const inputText = request.input === undefined ? "{}" : request.input;
    // Everything that can refuse the input runs before anything is stored.
    const input = parseExecutionInput(inputText);
    const text = inputText as string;

    const arn = executionArn(machine.spec.name, name);
    const existing = this.#executions.get(arn);
    if (existing) {
      // Step Functions' idempotency: the same name and input while the first is still open.
      if (existing.status === "RUNNING" && sameJson(this.#execution(arn).input, text)) {
        return { executionArn: arn, startDate: existing.startDate };
      }
      throw new SfnApiError("ExecutionAlreadyExists", `Execution Already Exists: '${arn}'`);
    }
    // A directory left without a readable record still holds a history: never append to it.
    if (this.#store.exists(machine.spec.name, name))
      throw new SfnApiError("ExecutionAlreadyExists", `Execution Already Exists: '${arn}'`);

    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: machine.arn,
      stateMachineName: machine.spec.name,
      name,
      status: "RUNNING",
      startDate: Date.now(),
      input: text,
    };
    this.#store.save(record);
    this.#executions.set(arn, record);
    this.#run(machine, record, input);
    return { executionArn: arn, startDate: record.startDate };
  }

  /** DescribeExecution: the summary kept in memory, with input and output read from disk. */
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
    const { status, redrive } = listExecutionsFilters(request);
    const machine = this.#machines.byArn(request.stateMachineArn);
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
    return { executions: items.map((e) => this.#lazy(e)), ...(nextToken ? { nextToken } : {}) };
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

  /**
   * StopExecution: the execution stops, its cleanup runs, and only then is it ABORTED. Until the
   * cleanup has run (it may fail, and is then retried at the next start) DescribeExecution says
   * RUNNING, as AWS does while an execution is stopping: the deployment still holds its lock and
   * may still route traffic to the new version, so nothing may treat it as over.
   */
  async stopExecution(request: { executionArn?: unknown; error?: unknown; cause?: unknown }) {
    const record = this.#execution(request.executionArn);
    const live = this.#live.get(record.executionArn);
    if (!live || record.status !== "RUNNING") return { stopDate: record.stopDate ?? Date.now() };
    live.stop(stopDetails(request));
    await live.finished;
    return { stopDate: this.#executions.get(record.executionArn)?.stopDate ?? Date.now() };
  }

  /** Resolves when every cleanup of an abandoned execution has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#reconciler.settled();
  }

  /** Stops every running execution, as an operator would, and waits for their cleanup. */
  async shutdown(cause = "the local control plane shut down"): Promise<void> {
    clearInterval(this.#retentionTimer);
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

  /** Runs a stored execution on its state machine's engine (execution-run.ts). */
  #run(machine: HostedStateMachine, record: ExecutionRecord, input: unknown): void {
    const context: ExecutionRunContext = {
      machine,
      calls: this.#calls,
      store: this.#store,
      reconciler: this.#reconciler,
      log: this.#log,
      append: (summary, event) => this.#append(summary, event),
      succeeded: (ended) => {
        this.#executions.set(ended.executionArn, summaryOf(ended));
        this.#applyRetention();
      },
      released: (ended) => this.#live.delete(ended.executionArn),
    };
    const run = new ExecutionRun(context, record, input);
    this.#live.set(record.executionArn, run);
    run.start();
  }

  #append(record: ExecutionSummary, event: HistoryEvent): void {
    this.#store.appendHistory(record, event);
    for (const listener of this.#listeners) {
      try {
        listener({
          executionArn: record.executionArn,
          stateMachineName: record.stateMachineName,
          event,
          status: record.status,
        });
      } catch (error) {
        this.#log(`gantry: a history listener failed: ${describeError(error)}`);
      }
    }
  }

  /** Deletes the finished executions retention no longer keeps (never a running one). */
  #applyRetention(): void {
    const expired = expiredExecutions(
      this.#executions.values(),
      this.#retention,
      Date.now(),
      (e) => this.#reconciler.isPending(e.executionArn) || this.#live.has(e.executionArn),
    );
    for (const execution of expired) {
      try {
        this.#store.remove(execution);
        this.#executions.delete(execution.executionArn);
      } catch (error) {
        this.#log(`gantry: could not delete ${execution.executionArn}: ${describeError(error)}`);
      }
    }
  }

  /** A record whose input and output are read from disk when first asked for. */
  #lazy(summary: ExecutionSummary): ExecutionRecord {
    const live = this.#live.get(summary.executionArn);
    if (live) return live.record;
    let full: ExecutionRecord | undefined;
    const load = () => {
      full ??= this.#store.load(summary) ?? { ...summary, input: "{}" };
      return full;
    };
    return Object.defineProperties(
      { ...summary },
      {
        input: { enumerable: true, get: () => load().input },
        output: { enumerable: true, get: () => load().output },
      },
    ) as ExecutionRecord;
  }

  #tokenCall(call: () => void): void {
    try {
      call();
    } catch (error) {
      if (error instanceof TaskTokenError) throw new SfnApiError(error.name, error.message);
      throw error;
    }
  }

  #execution(arn: unknown): ExecutionRecord {
    parseExecutionArn(arn);
    const summary = this.#executions.get(arn as string);
    if (!summary)
      throw new SfnApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${String(arn)}'`);
    return this.#lazy(summary);
  }
}

/** What stays in memory of an execution: no input, no output. */
export function summaryOf(record: ExecutionSummary): ExecutionSummary {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    stateMachineName: record.stateMachineName,
    name: record.name,
    status: record.status,
    startDate: record.startDate,
    ...(record.stopDate !== undefined ? { stopDate: record.stopDate } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
  };
}
