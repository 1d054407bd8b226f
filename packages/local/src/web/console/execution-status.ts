import {
  type DeploymentProgress,
  type ExecutionStatus,
  type HistoryEventLike,
  HistoryReader,
  type StateVisit,
  type VisitStatus,
} from "@gantry/core";
import type { HistoryEvent } from "../../control-plane/history.ts";
import type { StateEdge, StateGraph } from "./graph-model.ts";

/**
 * The execution drawn on the workflow: what happened to each state, and the transitions
 * taken. The history is read by @gantry/core's {@link HistoryReader}, one event at a time, so
 * the same code builds the page from the whole history and keeps a live view current from the
 * events that follow; this adds what the graph needs on top of the reader's visits.
 *
 * A state's status is that of its last visit (see {@link VisitStatus}), or `not-reached`.
 */
export type NodeStatus = "not-reached" | VisitStatus;

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
  readonly visits: number;
  readonly status: NodeStatus;
  readonly enteredAt?: number;
  /** When the state was left (none for the state the execution ended in). */
  readonly exitedAt?: number;
  /** JSON text, as in the history. */
  readonly input?: string;
  readonly output?: string;
  /** The last failure of the last visit (also when a retry then succeeded), cause as recorded. */
  readonly error?: string;
  readonly cause?: string;
}

/** One line of the history, as the console lists it. */
export interface HistoryRow {
  readonly id: number;
  readonly type: string;
  readonly timestamp: number;
  /** The state the event belongs to (Lambda and Task events: the state being run). */
  readonly state?: string;
}

/**
 * Folds history events into the reader's progress, per-state runs and the transitions taken.
 *
 * @example
 * ```ts
 * const tracker = new ExecutionTracker(graph);
 * for (const event of history) tracker.apply(event);
 * tracker.run("CheckAlarms")?.status; // "caught"
 * tracker.takenEdges(); // Set { "ValidateInput->AcquireLock:next", ... }
 * tracker.progress.outcome; // "rolled-back"
 * ```
 */
export class ExecutionTracker {
  readonly #graph: StateGraph;
  readonly #reader = new HistoryReader();
  readonly #taken = new Set<string>();
  readonly #edgesByPair = new Map<string, StateEdge[]>();
  readonly #groupOf = new Map<string, string>();
  /** Each state's last visit, and how many visits it had. */
  readonly #last = new Map<string, { visit: StateVisit; visits: number }>();
  /** How many of the reader's visits have been taken into account. */
  #seen = 0;

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
    this.#reader.apply([event as HistoryEventLike]);
    const { visits } = this.#reader.progress;
    for (; this.#seen < visits.length; this.#seen++) {
      const visit = visits[this.#seen] as StateVisit;
      this.#last.set(visit.name, { visit, visits: (this.#last.get(visit.name)?.visits ?? 0) + 1 });
      const previous = visits[this.#seen - 1];
      if (previous) this.#take(previous, visit.name);
    }
    const state =
      stateNameOf(event) ?? (event.type.startsWith("Execution") ? undefined : visits.at(-1)?.name);
    return {
      id: event.id,
      type: event.type,
      timestamp: event.timestamp,
      ...(state ? { state } : {}),
    };
  }

  /** The deployment as the history tells it so far: status, outcome, approval, traffic, ... */
  get progress(): DeploymentProgress {
    return this.#reader.progress;
  }

  /** The execution's status as its history tells it. */
  get status(): ExecutionStatus {
    return this.#reader.progress.status;
  }

  get lastEventId(): number {
    return this.#reader.progress.lastEventId;
  }

  /** The state being run now (undefined once the execution has ended). */
  get current(): string | undefined {
    const progress = this.#reader.progress;
    return progress.status === "RUNNING" ? progress.visits.at(-1)?.name : undefined;
  }

  /** The state's last visit, or undefined if it was never entered. */
  run(name: string): StateRun | undefined {
    const last = this.#last.get(name);
    return last ? this.#runOf(last.visit, last.visits) : undefined;
  }

  /** Every state's status (not-reached for the states never entered). */
  statuses(): Map<string, NodeStatus> {
    return new Map(
      this.#graph.nodes.map((n) => [n.name, this.#last.get(n.name)?.visit.status ?? "not-reached"]),
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
    let best: StateVisit | undefined;
    for (const { visit } of this.#last.values()) {
      if (visit.status !== "caught" && visit.status !== "failed") continue;
      if (visit.type === "Fail") continue;
      if (!best || visit.enteredAt >= best.enteredAt) best = visit;
    }
    return best?.name ?? this.#reader.progress.visits.at(-1)?.name;
  }

  #runOf(visit: StateVisit, visits: number): StateRun {
    const progress = this.#reader.progress;
    const retried = visit.retries.at(-1);
    // A state the execution ended in without an error of its own shows how the execution ended.
    const ended =
      visit.status === "failed" && visit.type !== "Fail" && !visit.error
        ? { error: progress.error ?? progress.status, cause: "" }
        : undefined;
    const error = visit.error ?? retried?.error ?? ended?.error;
    const cause = visit.error ? visit.cause : retried ? retried.cause : ended?.cause;
    return {
      name: visit.name,
      type: visit.type,
      visits,
      status: visit.status,
      enteredAt: visit.enteredAt,
      // A state the execution ended in was never left (its visit closes with the execution).
      ...(visit.exitedAt !== undefined && visit.status !== "failed"
        ? { exitedAt: visit.exitedAt }
        : {}),
      ...(visit.input !== undefined ? { input: visit.input } : {}),
      ...(visit.output !== undefined ? { output: visit.output } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    };
  }

  /** Marks the edge from → to as taken: the Catch if `from` was left through one. */
  #take(from: StateVisit, to: string): void {
    const target = this.#groupOf.get(to) ?? to;
    const edges = this.#edgesByPair.get(`${from.name}\u0000${target}`) ?? [];
    const caught = from.status === "caught";
    const edge = edges.find((e) => (caught ? e.kind === "catch" : e.kind !== "catch")) ?? edges[0];
    if (edge) this.#taken.add(edge.id);
  }
}

function stateNameOf(event: HistoryEvent): string | undefined {
  const details = (event.stateEnteredEventDetails ?? event.stateExitedEventDetails) as
    | { name?: string }
    | undefined;
  return details?.name;
}
