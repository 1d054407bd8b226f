import {
  type AlarmStatus,
  type ApprovalDecisionRecord,
  type ApprovalRecord,
  isApprovalRecordKey,
  recordKeys,
  STAGES,
  type Stage,
  serviceOf,
} from "@gantry/core";
import { FunctionDamaged } from "../../world/functions.ts";
import { type LocalWorld, stateBucketOf } from "../../world/local-world.ts";

/**
 * What the world looks like around one deployment: the traffic split of the service's alias in
 * that stage, the alarms its plan watches, and its approval (the record, the decision, the
 * emails). Read from the local world on each call; the live view polls it.
 *
 * Approval records are immutable once written, so each is read once and remembered; task
 * tokens (`approval-tokens/`) are never read.
 */

export interface TrafficShare {
  readonly version: string;
  /** 0–100, rounded to a tenth. */
  readonly percent: number;
}

export interface TrafficSplit {
  readonly functionName: string;
  readonly alias: string;
  /** Primary version first. */
  readonly shares: readonly TrafficShare[];
}

export interface ApprovalPanel {
  readonly record: ApprovalRecord;
  readonly decision?: ApprovalDecisionRecord;
  /** The approval emails in the outbox. */
  readonly messages: readonly {
    readonly id: string;
    readonly to: string;
    readonly subject: string;
  }[];
}

export interface DeploymentWorldSnapshot {
  readonly traffic?: TrafficSplit;
  /** Why there is no traffic split (unknown service, no alias yet). */
  readonly trafficNote?: string;
  readonly alarms: readonly (AlarmStatus & { readonly description?: string })[];
  readonly approval?: ApprovalPanel;
}

export interface DeploymentRef {
  readonly executionArn: string;
  readonly service: string;
  readonly stage: string;
}

export class DeploymentWorld {
  readonly #world: LocalWorld;
  /** Approval records by key (immutable once written). */
  readonly #approvals = new Map<string, ApprovalRecord>();
  /** Decisions once made (immutable). */
  readonly #decisions = new Map<string, ApprovalDecisionRecord>();
  /** Outbox messages by approval id, once every approver's has been found. */
  readonly #messages = new Map<string, ApprovalPanel["messages"]>();

  constructor(world: LocalWorld) {
    this.#world = world;
  }

  /**
   * The traffic, alarms and approval around a deployment, now.
   *
   * @example
   * ```ts
   * const now = await deploymentWorld.snapshot({ executionArn, service: "hello-service", stage: "prod" });
   * now.traffic?.shares; // [{ version: "3", percent: 90 }, { version: "4", percent: 10 }]
   * ```
   */
  async snapshot(ref: DeploymentRef): Promise<DeploymentWorldSnapshot> {
    const stage = STAGES.find((s) => s === ref.stage);
    const target = stage ? serviceOf(this.#world.registry, ref.service)?.stages[stage] : undefined;
    if (!stage || !target) {
      return {
        trafficNote: `${ref.service} is not a registered service`,
        alarms: [],
      };
    }
    const watched = new Set(target.alarms);
    const alarms = this.#world.alarms.list().filter((a) => watched.has(a.name));
    let damaged: string | undefined;
    const alias = await this.#world.functions
      .getAlias(target.functionName, target.alias)
      .catch((error: unknown) => {
        if (error instanceof FunctionDamaged) damaged = error.message;
        return undefined;
      });
    const approval = await this.#approval(stage, ref.executionArn);
    return {
      ...(alias
        ? {
            traffic: {
              functionName: target.functionName,
              alias: target.alias,
              shares: sharesOf(alias.version, alias.weights),
            },
          }
        : {
            trafficNote: damaged ?? `${target.functionName}:${target.alias} does not exist yet`,
          }),
      alarms,
      ...(approval ? { approval } : {}),
    };
  }

  /** The approval of an execution, if it asked for one. */
  async #approval(stage: Stage, executionArn: string): Promise<ApprovalPanel | undefined> {
    const records = this.#world.buckets.records(stateBucketOf(stage));
    const keys = await records.list("approvals/");
    let record: ApprovalRecord | undefined;
    for (const key of keys) {
      if (!isApprovalRecordKey(key)) continue;
      let known = this.#approvals.get(key);
      if (!known) {
        known = (await records.get<ApprovalRecord>(key))?.value;
        if (!known) continue;
        this.#approvals.set(key, known);
      }
      if (known.execution.id === executionArn) record = known;
    }
    if (!record) return undefined;
    let decision = this.#decisions.get(record.id);
    if (!decision) {
      decision = (await records.get<ApprovalDecisionRecord>(recordKeys.approvalDecision(record.id)))
        ?.value;
      if (decision) this.#decisions.set(record.id, decision);
    }
    return { record, ...(decision ? { decision } : {}), messages: this.#emails(record) };
  }

  #emails(record: ApprovalRecord): ApprovalPanel["messages"] {
    const known = this.#messages.get(record.id);
    if (known) return known;
    const link = `/approvals/${record.id}?`;
    const messages = this.#world.outbox
      .list()
      .filter((m) => m.text.includes(link))
      .map((m) => ({ id: m.id, to: m.to.join(", "), subject: m.subject }))
      .reverse();
    if (messages.length >= record.approvers.length) this.#messages.set(record.id, messages);
    return messages;
  }
}

/** "3 at 90%, 4 at 10%": the primary version gets what the weights leave. */
export function sharesOf(
  primary: string,
  weights: Readonly<Record<string, number>>,
): TrafficShare[] {
  const extra = Object.entries(weights).map(([version, weight]) => ({
    version,
    percent: round(weight * 100),
  }));
  const rest = round(100 - extra.reduce((sum, share) => sum + share.percent, 0));
  return [{ version: primary, percent: rest }, ...extra];
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
