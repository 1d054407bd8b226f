import { RollbackFailed, TransientError } from "../errors.ts";
import type { Clock, FunctionControl } from "../ports.ts";
import type { DeploymentState, RollbackReport } from "../state.ts";
import { describeAlias } from "./traffic.ts";

export interface RollbackDeps {
  readonly functions: FunctionControl;
  readonly clock: Clock;
}

/**
 * Puts the alias back on the version it served before this deployment, with no weights, and
 * reads it back to prove it. The version to restore is the one Deploy recorded; if Deploy failed
 * before recording it, the alias's primary version is still the previous one (traffic steps only
 * ever add weight to the new version), so that is what is kept.
 *
 * Transient errors are rethrown as they are, so the state machine retries them; anything else
 * becomes {@link RollbackFailed}. The finish step publishes the RollbackFailed metric, which
 * raises the alarm.
 *
 * @example
 * ```ts
 * const report = await rollback(state, { functions, clock: systemClock });
 * console.log(`serving version ${report.restoredVersion} again`);
 * ```
 */
export async function rollback(
  state: Pick<DeploymentState, "plan" | "rollout">,
  deps: RollbackDeps,
): Promise<RollbackReport> {
  const { functionName, alias } = state.plan.target;
  const where = `${functionName}:${alias}`;
  try {
    const current = await deps.functions.getAlias(functionName, alias);
    if (!current) {
      return { restoredVersion: null, verifiedAt: new Date(deps.clock.now()).toISOString() };
    }
    const restore = state.rollout?.previousVersion ?? current.version;
    const removed = state.rollout?.newVersion;
    await deps.functions.updateAlias(functionName, alias, {
      version: restore,
      weights: {},
      ...(current.revisionId ? { revisionId: current.revisionId } : {}),
    });
    const after = await deps.functions.getAlias(functionName, alias);
    if (after?.version !== restore || Object.keys(after.weights).length > 0) {
      throw new RollbackFailed(
        `${where} should serve version ${restore} alone but routes to ${describeAlias(after)}`,
      );
    }
    return {
      restoredVersion: restore,
      ...(removed && removed !== restore ? { removedVersion: removed } : {}),
      verifiedAt: new Date(deps.clock.now()).toISOString(),
    };
  } catch (error) {
    if (error instanceof RollbackFailed || error instanceof TransientError) throw error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new RollbackFailed(`could not restore ${where}: ${reason}`);
  }
}
