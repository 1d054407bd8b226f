import type { ExecutionStatus } from "@gantry/core";
import type { HistoryEvent } from "../../control-plane/history.ts";
import type { StateEdge, StateGraph } from "./graph-model.ts";

/**
 * What happened to each state of one execution, read from its history events one at a time:
 * the same code builds the page from the whole history and keeps a live view current from
 * the events that follow.
 *
 * A state's status is that of its last visit:
 * - `not-reached`: never entered;
 * - `running`: entered and not left, and the execution is still running;
 * - `succeeded`: left normally (a Task retried after a failure and then successful included);
 * - `caught`: left through a Catch, its last attempt having failed;
 * - `failed`: the execution ended while in it (a Fail state, or a Task whose failure was not
 *   caught, or a state the execution was stopped in).
 */
export type NodeStatus = "not-reached" | "running" | "succeeded" | "failed" | "caught";

export const NODE_STATUSES: readonly NodeStatus[] = [
  "not-reached",
  "running",
  "succeeded",
  "caught",
  "failed",
];

/** The last visit of a state, and how many there were. */
export interface StateRun {
  readonly name: string;
  readonly type: string;
  visits: number;
  status: NodeStatus;
  enteredAt?: number;
  exitedAt?: number;
  /** JSON text, as in the history. */
  input?: string;
  output?: string;
  /** The last failure of the last visit (also when a retry then succeeded). */
  error?: string;
  cause?: string;
  /** True while the last attempt of the visit has failed and nothing succeeded since. */
  lastAttemptFailed: boolean;
}

/** One line of the history, as the console lists it. */
export interface HistoryRow {
  readonly id: number;
  readonly type: string;
  readonly timestamp: number;
  /** The state the event belongs to (Lambda and Task events: the state being run). */
  readonly state?: string;
}

const FAILURE_EVENTS = new Set([
  "LambdaFunctionFailed",
  "LambdaFunctionTimedOut",
  "LambdaFunctionStartFailed",
  "LambdaFunctionScheduleFailed",
  "TaskFailed",
  "TaskTimedOut",
  "TaskStartFailed",
  "TaskSubmitFailed",
]);
const SUCCESS_EVENTS = new Set(["LambdaFunctionSucceeded", "TaskSucceeded"]);
const END_EVENTS: Record<string, ExecutionStatus> = {
  ExecutionSucceeded: "SUCCEEDED",
  ExecutionFailed: "FAILED",
  ExecutionAborted: "ABORTED",
  ExecutionTimedOut: "TIMED_OUT",
};

/**
 * Folds history events into per-state runs and the transitions taken.
 *
 * @example
 * ```ts
 * const tracker = new ExecutionTracker(graph);
 * for (const event of history) tracker.apply(event);
 * tracker.run("CheckAlarms")?.status; // "caught"
 * tracker.takenEdges(); // Set { "ValidateInput->AcquireLock:next", ... }
 * ```
 */
export class ExecutionTracker {
  readonly #graph: StateGraph;
  readonly #runs = new Map<string, StateRun>();
  readonly #taken = new Set<string>();
  readonly #edgesByPair = new Map<string, StateEdge[]>();
  readonly #groupOf = new Map<string, string>();
  #status: ExecutionStatus = "RUNNING";
  #active: string | undefined;
  #previous: string | undefined;
  #error: string | undefined;
  #cause: string | undefined;
  #lastEventId = 0;
  #startedAt: number | undefined;
  #stoppedAt: number | undefined;
  #input: string | undefined;
  #output: string | undefined;

  constructor(graph: StateGraph) {
    this.#graph = graph;
    for (const node of graph.nodes) if (node.group) this.#groupOf.set(node.name, node.group);
    for (const edge of graph.edges) {
      const key = `${edge.from}\u0000${edge.to}`;
      this.#edgesByPair.set(key, [...(this.#edgesByPair.get(key) ?? []), edge]);
    }
  }

