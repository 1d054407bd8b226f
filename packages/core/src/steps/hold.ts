import { sha256Hex } from "../checksum.ts";
import { AlarmTriggered, ConfigurationError } from "../errors.ts";
import type { AlarmReader, AlarmStatus, Clock, Log, RecordStore } from "../ports.ts";
import type { DeploymentState, Rollout } from "../state.ts";

/**
 * Event-driven holds. Each traffic step and the bake is one `.waitForTaskToken` Task (HoldTrafficStep,
 * Bake) whose function, {@link startHold}, records a watch and returns; the Task then waits until:
 * - a watched alarm enters ALARM: the alarm's state-change event reaches `onAlarmStateChange`
 *   (hold-events.ts), which fails the Task with AlarmTriggered at once, and the workflow rolls back;
 * - the hold's time is up: a one-time schedule delivers `onHoldEnd`, which completes the Task;
 * - neither arrived by the hold's end plus a grace period: the Task times out (fail safe).
 * Whichever way the Task ends without an alarm, CheckAlarms runs next: it reads the alarms one
 * last time and only then shifts traffic, so a lost event can delay a rollback to the end of the
 * hold but never make a bad version look good. The Task's own output is discarded: completing a
 * task token proves nothing (anyone allowed `states:SendTaskSuccess` can), so an early success only
 * makes CheckAlarms find the hold not over and hold again.
 */

/** How long past its end a hold waits for its callback before the Task times out, in real seconds. */
export const HOLD_GRACE_SECONDS = 60;

/** The hold Task's payload: the state it needs plus the task token from `$$.Task.Token`. */
export type HoldEvent = Pick<DeploymentState, "plan" | "execution"> & {
  readonly rollout: Rollout;
  readonly taskToken: string;
};

/** What a hold's schedule delivers to the hold-events function when the hold's time is up. */
export interface HoldEndEvent {
  readonly kind: "hold-end";
  readonly executionArn: string;
  readonly holdId: string;
}

/** `holds/executions/<h>.json`: the hold an execution is in, with the token that ends it. */
export interface HoldWatch {
  readonly holdId: string;
  readonly executionArn: string;
  readonly taskToken: string;
  readonly alarms: readonly string[];
  readonly holdEndsAt: string;
  readonly service: string;
  readonly stage: string;
  readonly newVersion: string;
  readonly weight: number;
  readonly phase: Rollout["phase"];
  /** The schedule that ends the hold (cancelled, best effort, when an alarm ends it first). */
  readonly schedule: string;
  readonly startedAt: string;
}

/** `holds/alarms/<h(alarm)>/<h(execution)>.json`: which executions watch an alarm. No token. */
export interface HoldAlarmIndex {
  readonly executionArn: string;
  readonly holdId: string;
  readonly alarm: string;
}

/** One-time schedules, by name: EventBridge Scheduler in AWS, timers in the local plane. */
export interface HoldScheduler {
  /**
   * Delivers `event` to the hold-events function once, at `at` (ISO 8601). Idempotent per
   * `name`: a retried hold that finds its schedule already there leaves it.
   */
  scheduleHoldEnd(name: string, at: string, event: HoldEndEvent): Promise<void>;
  /** Removes a schedule that has not fired; one that fired or never existed is not an error. */
  cancel(name: string): Promise<void>;
}

/** Where the state bucket keeps watches. Hashed: alarm names and ARNs are not key-safe. */
export const holdKeys = {
  watch: (executionArn: string) => `holds/executions/${sha256Hex(executionArn)}.json`,
  alarmIndexOf: (alarm: string) => `holds/alarms/${sha256Hex(alarm)}/`,
  alarmIndex: (alarm: string, executionArn: string) =>
    `holds/alarms/${sha256Hex(alarm)}/${sha256Hex(executionArn)}.json`,
};

/** The same hold, whichever attempt of its Task: its phase, step and end. */
export function holdIdOf(rollout: Pick<Rollout, "phase" | "stepIndex" | "holdEndsAt">): string {
  return `${rollout.phase}-${rollout.stepIndex}-${rollout.holdEndsAt}`;
}

/** A schedule name: Scheduler allows 64 characters of `[0-9a-zA-Z-_.]`. */
export function holdScheduleName(stage: string, executionArn: string, holdId: string): string {
  return `gantry-${stage}-hold-${sha256Hex(`${executionArn}\n${holdId}`).slice(0, 40)}`;
}

/**
 * The Task timeout of the hold that ends at `holdEndsAt`: its remaining time plus the grace
 * period (scaled with the plan, at least one second), in whole seconds as TimeoutSecondsPath needs.
 */
export function holdTimeoutSeconds(
  plan: { readonly timeScale: number },
  now: number,
  holdEndsAt: number,
): number {
  const grace = Math.max(1, Math.ceil(HOLD_GRACE_SECONDS * plan.timeScale));
  return Math.max(1, Math.ceil((holdEndsAt - now) / 1000)) + grace;
}

