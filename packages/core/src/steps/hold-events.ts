import type { Clock, Log, RecordStore, WorkflowCallbacks } from "../ports.ts";
import {
  alarmCause,
  type HoldAlarmIndex,
  type HoldEndEvent,
  type HoldScheduler,
  type HoldWatch,
  holdKeys,
} from "./hold.ts";

/**
 * The other end of a hold (hold.ts): what ends it. One function takes both kinds of event:
 * - a CloudWatch "Alarm State Change" (EventBridge): a watched alarm entered ALARM, so every hold
 *   watching it fails with AlarmTriggered now, not at the next poll;
 * - a {@link HoldEndEvent} from the hold's one-time schedule: its time is up, so it completes.
 *
 * Every event may be lost, repeated, late or about nobody: an event that finds no watch, or a
 * watch for another hold, does nothing; a token already used (`TaskTimedOut`, `InvalidToken`,
 * `TaskDoesNotExist`) means the hold ended some other way, and its watch is removed. Whatever
 * ends a hold without an alarm, the workflow's CheckAlarms reads the alarms before moving on.
 */

/** The EventBridge event CloudWatch sends when an alarm changes state (the fields used here). */
export interface AlarmStateChangeEvent {
  readonly source: "aws.cloudwatch";
  readonly "detail-type": "CloudWatch Alarm State Change";
  readonly time?: string;
  readonly detail: {
    readonly alarmName: string;
    readonly state: {
      readonly value: string;
      readonly reason?: string;
      readonly timestamp?: string;
    };
  };
}

export type HoldCallbackEvent = AlarmStateChangeEvent | HoldEndEvent;

export interface HoldEventsDeps {
  readonly records: RecordStore;
  readonly workflows: Pick<WorkflowCallbacks, "sendTaskSuccess" | "sendTaskFailure">;
  readonly scheduler: Pick<HoldScheduler, "cancel">;
  readonly clock: Clock;
  readonly log?: Log;
}

/** What one event did, per hold it concerned (for logs and tests). */
export interface HoldEventResult {
  readonly ended: readonly {
    readonly executionArn: string;
    readonly holdId: string;
    readonly how: "alarm" | "time" | "already-ended";
  }[];
  /** Why nothing was done, when nothing was. */
  readonly ignored?: string;
}

const TOKEN_SPENT = new Set(["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"]);

/**
 * Routes an event to {@link onAlarmStateChange} or {@link onHoldEnd}; anything else is ignored
 * (logged), never thrown: EventBridge would only retry it.
 *
 * @example
 * ```ts
 * await onHoldEvent({ kind: "hold-end", executionArn, holdId }, deps);
 * ```
 */
export async function onHoldEvent(event: unknown, deps: HoldEventsDeps): Promise<HoldEventResult> {
  if (isAlarmStateChange(event)) return onAlarmStateChange(event, deps);
  if (isHoldEnd(event)) return onHoldEnd(event, deps);
  deps.log?.warn("not a hold event: ignored");
  return { ended: [], ignored: "not an alarm state change or a hold's end" };
}

/**
 * A watched alarm entered ALARM: each hold watching it fails with AlarmTriggered. Other states
 * (OK, INSUFFICIENT_DATA) end nothing: the end-of-hold check reads them.
 */
export async function onAlarmStateChange(
  event: AlarmStateChangeEvent,
  deps: HoldEventsDeps,
): Promise<HoldEventResult> {
  const { alarmName, state } = event.detail;
  if (state.value !== "ALARM") return { ended: [], ignored: `${alarmName} is ${state.value}` };
  const prefix = holdKeys.alarmIndexOf(alarmName);
  const keys = await deps.records.list(prefix);
  if (keys.length === 0) return { ended: [], ignored: `nobody watches ${alarmName}` };
  const ended: HoldEventResult["ended"][number][] = [];
  for (const key of keys) {
    const index = (await deps.records.get<HoldAlarmIndex>(key))?.value;
    if (!index) continue;
    const watch = await currentWatch(deps, index.executionArn, index.holdId);
    if (!watch) {
      // The hold ended (or the execution moved on to another): the entry is stale.
      await removeQuietly(deps, key);
      continue;
    }
    const since = state.timestamp ?? event.time ?? new Date(deps.clock.now()).toISOString();
    const cause = alarmCause(
      [{ name: alarmName, updatedAt: since, reason: state.reason ?? "state change event" }],
      watch,
    );
    const how = await deliver(deps, watch, () =>
      deps.workflows.sendTaskFailure(watch.taskToken, "AlarmTriggered", cause),
    );
    ended.push({ executionArn: watch.executionArn, holdId: watch.holdId, how: how ?? "alarm" });
    await endWatch(deps, watch);
  }
  return { ended };
}

