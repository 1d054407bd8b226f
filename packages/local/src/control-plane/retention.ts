import type { ExecutionSummary } from "./execution-store.ts";

/** How long finished executions are kept (GANTRY_RETENTION_DAYS, GANTRY_RETENTION_COUNT). */
export interface RetentionPolicy {
  /** Finished executions that stopped longer ago than this are deleted. AWS keeps them 90 days. */
  readonly maxAgeDays: number;
  /** Per state machine, only the newest this many finished executions are kept. */
  readonly maxCount: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxAgeDays: 90, maxCount: 1000 };

const DAY_MS = 86_400_000;

/**
 * The finished executions a retention policy deletes: per state machine, those past the newest
 * `maxCount` (by stop date) and those stopped more than `maxAgeDays` ago. Running executions,
 * and any `isOpen` says are not finished (a cleanup still pending), are never chosen.
 *
 * @example
 * ```ts
 * for (const old of expiredExecutions(summaries, { maxAgeDays: 90, maxCount: 1000 }, Date.now())) store.remove(old);
 * ```
 */
export function expiredExecutions(
  executions: Iterable<ExecutionSummary>,
  policy: RetentionPolicy,
  now: number,
  isOpen: (execution: ExecutionSummary) => boolean = () => false,
): ExecutionSummary[] {
  const byMachine = new Map<string, ExecutionSummary[]>();
  for (const execution of executions) {
    if (execution.status === "RUNNING" || isOpen(execution)) continue;
    const list = byMachine.get(execution.stateMachineName) ?? [];
    list.push(execution);
    byMachine.set(execution.stateMachineName, list);
  }
  const oldest = now - policy.maxAgeDays * DAY_MS;
  const expired: ExecutionSummary[] = [];
  for (const list of byMachine.values()) {
    list.sort((a, b) => stopped(b) - stopped(a));
    list.forEach((execution, index) => {
      if (index >= policy.maxCount || stopped(execution) < oldest) expired.push(execution);
    });
  }
  return expired;
}

function stopped(execution: ExecutionSummary): number {
  return execution.stopDate ?? execution.startDate;
}
