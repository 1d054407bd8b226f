import {
  type DeploymentOutcome,
  deploymentOutcome,
  type ExecutionStatus,
  readDeployment,
  stageOfStateMachine,
} from "@gantry/core";
import type { ExecutionRecord } from "../../control-plane/execution-store.ts";
import type { LocalStepFunctions } from "../../control-plane/local-step-functions.ts";
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

/** One row of the console's list: an execution as ListExecutions and its input describe it. */
export interface ExecutionListing {
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
  readonly #stepFunctions: LocalStepFunctions;
  readonly #inputs = new Map<string, { service: string; version: string }>();
  readonly #outcomes = new Map<string, DeploymentOutcome>();

  constructor(stepFunctions: LocalStepFunctions) {
    this.#stepFunctions = stepFunctions;
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
  list(filter: ExecutionFilter = {}): ExecutionListing[] {
    const rows: ExecutionListing[] = [];
    for (const machine of this.#stepFunctions.listStateMachines()) {
      const stage = stageNameOf(machine.name);
      if (filter.stage && filter.stage !== stage) continue;
      for (const record of this.#records(machine.stateMachineArn, filter.status)) {
        const listing = this.listingOf(record);
        if (filter.service && listing.service !== filter.service) continue;
        rows.push(listing);
      }
    }
    return rows.sort((a, b) => b.startDate - a.startDate || b.name.localeCompare(a.name));
  }

  /** The stages of the hosted state machines. */
  stages(): string[] {
    return this.#stepFunctions.listStateMachines().map((machine) => stageNameOf(machine.name));
  }

  /** The services named by executions' inputs, sorted. */
  services(): string[] {
    for (const machine of this.#stepFunctions.listStateMachines())
      for (const record of this.#records(machine.stateMachineArn)) this.listingOf(record);
    return [...new Set([...this.#inputs.values()].map((i) => i.service))].sort();
  }

  /** One execution's row. */
  listingOf(record: ExecutionRecord): ExecutionListing {
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
  outcome(listing: Pick<ExecutionListing, "executionArn" | "status">): DeploymentOutcome {
    if (listing.status === "RUNNING") return "running";
    const known = this.#outcomes.get(listing.executionArn);
    if (known) return known;
    const record = this.#stepFunctions.describeExecution(listing.executionArn);
    const progress =
      record.status === "SUCCEEDED"
        ? undefined
        : readDeployment(readHistory(this.#stepFunctions, record.executionArn));
    const outcome = deploymentOutcome({
      status: record.status,
      error: record.error,
      recordedStatus: progress?.recordedOutcome?.status,
      rolledBack: progress?.rollback?.status === "done",
    });
    this.#outcomes.set(listing.executionArn, outcome);
    return outcome;
  }

  #records(stateMachineArn: string, status?: string): ExecutionRecord[] {
    const records: ExecutionRecord[] = [];
    let nextToken: string | undefined;
    do {
      const page = this.#stepFunctions.listExecutions({
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