/**
 * A hold's time is up: its Task completes, and CheckAlarms (next in the workflow) reads the
 * alarms and moves the rollout on. A schedule that fires after its hold ended finds no watch
 * (or another hold's) and does nothing.
 */
export async function onHoldEnd(
  event: HoldEndEvent,
  deps: HoldEventsDeps,
): Promise<HoldEventResult> {
  const watch = await currentWatch(deps, event.executionArn, event.holdId);
  if (!watch) return { ended: [], ignored: "the hold had already ended" };
  const how = await deliver(deps, watch, () =>
    deps.workflows.sendTaskSuccess(watch.taskToken, { holdId: watch.holdId, endedBy: "time" }),
  );
  await endWatch(deps, watch);
  return {
    ended: [{ executionArn: watch.executionArn, holdId: watch.holdId, how: how ?? "time" }],
  };
}

/** The execution's watch, if it is still the hold `holdId`. */
async function currentWatch(
  deps: HoldEventsDeps,
  executionArn: string,
  holdId: string,
): Promise<HoldWatch | undefined> {
  const watch = (await deps.records.get<HoldWatch>(holdKeys.watch(executionArn)))?.value;
  return watch && watch.holdId === holdId ? watch : undefined;
}

/** Sends the callback; a spent token (the hold already ended) is "already-ended", not an error. */
async function deliver(
  deps: HoldEventsDeps,
  watch: HoldWatch,
  send: () => Promise<void>,
): Promise<"already-ended" | undefined> {
  try {
    await send();
    return undefined;
  } catch (error) {
    const name = (error as { name?: string }).name ?? "";
    if (!TOKEN_SPENT.has(name)) throw error;
    deps.log?.info("hold already ended", { holdId: watch.holdId, reason: name });
    return "already-ended";
  }
}

/** Removes the watch, its index entries and (best effort) its schedule. */
async function endWatch(deps: HoldEventsDeps, watch: HoldWatch): Promise<void> {
  const current = await deps.records.get<HoldWatch>(holdKeys.watch(watch.executionArn));
  // Only this hold's record: a later hold of the same execution may already have replaced it.
  if (current?.value.holdId === watch.holdId)
    await removeQuietly(deps, holdKeys.watch(watch.executionArn), current.etag);
  for (const alarm of watch.alarms) {
    const key = holdKeys.alarmIndex(alarm, watch.executionArn);
    const index = await deps.records.get<HoldAlarmIndex>(key);
    if (index?.value.holdId === watch.holdId) await removeQuietly(deps, key, index.etag);
  }
  await deps.scheduler.cancel(watch.schedule).catch((error: unknown) => {
    deps.log?.warn("could not cancel the hold's schedule", { error: String(error) });
  });
}

async function removeQuietly(deps: HoldEventsDeps, key: string, etag?: string): Promise<void> {
  const target = etag ?? (await deps.records.get(key))?.etag;
  if (target) await deps.records.delete(key, target);
}

function isAlarmStateChange(event: unknown): event is AlarmStateChangeEvent {
  const e = event as Partial<AlarmStateChangeEvent> | null;
  return (
    typeof e === "object" &&
    e !== null &&
    e.source === "aws.cloudwatch" &&
    e["detail-type"] === "CloudWatch Alarm State Change" &&
    typeof e.detail?.alarmName === "string" &&
    typeof e.detail.state?.value === "string"
  );
}

function isHoldEnd(event: unknown): event is HoldEndEvent {
  const e = event as Partial<HoldEndEvent> | null;
  return (
    typeof e === "object" &&
    e !== null &&
    e.kind === "hold-end" &&
    typeof e.executionArn === "string" &&
    typeof e.holdId === "string"
  );
}
