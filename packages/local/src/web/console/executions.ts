import {
  type DeploymentOutcome,
  deploymentOutcome,
  type ExecutionStatus,
  readDeployment,
  stageOfStateMachine,
} from "@gantry/core";
import type { ControlPlane } from "../../control-plane/control-plane.ts";
import type { ExecutionRecord } from "../../control-plane/execution-store.ts";
import { readHistory } from "./execution-data.ts";

/**
 * The executions list's data: every execution of every hosted state machine, with the service
 * and version from its input and the deployment's outcome. What never changes is worked out
 * once per execution ARN and kept: the input's service and version, and the outcome of a
 * finished execution (a succeeded one deployed; any other from one read of its history, by
 * @gantry/core's history reader). Listing hundreds of executions therefore reads no history at
 * all once the rows have been seen.
 */

/** A deployment's outcome in words, as the console shows it. */
export const OUTCOME_TEXT: Readonly<Record<DeploymentOutcome, string>> = {
  deployed: "deployed",
  "rolled-back": "rolled back",
  rejected: "rejected",
  failed: "failed",
  running: "running",
  aborted: "stopped",
  "timed-out": "timed out",
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

/** The stage a state machine deploys to (its name, if the name says none). */
function stageNameOf(stateMachineName: string): string {
  return stageOfStateMachine(stateMachineName) ?? stateMachineName;
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
      const stage = stageNameOf(machine.name);
      if (filter.stage && filter.stage !== stage) continue;
      for (const record of this.#records(machine.stateMachineArn, filter.status)) {
        const summary = this.summarize(record);
        if (filter.service && summary.service !== filter.service) continue;
        rows.push(summary);
      }
    }
    return rows.sort((a, b) => b.startDate - a.startDate || b.name.localeCompare(a.name));
  }

  /** The stages of the hosted state machines. */
  stages(): string[] {
    return this.#plane.listStateMachines().map((machine) => stageNameOf(machine.name));
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
      stage: stageNameOf(record.stateMachineName),
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
   * (a succeeded execution deployed; any other from its history) and remembered.
   */
  outcome(summary: Pick<ExecutionSummary, "executionArn" | "status">): DeploymentOutcome {
    if (summary.status === "RUNNING") return "running";
    const known = this.#outcomes.get(summary.executionArn);
    if (known) return known;
    const record = this.#plane.describeExecution(summary.executionArn);
    const progress =
      record.status === "SUCCEEDED"
        ? undefined
        : readDeployment(readHistory(this.#plane, record.executionArn));
    const outcome = deploymentOutcome({
      status: record.status,
      error: record.error,
      recordedStatus: progress?.recordedOutcome?.status,
      rolledBack: progress?.rollback?.status === "done",
    });
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
