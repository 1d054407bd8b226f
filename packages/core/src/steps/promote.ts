import { ConcurrentModification } from "../errors.ts";
import type { Clock, FunctionControl } from "../ports.ts";
import type { DeploymentState, Rollout } from "../state.ts";
import { holdTimeoutSeconds } from "./hold.ts";
import { describeAlias, nextCheckAt } from "./traffic.ts";

export interface PromoteDeps {
  readonly functions: FunctionControl;
  readonly clock: Clock;
}

/**
 * Gives the new version 100% (primary version, weights cleared), reads the alias back to
 * confirm, and starts the bake.
 *
 * @example
 * ```ts
 * const rollout = await promote(state, { functions, clock: systemClock });
 * rollout.phase; // "bake"
 * ```
 */
export async function promote(
  state: Pick<DeploymentState, "plan" | "rollout">,
  deps: PromoteDeps,
): Promise<Rollout> {
  const { plan } = state;
  const rollout = state.rollout;
  if (!rollout) throw new TypeError("promote needs $.rollout (Deploy runs first)");
  const { functionName, alias } = plan.target;

  const current = await deps.functions.getAlias(functionName, alias);
  await deps.functions.updateAlias(functionName, alias, {
    version: rollout.newVersion,
    weights: {},
    ...(current?.revisionId ? { revisionId: current.revisionId } : {}),
  });
  const after = await deps.functions.getAlias(functionName, alias);
  if (after?.version !== rollout.newVersion || Object.keys(after.weights).length > 0) {
    throw new ConcurrentModification(
      `${functionName}:${alias} should serve version ${rollout.newVersion} alone but routes to ${describeAlias(after)}`,
    );
  }
  const now = deps.clock.now();
  const holdEndsAt = now + plan.rollout.bakeSeconds * 1000;
  return {
    ...rollout,
    phase: "bake",
    weight: 100,
    // The bake's hold starts now: the version analysis's window for the new version at 100%.
    holdStartedAt: new Date(now).toISOString(),
    holdEndsAt: new Date(holdEndsAt).toISOString(),
    nextCheckAt: nextCheckAt(plan, now, holdEndsAt),
    holdTimeoutSeconds: holdTimeoutSeconds(plan, now, holdEndsAt),
  };
}
