import { DeploymentInProgress, LockDamaged } from "../errors.ts";
import type { Clock, Log, RecordStore, StoredRecord, WorkflowCallbacks } from "../ports.ts";
import { type DeploymentState, type LockGrant, recordKeys } from "../state.ts";

/** What the lock object in the state bucket holds. */
export interface LockRecord {
  readonly owner: string;
  readonly service: string;
  readonly version: string;
  readonly acquiredAt: string;
  readonly brokeStaleLockOf?: string;
}

export interface AcquireLockDeps {
  readonly records: RecordStore;
  readonly workflows: Pick<WorkflowCallbacks, "executionStatus">;
  readonly clock: Clock;
  readonly log?: Log;
}

/** Attempts before giving up when other executions keep winning the race for a free lock. */
const MAX_ATTEMPTS = 3;

/**
 * Takes the one-deployment-per-target lock with a conditional create. A lock whose owner is no
 * longer running (it crashed, was stopped, or could not release) is taken over with a
 * conditional replace, so two executions can never both break the same stale lock.
 * Retrying with the same execution is harmless: the owner is recognised. A lock object that is
 * not a lock (see {@link readLock}) is neither taken over nor touched: `LockDamaged`.
 *
 * @example
 * ```ts
 * const lock = await acquireLock(state, { records, workflows, clock: systemClock });
 * lock.owner === state.execution.id; // true
 * ```
 */
export async function acquireLock(
  state: Pick<DeploymentState, "plan" | "request" | "execution">,
  deps: AcquireLockDeps,
): Promise<LockGrant> {
  const key = recordKeys.lock(state.plan.service);
  const fresh: LockRecord = {
    owner: state.execution.id,
    service: state.plan.service,
    version: state.request.version,
    acquiredAt: new Date(deps.clock.now()).toISOString(),
  };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const created = await deps.records.create<LockRecord>(key, fresh);
    if (created) return grant(key, created.value);

    const held = await readLock(deps.records, key, state.plan);
    if (!held) continue; // released between our create and our read
    if (held.value.owner === state.execution.id) return grant(key, held.value);

    const status = await deps.workflows.executionStatus(held.value.owner);
    if (status === "RUNNING") {
      throw new DeploymentInProgress(
        `${state.plan.service} (${state.plan.stage}) is being deployed by ${held.value.owner} ` +
          `(version ${held.value.version}, since ${held.value.acquiredAt})`,
      );
    }
    const taken = await takeOver(deps, key, held, fresh, status ?? "NOT_FOUND");
    if (taken) return grant(key, taken.value);
  }
  throw new DeploymentInProgress(
    `${state.plan.service} (${state.plan.stage}): lost the race for the lock ${MAX_ATTEMPTS} times`,
  );
}

async function takeOver(
  deps: AcquireLockDeps,
  key: string,
  held: StoredRecord<LockRecord>,
  fresh: LockRecord,
  ownerStatus: string,
): Promise<StoredRecord<LockRecord> | undefined> {
  deps.log?.warn("breaking a stale lock", { key, staleOwner: held.value.owner, ownerStatus });
  return deps.records.replace<LockRecord>(
    key,
    { ...fresh, brokeStaleLockOf: held.value.owner },
    held.etag,
  );
}

function grant(key: string, record: LockRecord): LockGrant {
  return {
    key,
    owner: record.owner,
    acquiredAt: record.acquiredAt,
    ...(record.brokeStaleLockOf ? { brokeStaleLockOf: record.brokeStaleLockOf } : {}),
  };
}

/**
 * Reads the target's lock. A lock object that cannot be read as a lock, because its bytes are
 * not JSON (the record stores throw a `SyntaxError`) or its JSON is not the shape Gantry writes,
 * is `LockDamaged`: nobody can say whether a deployment holds it, so no step may take it over
 * or release it. The error names the key and the supported way out (`gantry unlock`).
 *
 * @example
 * ```ts
 * const held = await readLock(records, "locks/hello-service.json", { service: "hello-service", stage: "prod" });
 * held?.value.owner; // the execution ARN that holds it, or undefined when the lock is free
 * ```
 */
export async function readLock(
  records: Pick<RecordStore, "get">,
  key: string,
  target: { readonly service: string; readonly stage: string },
): Promise<StoredRecord<LockRecord> | undefined> {
  let held: StoredRecord<unknown> | undefined;
  try {
    held = await records.get<unknown>(key);
  } catch (error) {
    if (error instanceof SyntaxError) throw lockDamaged(key, target, "is not JSON");
    throw error;
  }
  if (!held) return undefined;
  const problem = lockProblem(held.value, target.service);
  if (problem) throw lockDamaged(key, target, problem);
  return held as StoredRecord<LockRecord>;
}

/** What is wrong with a parsed lock object, or undefined when it is a lock of `service`. */
export function lockProblem(value: unknown, service: string): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "is not a JSON object";
  const lock = value as Record<string, unknown>;
  for (const field of ["owner", "service", "version", "acquiredAt"] as const) {
    if (typeof lock[field] !== "string" || lock[field] === "")
      return `has no ${field} (not the shape Gantry writes)`;
  }
  if (lock.service !== service) return `names another service (${String(lock.service)})`;
  return undefined;
}

/** The recovery an operator runs for a damaged lock (docs/operations.md, "LockDamaged"). */
export function unlockCommand(service: string, stage: string): string {
  return `gantry unlock ${service} --stage ${stage} --force-damaged --reason "<why>"`;
}

function lockDamaged(
  key: string,
  target: { readonly service: string; readonly stage: string },
  problem: string,
): LockDamaged {
  return new LockDamaged(
    `the lock ${key} of ${target.service} (${target.stage}) is damaged: it ${problem}. ` +
      "Nobody can tell whether a deployment holds it, so Gantry neither takes it over nor " +
      "releases it, and every deployment of this service fails until an operator breaks it. " +
      `Check that no deployment of ${target.service} is running (gantry list --service ` +
      `${target.service} --stage ${target.stage} --status RUNNING), then run: ` +
      `${unlockCommand(target.service, target.stage)} (docs/operations.md, "LockDamaged").`,
  );
}
