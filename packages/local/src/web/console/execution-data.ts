import type { ExecutionRecord } from "../../control-plane/execution-store.ts";
import type { HistoryEvent } from "../../control-plane/history.ts";
import type { LocalStepFunctions } from "../../control-plane/local-step-functions.ts";
import { ExecutionTracker, type HistoryRow } from "./execution-status.ts";
import { type GraphLayout, layoutOf } from "./graph-layout.ts";

/**
 * One execution as the execution view needs it: its record, the layout of the workflow its
 * state machine runs, and its whole history, folded into a tracker.
 */
export interface LoadedExecution {
  readonly record: ExecutionRecord;
  readonly layout: GraphLayout;
}

type ExecutionSource = Pick<
  LocalStepFunctions,
  "describeExecution" | "describeStateMachine" | "getExecutionHistory"
>;

/** The execution and its workflow's layout, or undefined if there is no such execution. */
export async function loadExecution(
  stepFunctions: ExecutionSource,
  executionArn: string,
): Promise<LoadedExecution | undefined> {
  let record: ExecutionRecord;
  try {
    record = stepFunctions.describeExecution(executionArn);
  } catch {
    return undefined;
  }
  const definition = stepFunctions.describeStateMachine(record.stateMachineArn).definition;
  return { record, layout: await layoutOf(definition) };
}

/** Every event of an execution's history, oldest first. */
export function readHistory(
  stepFunctions: Pick<LocalStepFunctions, "getExecutionHistory">,
  executionArn: string,
): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = stepFunctions.getExecutionHistory({
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
