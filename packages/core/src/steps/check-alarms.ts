import { AlarmTriggered, ConfigurationError } from "../errors.ts";
import type { AlarmReader, Clock, FunctionControl, Log, VersionMetricsReader } from "../ports.ts";
import type { DeploymentState, Rollout } from "../state.ts";
import {
  analysisWindows,
  analyzeVersions,
  extendedHoldEnd,
  extendedHoldKey,
} from "./analyze-versions.ts";
import { assertNoAlarmFiring, holdTimeoutSeconds, watchedAlarms } from "./hold.ts";
import { holdIsOver, nextCheckAt, shiftTraffic } from "./traffic.ts";

export interface CheckAlarmsDeps {
  readonly alarms: AlarmReader;
  readonly functions: FunctionControl;
  /** The version analysis's metrics (stages with `analysis` in the registry). */
  readonly versionMetrics: VersionMetricsReader;
  readonly clock: Clock;
  readonly log?: Log;
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
 * a rollout is never watched by fewer alarms than its policy says. The alarms a fix is deployed
 * for (`plan.fixFor`) are not read: they were in ALARM when it started, and the analysis judges it.
 *
 * With `plan.analysis`, a hold that is over (a traffic step or the bake) is judged by
 * {@link analyzeVersions} before anything moves: `fail` and `insufficient` return the rollout
 * `halted` with the verdict (the workflow turns it into VersionRegressed / InsufficientData and
 * rolls back), `extend` holds the same step once more, and `pass` / `skipped` go on as above with
 * the verdict in `analysis` (the Task's output: every verdict is in the execution history).
 *
 * @example
 * ```ts
 * const rollout = await checkAlarms(state, { alarms, functions, versionMetrics, clock: systemClock });
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

  await assertNoAlarmFiring(deps.alarms, watchedAlarms(plan), rollout);

  const now = deps.clock.now();
  let checked: Rollout = { ...rollout, checks: rollout.checks + 1 };
  if (
    !holdIsOver(plan, now, rollout.holdEndsAt) ||
    rollout.phase === "promote" ||
    rollout.phase === "baked" ||
    rollout.phase === "halted"
  ) {
    const holdEndsAt = Date.parse(rollout.holdEndsAt);
    return {
      ...checked,
      nextCheckAt: nextCheckAt(plan, now, holdEndsAt),
      holdTimeoutSeconds: holdTimeoutSeconds(plan, now, holdEndsAt),
    };
  }
  if (plan.analysis) {
    const analysis = await analyzeVersions(state, deps);
    if (analysis.decision === "fail" || analysis.decision === "insufficient") {
      return { ...checked, phase: "halted", analysis };
    }
    if (analysis.decision === "extend") {
      // The same step is held again (a new hold: its end differs), and the window keeps its start.
      const at = Date.parse(analysis.at);
      const holdEndsAt = extendedHoldEnd(plan, rollout, at);
      return {
        ...checked,
        holdStartedAt: new Date(analysisWindows(plan, rollout, at).from).toISOString(),
        holdEndsAt: new Date(holdEndsAt).toISOString(),
        nextCheckAt: nextCheckAt(plan, at, holdEndsAt),
        holdTimeoutSeconds: holdTimeoutSeconds(plan, at, holdEndsAt),
        extendedHold: extendedHoldKey(rollout),
        analysis,
      };
    }
    checked = { ...checked, analysis };
  }
  if (rollout.phase === "bake") return { ...checked, phase: "baked" };
  const next = rollout.stepIndex + 1;
  if (next < plan.rollout.steps.length)
    return shiftTraffic(deps.functions, plan, checked, next, now);
  return { ...checked, phase: "promote" };
}
