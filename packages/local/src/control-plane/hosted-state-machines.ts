import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import type { TaskTokenRegistry } from "../engine/task-tokens.ts";
import { type TaskHandler, WorkflowEngine } from "../engine/workflow-engine.ts";
import {
  DamagedFileError,
  type Quarantine,
  readSealedJson,
  writeSealedJson,
} from "../storage/durable-file.ts";
import { isLocalArn, parseResourceArn, parseStateMachineArn, stateMachineArn } from "./arns.ts";
import { SfnApiError } from "./errors.ts";
import { type StateInfo, stateInfo } from "./history.ts";
import { type Tag, TagStore } from "./tags.ts";
import type { TaskCallRouter } from "./task-calls.ts";

/** One state machine the local Step Functions hosts. */
export interface StateMachineSpec {
  readonly name: string;
  readonly definition: StateMachineDefinition;
  /** The definition as text, as DescribeStateMachine returns it. */
  readonly definitionText: string;
  /** Task handlers by the function ARNs the definition names. */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
}

/** A hosted state machine: its spec, its ARN, the engine its executions run on. */
export interface HostedStateMachine {
  readonly spec: StateMachineSpec;
  readonly arn: string;
  readonly engine: WorkflowEngine;
  readonly states: ReadonlyMap<string, StateInfo>;
  readonly creationDate: number;
}

export interface HostedStateMachinesOptions {
  /** Where creation dates and tags live (`.gantry/sfn/state-machines`). */
  readonly dir: string;
  readonly specs: readonly StateMachineSpec[];
  readonly tokens: TaskTokenRegistry;
  readonly timeScale?: number;
  readonly quarantine: Quarantine;
  /** Routes each Task call of the shared engines to the execution that made it. */
  readonly calls: TaskCallRouter;
}

/**
 * The state machines the local Step Functions hosts: one engine each, a creation date and tags
 * that survive restarts, and the lookup by ARN every API call starts with. The set is fixed at
 * start (there is no CreateStateMachine), so this is apart from the executions, which come and go.
 */
export class HostedStateMachines {
  readonly #machines = new Map<string, HostedStateMachine>();
  readonly #tags: TagStore;

  constructor(options: HostedStateMachinesOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.#tags = new TagStore(options.dir, options.quarantine);
    for (const spec of options.specs) {
      this.#machines.set(spec.name, {
        spec,
        arn: stateMachineArn(spec.name),
        engine: new WorkflowEngine({
          definition: spec.definition,
          handlers: options.calls.observed(spec.handlers),
          tokens: options.tokens,
          ...(options.timeScale ? { timeScale: options.timeScale } : {}),
        }),
        states: stateInfo(spec.definition),
        creationDate: creationDate(options.dir, spec.name, options.quarantine),
      });
    }
    // Damage is found at start, as the creation dates' files are: tags are otherwise read
    // only when asked for, and a damaged tags file would go unreported until then.
    this.#tags.check(this.#machines.keys());
  }

  /** Every hosted state machine, in the order they were given. */
  all(): HostedStateMachine[] {
    return [...this.#machines.values()];
  }

  /**
   * The state machine an ARN names: InvalidArn if it is not a state machine ARN,
   * StateMachineDoesNotExist if it is one of another account or region (never a match by name).
   */
  byArn(arn: unknown): HostedStateMachine {
    const name = parseStateMachineArn(arn);
    const machine = isLocalArn(arn as string) ? this.#machines.get(name) : undefined;
    if (!machine)
      throw new SfnApiError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${String(arn)}'`,
      );
    return machine;
  }

  // ---- tags (state machines; AWS tags state machines and activities, not executions) ----

  tag(resourceArn: unknown, tags: unknown): void {
    const machine = this.#taggable(resourceArn);
    this.#tags.add(machine.spec.name, tags);
  }

  untag(resourceArn: unknown, tagKeys: unknown): void {
    const machine = this.#taggable(resourceArn);
    this.#tags.remove(machine.spec.name, tagKeys);
  }

  tagsOf(resourceArn: unknown): Tag[] {
    const machine = this.#taggable(resourceArn);
    return this.#tags.list(machine.spec.name);
  }

  /** A resource TagResource and friends accept: a hosted state machine. */
  #taggable(arn: unknown): HostedStateMachine {
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
}

/** A state machine's creation date, kept so it survives restarts; a damaged file is replaced. */
function creationDate(dir: string, name: string, quarantine: Quarantine): number {
  const file = join(dir, `${name}.json`);
  if (existsSync(file)) {
    try {
      return readSealedJson(file, isMachineFile).creationDate;
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      quarantine.put(file, error.reason);
    }
  }
  const created = Date.now();
  writeSealedJson(file, { name, creationDate: created });
  return created;
}

function isMachineFile(value: unknown): value is { name: string; creationDate: number } {
  const v = value as { name?: unknown; creationDate?: unknown } | null;
  return typeof v === "object" && v !== null && typeof v.creationDate === "number";
}
