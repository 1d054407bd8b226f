import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { ConfigurationError, type HoldEndEvent, type HoldScheduler } from "@gantry/core";
import { aws, errorName } from "./errors.ts";

/** Where a hold's schedule delivers its event: the hold-events function, through Scheduler's role. */
export interface HoldScheduleTarget {
  /** The hold-events function's ARN. */
  readonly functionArn: string;
  /** The role EventBridge Scheduler assumes to invoke it. */
  readonly roleArn: string;
}

export interface HoldSchedulerSettings {
  /** The stage's schedule group (GANTRY_HOLD_SCHEDULE_GROUP). */
  readonly groupName: string;
  /** Needed to create schedules only: hold-events cancels them and never creates one. */
  readonly target?: HoldScheduleTarget;
  /** Milliseconds since the epoch; `Date.now` unless a test fixes it. */
  readonly now?: () => number;
}

/**
 * How far ahead a schedule for a time already past (or about to be) is put. Scheduler refuses an
 * `at()` expression in the past, and a hold whose end passed while its Task was retried must
 * still end: a few seconds late is far inside the Task's grace period.
 */
export const PAST_END_LEAD_MS = 5_000;

/** How long Scheduler keeps retrying a delivery that fails, and how often. */
export const HOLD_END_RETRY = { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 10 };

/** Scheduler's rule for schedule names. */
const SCHEDULE_NAME = /^[0-9A-Za-z_.-]{1,64}$/;

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC for the hold's end, rounded up to the whole second (a
 * schedule must never fire before the hold is over), and at least {@link PAST_END_LEAD_MS}
 * from now.
 *
 * @example
 * ```ts
 * atExpression("2026-11-01T12:00:00.250Z", Date.parse("2026-11-01T11:00:00Z"));
 * // "at(2026-11-01T12:00:01)"
 * ```
 */
export function atExpression(at: string, now: number): string {
  const end = Date.parse(at);
  if (Number.isNaN(end)) throw new TypeError(`the hold's end is not a time: ${at}`);
  const fireAt = Math.ceil(Math.max(end, now + PAST_END_LEAD_MS) / 1000) * 1000;
  return `at(${new Date(fireAt).toISOString().slice(0, 19)})`;
}

/**
 * The {@link HoldScheduler} port over EventBridge Scheduler: one one-time schedule per hold in
 * the stage's schedule group, which invokes the hold-events function with the
 * {@link HoldEndEvent} and then deletes itself.
 *
 * @example
 * ```ts
 * const scheduler = new EventBridgeHoldScheduler(new SchedulerClient({}), {
 *   groupName: "gantry-prod-holds",
 *   target: { functionArn: holdEventsArn, roleArn: schedulerRoleArn },
 * });
 * await scheduler.scheduleHoldEnd(name, "2026-11-01T12:10:00.000Z", { kind: "hold-end", executionArn, holdId });
 * ```
 */
export class EventBridgeHoldScheduler implements HoldScheduler {
  readonly #client: SchedulerClient;
  readonly #settings: HoldSchedulerSettings;

  constructor(client: SchedulerClient, settings: HoldSchedulerSettings) {
    this.#client = client;
    this.#settings = settings;
  }

  async scheduleHoldEnd(name: string, at: string, event: HoldEndEvent): Promise<void> {
    checkName(name);
    const target = this.#settings.target;
    if (!target) throw new ConfigurationError("creating a hold's schedule needs its target");
    const expression = atExpression(at, (this.#settings.now ?? Date.now)());
    try {
      await aws("CreateSchedule", () =>
        this.#client.send(
          new CreateScheduleCommand({
            Name: name,
            GroupName: this.#settings.groupName,
            Description: `Ends Gantry hold ${event.holdId}`,
            ScheduleExpression: expression,
            ScheduleExpressionTimezone: "UTC",
            FlexibleTimeWindow: { Mode: "OFF" },
            ActionAfterCompletion: "DELETE",
            State: "ENABLED",
            Target: {
              Arn: target.functionArn,
              RoleArn: target.roleArn,
              Input: JSON.stringify(event),
              RetryPolicy: HOLD_END_RETRY,
            },
          }),
        ),
      );
    } catch (error) {
      // The name is per hold: a retried Task finds the schedule its first attempt created.
      if (errorName(error) !== "ConflictException") throw error;
    }
  }

  async cancel(name: string): Promise<void> {
    checkName(name);
    try {
      await aws("DeleteSchedule", () =>
        this.#client.send(
          new DeleteScheduleCommand({ Name: name, GroupName: this.#settings.groupName }),
        ),
      );
    } catch (error) {
      // Fired (and deleted itself) or never created: nothing left to cancel.
      if (errorName(error) !== "ResourceNotFoundException") throw error;
    }
  }
}

function checkName(name: string): void {
  if (!SCHEDULE_NAME.test(name))
    throw new TypeError(`not a schedule name (1-64 of 0-9 A-Z a-z - _ .): ${name}`);
}
