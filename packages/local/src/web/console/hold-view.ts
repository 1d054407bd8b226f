import { html, readableCause, type SafeHtml, WORKFLOW_STATES } from "@gantry/core";
import type { StateRun } from "./execution-status.ts";
import { formatClock, formatDuration } from "./format.ts";

/**
 * A hold as the console shows it. HoldTrafficStep and Bake are Tasks that wait for their token
 * (core's steps/hold.ts): the new version keeps its share of traffic until the hold's time is up
 * or a watched alarm enters ALARM. Everything here is read from the hold's last visit, as the
 * history tells it: the share, the deadline and the alarms from the state's input (`$.rollout`,
 * `$.plan.alarms`), how it ended from the way the Task was left (succeeded, or caught with
 * AlarmTriggered, States.Timeout or another error).
 */

/** The two hold states and the check that follows each. */
const HOLDS: Readonly<Record<string, string>> = {
  [WORKFLOW_STATES.holdTrafficStep]: WORKFLOW_STATES.checkAlarms,
  [WORKFLOW_STATES.bake]: WORKFLOW_STATES.checkBakeAlarms,
};

/**
 * How a hold stands:
 * - `waiting`: the Task waits for its token;
 * - `time-up`: completed at or after its deadline (its schedule fired): the check ran next;
 * - `early`: completed before its deadline, by a success callback that was not its schedule
 *   (anyone allowed SendTaskSuccess): the check holds the step again;
 * - `timed-out`: no callback by its deadline plus the grace period: the check ran anyway;
 * - `alarm`: failed with AlarmTriggered (an alarm's event, or one already in ALARM): rolled back;
 * - `failed`: failed with another error: rolled back;
 * - `stopped`: the execution ended while it waited.
 */
export type HoldEnding =
  | "waiting"
  | "time-up"
  | "early"
  | "timed-out"
  | "alarm"
  | "failed"
  | "stopped";

export interface HoldView {
  readonly state: string;
  /** The check that reads the alarms after this hold (CheckAlarms, CheckBakeAlarms). */
  readonly check: string;
  readonly bake: boolean;
  readonly version?: string;
  /** The new version's share of traffic during the hold, in percent. */
  readonly weight?: number;
  /** The hold's deadline (`$.rollout.holdEndsAt`), epoch ms. */
  readonly endsAt?: number;
  /** The alarms whose entering ALARM ends the hold at once (`$.plan.alarms`). */
  readonly alarms: readonly string[];
  readonly ending: HoldEnding;
  /** When the hold ended (none while waiting, or when the execution ended in it). */
  readonly endedAt?: number;
  readonly error?: string;
  /** The cause in words (Lambda's JSON causes read as their message). */
  readonly cause?: string;
}

/** True for the states that are holds. */
export function isHoldState(name: string): boolean {
  return Object.hasOwn(HOLDS, name);
}

/**
 * The hold a state's last run stands for, or undefined if the state is not a hold.
 *
 * @example
 * ```ts
 * const hold = holdOf(tracker.run("HoldTrafficStep"));
 * hold?.ending; // "waiting", then "time-up" (CheckAlarms next) or "alarm" (rolled back)
 * ```
 */
export function holdOf(run: StateRun | undefined): HoldView | undefined {
  if (!run || !isHoldState(run.name)) return undefined;
  const input = parse(run.input);
  const rollout = object(input?.rollout);
  const plan = object(input?.plan);
  const endsAt = typeof rollout?.holdEndsAt === "string" ? Date.parse(rollout.holdEndsAt) : NaN;
  const alarms = Array.isArray(plan?.alarms)
    ? plan.alarms.filter((a): a is string => typeof a === "string")
    : [];
  const ending = endingOf(run, endsAt);
  const failed = ending === "alarm" || ending === "failed" || ending === "stopped";
  return {
    state: run.name,
    check: HOLDS[run.name] as string,
    bake: run.name === WORKFLOW_STATES.bake,
    ...(typeof rollout?.newVersion === "string" ? { version: rollout.newVersion } : {}),
    ...(typeof rollout?.weight === "number" ? { weight: rollout.weight } : {}),
    ...(Number.isFinite(endsAt) ? { endsAt } : {}),
    alarms,
    ending,
    ...(run.exitedAt !== undefined ? { endedAt: run.exitedAt } : {}),
    ...(failed && run.error ? { error: run.error } : {}),
    ...(failed && run.cause ? { cause: readableCause(run.cause) } : {}),
  };
}

