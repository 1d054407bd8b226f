import { AlarmTriggered, ConfigurationError } from "../errors.ts";
import type { AlarmReader, Clock, FunctionControl } from "../ports.ts";
import type { DeploymentState, Rollout } from "../state.ts";
import { assertNoAlarmFiring, holdTimeoutSeconds } from "./hold.ts";
import { holdIsOver, nextCheckAt, shiftTraffic } from "./traffic.ts";

export interface CheckAlarmsDeps {
  readonly alarms: AlarmReader;
  readonly functions: FunctionControl;
  readonly clock: Clock;
}

/**
 * The end-of-hold check (after HoldTrafficStep or Bake, whatever ended it; the polling
 * baseline's one poll). Throws {@link AlarmTriggered}
 * when any of the service's alarms is in ALARM, which the workflow catches and turns into
 * a rollback. Otherwise it moves the rollout on when the current hold is over: to the next
 * traffic step, to `promote` after the last step, or to `baked` at the end of the bake.
 *
 * Shifting traffic here, rather than in a state of its own, keeps a happy-path prod deployment
 * at 23 state transitions (see docs/architecture.md).
 *
 * An alarm the registry names but CloudWatch does not know is a {@link ConfigurationError}:
 * a rollout is never watched by fewer alarms than its policy says.
 *
 * @example
 * ```ts
 * const rollout = await checkAlarms(state, { alarms, functions, clock: systemClock });
 * if (rollout.phase === "promote") console.log("all traffic steps held");
 * ```
 */
export async function checkAlarms(
  state: Pick<DeploymentState, "plan" | "rollout">,
  deps: CheckAlarmsDeps,
): Promise<Rollout> {
  const { plan } = state;
  const rollout = state.rollout;
  if (!rollout) throw new TypeError("checkAlarms needs $.rollout (Deploy runs first)");

  await assertNoAlarmFiring(deps.alarms, plan.alarms, rollout);

  const now = deps.clock.now();
  const checked = { ...rollout, checks: rollout.checks + 1 };
  if (
    !holdIsOver(plan, now, rollout.holdEndsAt) ||
    rollout.phase === "promote" ||
    rollout.phase === "baked"
  ) {
    const holdEndsAt = Date.parse(rollout.holdEndsAt);
    return {
      ...checked,
      nextCheckAt: nextCheckAt(plan, now, holdEndsAt),
      holdTimeoutSeconds: holdTimeoutSeconds(plan, now, holdEndsAt),
    };
  }
  if (rollout.phase === "bake") return { ...checked, phase: "baked" };
  const next = rollout.stepIndex + 1;
  if (next < plan.rollout.steps.length)
    return shiftTraffic(deps.functions, plan, checked, next, now);
  return { ...checked, phase: "promote" };
}
