import { DeploymentInProgress } from "../errors.ts";
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
 * Retrying with the same execution is harmless: the owner is recognised.
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

    const held = await deps.records.get<LockRecord>(key);
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