export interface HoldDeps {
  readonly records: RecordStore;
  readonly alarms: AlarmReader;
  readonly scheduler: HoldScheduler;
  readonly clock: Clock;
  readonly log?: Log;
}

export interface HoldStarted {
  readonly holdId: string;
  readonly holdEndsAt: string;
  readonly alarms: readonly string[];
  readonly schedule: string;
}

/**
 * Starts a hold: records the watch (the execution's record, then one index entry per alarm),
 * schedules the hold's end, and only then reads the alarms once. CloudWatch sends an event on a
 * state *change* only, so an alarm that entered ALARM before the watch existed would send none:
 * reading after the watch is written closes that gap (a change after the read has a watch to find).
 * An alarm already in ALARM fails the Task at once with {@link AlarmTriggered}.
 *
 * @example
 * ```ts
 * await startHold({ taskToken, plan, execution, rollout }, { records, alarms, scheduler, clock });
 * // the Task now waits: onAlarmStateChange or onHoldEnd (hold-events.ts) completes it
 * ```
 */
export async function startHold(event: HoldEvent, deps: HoldDeps): Promise<HoldStarted> {
  const { plan, rollout, execution, taskToken } = event;
  if (!taskToken) throw new TypeError("startHold needs the task token ($$.Task.Token)");
  const holdId = holdIdOf(rollout);
  const alarms = watchedAlarms(plan);
  const schedule = holdScheduleName(plan.stage, execution.id, holdId);
  const watch: HoldWatch = {
    holdId,
    executionArn: execution.id,
    taskToken,
    alarms,
    holdEndsAt: rollout.holdEndsAt,
    service: plan.service,
    stage: plan.stage,
    newVersion: rollout.newVersion,
    weight: rollout.weight,
    phase: rollout.phase,
    schedule,
    startedAt: new Date(deps.clock.now()).toISOString(),
  };
  // A retried attempt has a new token: the watch is replaced, the index entries are the same.
  await deps.records.put(holdKeys.watch(execution.id), watch);
  for (const alarm of alarms) {
    const index: HoldAlarmIndex = { executionArn: execution.id, holdId, alarm };
    await deps.records.put(holdKeys.alarmIndex(alarm, execution.id), index);
  }
  await deps.scheduler.scheduleHoldEnd(schedule, rollout.holdEndsAt, {
    kind: "hold-end",
    executionArn: execution.id,
    holdId,
  });

  await assertNoAlarmFiring(deps.alarms, alarms, rollout);
  deps.log?.info("hold started", { holdId, holdEndsAt: rollout.holdEndsAt, alarms });
  return { holdId, holdEndsAt: rollout.holdEndsAt, alarms, schedule };
}

/**
 * The alarms that stop this rollout: the stage's alarms except those it was deployed to fix
 * (`plan.fixFor`, already in ALARM when it started; the version analysis judges those). A state
 * written by an earlier Gantry has no `fixFor`: every alarm is watched.
 *
 * @example
 * ```ts
 * watchedAlarms({ alarms: ["errors", "latency"], fixFor: ["errors"] }); // => ["latency"]
 * ```
 */
export function watchedAlarms(
  plan: Pick<DeploymentState["plan"], "alarms"> & { readonly fixFor?: readonly string[] },
): readonly string[] {
  return plan.alarms.filter((alarm) => !plan.fixFor?.includes(alarm));
}

/**
 * Reads the alarms once: an alarm CloudWatch does not know is a {@link ConfigurationError} (a
 * rollout is never watched by fewer alarms than its policy says); any in ALARM is
 * {@link AlarmTriggered}. The start of a hold and the check at its end both ask this.
 *
 * @example
 * ```ts
 * await assertNoAlarmFiring(alarms, plan.alarms, rollout); // throws AlarmTriggered if one fires
 * ```
 */
export async function assertNoAlarmFiring(
  alarms: AlarmReader,
  names: readonly string[],
  rollout: Pick<Rollout, "newVersion" | "weight">,
): Promise<void> {
  const statuses = await alarms.describe(names);
  const missing = names.filter((name) => !statuses.some((s) => s.name === name));
  if (missing.length > 0) throw new ConfigurationError(`alarms not found: ${missing.join(", ")}`);
  const firing = statuses.filter((s) => s.state === "ALARM");
  if (firing.length > 0) throw new AlarmTriggered(alarmCause(firing, rollout));
}

/** "<alarm> in ALARM since <time> (<reason>) while version N had W% of traffic": one wording. */
export function alarmCause(
  firing: readonly Pick<AlarmStatus, "name" | "updatedAt" | "reason">[],
  rollout: Pick<Rollout, "newVersion" | "weight">,
): string {
  return (
    `${firing.map((a) => `${a.name} in ALARM since ${a.updatedAt} (${a.reason})`).join("; ")} while version ` +
    `${rollout.newVersion} had ${rollout.weight}% of traffic`
  );
}
