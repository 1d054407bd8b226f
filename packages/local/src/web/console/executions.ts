import type { ExecutionStatus } from "@gantry/core";
import type { ControlPlane } from "../../control-plane/control-plane.ts";
import type { ExecutionRecord } from "../../control-plane/execution-store.ts";
import type { HistoryEvent } from "../../control-plane/history.ts";

/**
 * The executions list's data: every execution of every hosted state machine, with the service
 * and version from its input and the deployment's outcome. What never changes is worked out
 * once per execution ARN and kept: the input's service and version, and the outcome of a
 * finished execution (from its output, or from one read of its history). Listing hundreds of
 * executions therefore reads no history at all once the rows have been seen.
 */

/** How a deployment ended, in the words of the deployment record (`Outcome.status`). */
export type DeploymentOutcome = "deployed" | "rolled-back" | "rejected" | "failed" | "running";

export const OUTCOME_TEXT: Readonly<Record<DeploymentOutcome, string>> = {
  deployed: "deployed",
  "rolled-back": "rolled back",
  rejected: "rejected",
  failed: "failed",
  running: "running",
};

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "ABORTED",
  "TIMED_OUT",
];

export interface ExecutionSummary {
  readonly executionArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  /** The stage the state machine deploys to (`gantry-prod` → `prod`). */
  readonly stage: string;
  readonly status: ExecutionStatus;
  readonly startDate: number;
  readonly stopDate?: number;
  /** From the execution input; "?" when the input has none (it failed validation). */
  readonly service: string;
  readonly version: string;
  readonly error?: string;
  readonly cause?: string;
}

export interface ExecutionFilter {
  readonly service?: string;
  readonly status?: string;
  readonly stage?: string;
}

/** The name of the stage a state machine deploys to. */
export function stageOf(stateMachineName: string): string {
  return stateMachineName.replace(/^gantry-/, "");
}

export class ExecutionCatalog {
  readonly #plane: ControlPlane;
  readonly #inputs = new Map<string, { service: string; version: string }>();
  readonly #outcomes = new Map<string, DeploymentOutcome>();

  constructor(plane: ControlPlane) {
    this.#plane = plane;
  }

  /**
   * Every execution matching the filter, newest first.
   *
   * @example
   * ```ts
   * const failed = catalog.list({ service: "hello-service", status: "FAILED" });
   * catalog.outcome(failed[0]); // "rolled-back"
   * ```
   */
  list(filter: ExecutionFilter = {}): ExecutionSummary[] {
    const rows: ExecutionSummary[] = [];
    for (const machine of this.#plane.listStateMachines()) {
      const stage = stageOf(machine.name);
      if (filter.stage && filter.stage !== stage) continue;
      for (const record of this.#records(machine.stateMachineArn, filter.status)) {
        const summary = this.summarize(record);
        if (filter.service && summary.service !== filter.service) continue;
        rows.push(summary);
      }
    }
    return rows.sort((a, b) => b.startDate - a.startDate || b.name.localeCompare(a.name));
  }

