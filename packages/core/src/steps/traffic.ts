import { ConcurrentModification } from "../errors.ts";
import type { Plan } from "../plan.ts";
import type { AliasState, FunctionControl } from "../ports.ts";
import type { Rollout } from "../state.ts";
import { holdTimeoutSeconds } from "./hold.ts";

/**
 * Timing and traffic helpers shared by Deploy, CheckAlarms and Promote.
 *
 * Waits are timestamps, not durations: the Wait states use TimestampPath on
 * `$.rollout.nextCheckAt`, which works to the millisecond locally (scaled time) and in AWS.
 */

/**
 * When the next alarm check is due: one poll from now, but not after the hold ends. Step
 * Functions reads a Wait's timestamp to the whole second, dropping the fraction, so in real
 * time it is rounded up: a Wait that woke before the hold was over would cost one more poll
 * (three state transitions). Scaled plans (the local control plane) keep their milliseconds.
 */
export function nextCheckAt(plan: Plan, now: number, holdEndsAt: number): string {
  const at = Math.min(now + plan.rollout.pollSeconds * 1000, holdEndsAt);
  return new Date(plan.timeScale === 1 ? Math.ceil(at / 1000) * 1000 : at).toISOString();
}

/**
 * Whether a hold is over. A Wait can wake a hair early (timer and clock granularity), and one
 * extra poll for a few milliseconds would cost three state transitions, so allow 2% of a poll
 * interval (at most one second) of slack.
 */
export function holdIsOver(plan: Plan, now: number, holdEndsAt: string): boolean {
  const slack = Math.min(1000, plan.rollout.pollSeconds * 1000 * 0.02);
  return now + slack >= Date.parse(holdEndsAt);
}

/** Lambda routing weights are fractions; the registry speaks percent. */
export function weightsFor(newVersion: string, percent: number): Record<string, number> {
  return { [newVersion]: percent / 100 };
}

/**
 * Moves the alias to another traffic step: the previous version stays primary and the new
 * version gets `steps[stepIndex]` percent, and its hold starts now. Refuses if the alias is no longer where this
 * rollout left it (someone else changed it).
 */
export async function shiftTraffic(
  functions: FunctionControl,
  plan: Plan,
  rollout: Rollout,
  stepIndex: number,
  now: number,
): Promise<Rollout> {
  const percent = plan.rollout.steps[stepIndex];
  if (percent === undefined) throw new RangeError(`no traffic step ${stepIndex}`);
  const { functionName, alias } = plan.target;
  const current = await functions.getAlias(functionName, alias);
  assertOurs(current, rollout, `${functionName}:${alias}`);
  await functions.updateAlias(functionName, alias, {
    version: rollout.previousVersion,
    weights: weightsFor(rollout.newVersion, percent),
    ...(current.revisionId ? { revisionId: current.revisionId } : {}),
  });
  const holdEndsAt = now + plan.rollout.stepWaitSeconds * 1000;
  return {
    ...rollout,
    phase: "steps",
    stepIndex,
    weight: percent,
    // The version analysis's window starts here (steps/analyze-versions.ts).
    holdStartedAt: new Date(now).toISOString(),
    holdEndsAt: new Date(holdEndsAt).toISOString(),
    nextCheckAt: nextCheckAt(plan, now, holdEndsAt),
    holdTimeoutSeconds: holdTimeoutSeconds(plan, now, holdEndsAt),
  };
}

function assertOurs(
  current: AliasState | undefined,
  rollout: Rollout,
  where: string,
): asserts current is AliasState {
  const otherVersions = Object.keys(current?.weights ?? {}).filter((v) => v !== rollout.newVersion);
  if (!current || current.version !== rollout.previousVersion || otherVersions.length > 0) {
    throw new ConcurrentModification(
      `${where} changed during the rollout: it now routes to ${describeAlias(current)}`,
    );
  }
}

/** "version 3" or "version 3 + 10% to 4", for messages. */
export function describeAlias(alias: AliasState | undefined): string {
  if (!alias) return "(no alias)";
  const extra = Object.entries(alias.weights)
    .map(([version, weight]) => ` + ${Math.round(weight * 100)}% to ${version}`)
    .join("");
  return `version ${alias.version}${extra}`;
}