function endingOf(run: StateRun, endsAt: number): HoldEnding {
  switch (run.status) {
    case "running":
    case "not-reached":
      return "waiting";
    case "succeeded":
      // The callback's output proves nothing (anyone allowed SendTaskSuccess can send one): the
      // time it came at does.
      return Number.isFinite(endsAt) && run.exitedAt !== undefined && run.exitedAt < endsAt
        ? "early"
        : "time-up";
    case "caught":
      if (run.error === "States.Timeout") return "timed-out";
      return run.error === "AlarmTriggered" ? "alarm" : "failed";
    case "failed":
      return "stopped";
  }
}

/**
 * The hold in a few sentences, for the state panel and the summary: what is held, until when,
 * which alarms end it early; or how it ended. `now` gives the time left while it waits.
 */
export function renderHold(hold: HoldView, now: number): SafeHtml {
  const share =
    hold.weight !== undefined
      ? html`<strong>${hold.version ? `v${hold.version}` : "the new version"} at ${hold.weight}%</strong> of traffic`
      : html`the new version's share of traffic`;
  const deadline =
    hold.endsAt !== undefined
      ? html`<time datetime="${new Date(hold.endsAt).toISOString()}" data-hold-ends>${formatClock(hold.endsAt)}</time> UTC`
      : html`its deadline`;
  const watched =
    hold.alarms.length > 0
      ? html`${hold.alarms.map((a, i) => html`${i > 0 ? ", " : ""}<code data-hold-alarm="${a}">${a}</code>`)}`
      : html`<span class="muted">no alarm</span>`;
  const what = hold.bake ? html`Baking ${share}` : html`Holding ${share}`;
  const at = (ms: number | undefined) => (ms !== undefined ? formatClock(ms) : "?");

  let body: SafeHtml;
  switch (hold.ending) {
    case "waiting": {
      const left =
        hold.endsAt === undefined
          ? ""
          : hold.endsAt > now
            ? html` (${formatDuration(hold.endsAt - now)} left)`
            : html` (its time is up: waiting for its schedule, or its timeout)`;
      body = html`<p><span class="badge status-RUNNING">waiting</span> ${what} until ${deadline}${left}.</p>
<p>Watching ${watched}: it ends early, with a rollback, if any of them enters ALARM.</p>`;
      break;
    }
    case "time-up":
      body = html`<p><span class="badge outcome-deployed">time up</span> ${what} until ${deadline}: its time was up at ${at(hold.endedAt)}, with no alarm event. ${hold.check} read the alarms next.</p>
<p class="muted">Watched ${watched}.</p>`;
      break;
    case "early":
      body = html`<p><span class="badge outcome-rejected">ended early</span> ${what} until ${deadline}: a success callback that was not its schedule ended it at ${at(hold.endedAt)}, before its time. ${hold.check} read the alarms next, and holds the step again while its time is not up.</p>
<p class="muted">Watched ${watched}.</p>`;
      break;
    case "timed-out":
      body = html`<p><span class="badge outcome-rejected">timed out</span> ${what} until ${deadline}: no callback came by its deadline and the grace period, so the Task timed out at ${at(hold.endedAt)}. ${hold.check} read the alarms anyway.</p>
<p class="muted">Watched ${watched}. A timeout means the hold's schedule did not deliver: see docs/operations.md.</p>`;
      break;
    case "alarm":
      body = html`<p><span class="badge outcome-rolled-back">alarm</span> ${what} until ${deadline}: ended early at ${at(hold.endedAt)}, because an alarm it watched entered ALARM (<code>${hold.error ?? "AlarmTriggered"}</code>). Rolled back.</p>
${hold.cause ? html`<p class="notice bad">${hold.cause}</p>` : ""}
<p class="muted">Watched ${watched}.</p>`;
      break;
    case "failed":
      body = html`<p><span class="badge outcome-failed">failed</span> ${what} until ${deadline}: the hold failed at ${at(hold.endedAt)} with <code>${hold.error ?? "?"}</code>. Rolled back.</p>
${hold.cause ? html`<p class="notice bad">${hold.cause}</p>` : ""}
<p class="muted">Watched ${watched}.</p>`;
      break;
    case "stopped":
      body = html`<p><span class="badge status-ABORTED">ended</span> ${what} until ${deadline}: the execution ended while it waited${hold.error ? html` (<code>${hold.error}</code>${hold.cause ? html`: ${hold.cause}` : ""})` : ""}.</p>
<p class="muted">Watched ${watched}.</p>`;
      break;
  }
  return html`<div class="hold" data-hold="${hold.ending}">${body}</div>`;
}

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    return object(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function object(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