  /** Applies one history event; returns its row (with the state it belongs to). */
  apply(event: HistoryEvent): HistoryRow {
    this.#lastEventId = Math.max(this.#lastEventId, event.id);
    const end = END_EVENTS[event.type];
    if (event.type === "ExecutionStarted") {
      this.#startedAt = event.timestamp;
      this.#input = (event.executionStartedEventDetails as { input?: string } | undefined)?.input;
    } else if (end) {
      this.#end(event, end);
    } else if (event.type.endsWith("StateEntered")) {
      this.#entered(event);
    } else if (event.type.endsWith("StateExited")) {
      this.#exited(event);
    } else if (FAILURE_EVENTS.has(event.type)) {
      const run = this.#activeRun();
      const details = detailsOf(event) as { error?: string; cause?: string };
      if (run) {
        run.lastAttemptFailed = true;
        run.error = details.error ?? event.type;
        run.cause = details.cause ?? "";
      }
    } else if (SUCCESS_EVENTS.has(event.type)) {
      const run = this.#activeRun();
      if (run) run.lastAttemptFailed = false;
    }
    const state = stateNameOf(event) ?? (isExecutionEvent(event.type) ? undefined : this.#active);
    return {
      id: event.id,
      type: event.type,
      timestamp: event.timestamp,
      ...(state ? { state } : {}),
    };
  }

  /** The execution's status as its history tells it. */
  get status(): ExecutionStatus {
    return this.#status;
  }

  get error(): string | undefined {
    return this.#error;
  }

  get cause(): string | undefined {
    return this.#cause;
  }

  get lastEventId(): number {
    return this.#lastEventId;
  }

  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  get stoppedAt(): number | undefined {
    return this.#stoppedAt;
  }

  /** The execution's input and (when it succeeded) output, JSON text. */
  get input(): string | undefined {
    return this.#input;
  }

  get output(): string | undefined {
    return this.#output;
  }

  /** The state being run now (undefined once the execution has ended). */
  get current(): string | undefined {
    return this.#status === "RUNNING" ? this.#active : undefined;
  }

  /** The state's last visit, or undefined if it was never entered. */
  run(name: string): StateRun | undefined {
    return this.#runs.get(name);
  }

  /** Every state's status (not-reached for the states never entered). */
  statuses(): Map<string, NodeStatus> {
    return new Map(
      this.#graph.nodes.map((n) => [n.name, this.#runs.get(n.name)?.status ?? "not-reached"]),
    );
  }

  /** Ids of the edges the execution went along. */
  takenEdges(): ReadonlySet<string> {
    return this.#taken;
  }

  /**
   * The state worth showing first: the one running, else the last one that failed or whose
   * failure was caught (the original error of a rollback), else the last one entered.
   */
  focus(): string | undefined {
    if (this.current) return this.current;
    let best: StateRun | undefined;
    for (const run of this.#runs.values()) {
      if (run.status !== "caught" && run.status !== "failed") continue;
      if (run.type === "Fail") continue;
      if (!best || (run.enteredAt ?? 0) >= (best.enteredAt ?? 0)) best = run;
    }
    return best?.name ?? this.#active;
  }

  #entered(event: HistoryEvent): void {
    const details = event.stateEnteredEventDetails as { name: string; input?: string };
    const name = details.name;
    const type = this.#graph.nodes.find((n) => n.name === name)?.type ?? typeFromEvent(event.type);
    const run: StateRun = this.#runs.get(name) ?? {
      name,
      type,
      visits: 0,
      status: "not-reached",
      lastAttemptFailed: false,
    };
    run.visits++;
    run.status = this.#status === "RUNNING" ? "running" : "failed";
    run.enteredAt = event.timestamp;
    run.input = details.input;
    delete run.exitedAt;
    delete run.output;
    delete run.error;
    delete run.cause;
    run.lastAttemptFailed = false;
    this.#runs.set(name, run);
    if (this.#previous) this.#take(this.#previous, name);
    this.#active = name;
  }

  #exited(event: HistoryEvent): void {
    const details = event.stateExitedEventDetails as { name: string; output?: string };
    const run = this.#runs.get(details.name);
    if (!run) return;
    run.exitedAt = event.timestamp;
    run.output = details.output;
    run.status = run.lastAttemptFailed ? "caught" : "succeeded";
    this.#previous = details.name;
  }

  #end(event: HistoryEvent, status: ExecutionStatus): void {
    this.#status = status;
    this.#stoppedAt = event.timestamp;
    const details = detailsOf(event) as { error?: string; cause?: string; output?: string };
    this.#error = details.error;
    this.#cause = details.cause;
    this.#output = details.output;
    // Whatever was still open when the execution ended did not complete.
    for (const run of this.#runs.values()) {
      if (run.status !== "running") continue;
      run.status = status === "SUCCEEDED" ? "succeeded" : "failed";
      if (status !== "SUCCEEDED" && !run.error && run.type !== "Fail") {
        run.error = details.error ?? status;
        run.cause = details.cause ?? "";
      }
    }
  }

  #activeRun(): StateRun | undefined {
    return this.#active ? this.#runs.get(this.#active) : undefined;
  }

  /** Marks the edge from → to as taken: the Catch if `from` was left through one. */
  #take(from: string, to: string): void {
    const target = this.#groupOf.get(to) ?? to;
    const edges = this.#edgesByPair.get(`${from}\u0000${target}`) ?? [];
    const caught = this.#runs.get(from)?.status === "caught";
    const edge = edges.find((e) => (caught ? e.kind === "catch" : e.kind !== "catch")) ?? edges[0];
    if (edge) this.#taken.add(edge.id);
  }
}

/** The `<type>EventDetails` object of an event, if any. */
export function detailsOf(event: HistoryEvent): Record<string, unknown> {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith("EventDetails") && typeof value === "object" && value !== null)
      return value as Record<string, unknown>;
  }
  return {};
}

function stateNameOf(event: HistoryEvent): string | undefined {
  const details = (event.stateEnteredEventDetails ?? event.stateExitedEventDetails) as
    | { name?: string }
    | undefined;
  return details?.name;
}

function isExecutionEvent(type: string): boolean {
  return type.startsWith("Execution");
}

function typeFromEvent(type: string): string {
  return type.replace(/State(Entered|Exited)$/, "");
}