  /** The services named by executions' inputs, sorted. */
  services(): string[] {
    for (const machine of this.#plane.listStateMachines())
      for (const record of this.#records(machine.stateMachineArn)) this.summarize(record);
    return [...new Set([...this.#inputs.values()].map((i) => i.service))].sort();
  }

  /** One execution's row. */
  summarize(record: ExecutionRecord): ExecutionSummary {
    let input = this.#inputs.get(record.executionArn);
    if (!input) {
      input = inputFacts(record.input);
      this.#inputs.set(record.executionArn, input);
    }
    return {
      executionArn: record.executionArn,
      stateMachineName: record.stateMachineName,
      name: record.name,
      stage: stageOf(record.stateMachineName),
      status: record.status,
      startDate: record.startDate,
      ...(record.stopDate !== undefined ? { stopDate: record.stopDate } : {}),
      ...input,
      ...(record.error !== undefined ? { error: record.error } : {}),
      ...(record.cause !== undefined ? { cause: record.cause } : {}),
    };
  }

  /**
   * The deployment's outcome: `running` while it runs; once it has finished, worked out once
   * (from the output's `outcome`, or the history's last ReleaseLock* exit) and remembered.
   */
  outcome(summary: Pick<ExecutionSummary, "executionArn" | "status">): DeploymentOutcome {
    if (summary.status === "RUNNING") return "running";
    const known = this.#outcomes.get(summary.executionArn);
    if (known) return known;
    const record = this.#plane.describeExecution(summary.executionArn);
    const outcome = deploymentOutcome(
      record.status,
      record.output,
      record.status === "SUCCEEDED" ? undefined : this.#finishOutput(record.executionArn),
    );
    this.#outcomes.set(summary.executionArn, outcome);
    return outcome;
  }

  #records(stateMachineArn: string, status?: string): ExecutionRecord[] {
    const records: ExecutionRecord[] = [];
    let nextToken: string | undefined;
    do {
      const page = this.#plane.listExecutions({
        stateMachineArn,
        maxResults: 1000,
        ...(status ? { statusFilter: status } : {}),
        ...(nextToken ? { nextToken } : {}),
      });
      records.push(...page.executions);
      nextToken = page.nextToken;
    } while (nextToken);
    return records;
  }

  /** The output of the last ReleaseLock/ReleaseLockAfterFailure exit, read newest first. */
  #finishOutput(executionArn: string): string | undefined {
    let nextToken: string | undefined;
    do {
      const page = this.#plane.getExecutionHistory({
        executionArn,
        reverseOrder: true,
        maxResults: 200,
        ...(nextToken ? { nextToken } : {}),
      });
      const exit = page.events.find(isFinishExit);
      if (exit) return (exit.stateExitedEventDetails as { output?: string }).output;
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }
}

/**
 * A deployment's outcome from what its execution left: the output when it succeeded (its
 * `outcome`), else the output of its last ReleaseLock* exit, whose `$.outcome` says
 * rolled-back, rejected or failed. An execution that never got there (stopped, interrupted by
 * a restart) failed.
 */
export function deploymentOutcome(
  status: ExecutionStatus,
  executionOutput: string | undefined,
  finishOutput: string | undefined,
): DeploymentOutcome {
  if (status === "RUNNING") return "running";
  if (status === "SUCCEEDED") return outcomeIn(executionOutput) ?? "deployed";
  return outcomeIn(finishOutput) ?? "failed";
}

/** The states whose exit output carries `$.outcome`. */
export const FINISH_STATE_NAMES: readonly string[] = ["ReleaseLockAfterFailure", "ReleaseLock"];

function isFinishExit(event: HistoryEvent): boolean {
  const name = (event.stateExitedEventDetails as { name?: string } | undefined)?.name;
  return (
    event.type === "TaskStateExited" && name !== undefined && FINISH_STATE_NAMES.includes(name)
  );
}

/** `$.outcome.status` of a state document (JSON text), if it is one of the known outcomes. */
function outcomeIn(json: string | undefined): DeploymentOutcome | undefined {
  if (!json) return undefined;
  try {
    const status = (JSON.parse(json) as { outcome?: { status?: unknown } } | null)?.outcome?.status;
    return status === "deployed" ||
      status === "rolled-back" ||
      status === "rejected" ||
      status === "failed"
      ? status
      : undefined;
  } catch {
    return undefined;
  }
}

function inputFacts(input: string): { service: string; version: string } {
  try {
    const parsed = JSON.parse(input) as { service?: unknown; version?: unknown } | null;
    return {
      service: typeof parsed?.service === "string" ? parsed.service : "?",
      version: typeof parsed?.version === "string" ? parsed.version : "?",
    };
  } catch {
    return { service: "?", version: "?" };
  }
}
