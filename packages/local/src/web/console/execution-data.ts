import type { ControlPlane } from "../../control-plane/control-plane.ts";
import type { ExecutionRecord } from "../../control-plane/execution-store.ts";
import type { HistoryEvent } from "../../control-plane/history.ts";
import { ExecutionTracker, type HistoryRow } from "./execution-status.ts";
import { type GraphLayout, layoutOf } from "./graph-layout.ts";

/**
 * One execution as the execution view needs it: its record, the layout of its state machine
 * and its whole history, folded into a tracker.
 */
export interface LoadedExecution {
  readonly record: ExecutionRecord;
  readonly layout: GraphLayout;
}

type Plane = Pick<
  ControlPlane,
  "describeExecution" | "describeStateMachine" | "getExecutionHistory"
>;

/** The execution and its state machine's layout, or undefined if there is no such execution. */
export async function loadExecution(
  plane: Plane,
  executionArn: string,
): Promise<LoadedExecution | undefined> {
  let record: ExecutionRecord;
  try {
    record = plane.describeExecution(executionArn);
  } catch {
    return undefined;
  }
  const definition = plane.describeStateMachine(record.stateMachineArn).definition;
  return { record, layout: await layoutOf(definition) };
}

/** Every event of an execution's history, oldest first. */
export function readHistory(
  plane: Pick<ControlPlane, "getExecutionHistory">,
  executionArn: string,
): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = plane.getExecutionHistory({
      executionArn,
      maxResults: 1000,
      ...(nextToken ? { nextToken } : {}),
    });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** A tracker fed with the events, and the history rows they make. */
export function track(
  layout: GraphLayout,
  events: readonly HistoryEvent[],
): { tracker: ExecutionTracker; rows: HistoryRow[] } {
  const tracker = new ExecutionTracker(layout.graph);
  const rows = events.map((event) => tracker.apply(event));
  return { tracker, rows };
}
