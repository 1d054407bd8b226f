import { AlarmTriggered, ConfigurationError, InvalidInput } from "../errors.ts";
import type { Plan } from "../plan.ts";
import type { AlarmStatus } from "../ports.ts";
import { displayText } from "../text.ts";
import type { IncidentFix } from "./record.ts";

/**
 * The start-of-deployment rules for alarms already in ALARM (an incident), applied by
 * ApprovalGate before it stores or sends anything:
 * - a watched alarm in ALARM that the request does not name in `fixFor` refuses the deployment
 *   with {@link AlarmTriggered}: the first alarm check would roll it back anyway, and a fix must
 *   say it is one;
 * - an alarm named in `fixFor` that is not in ALARM refuses it with {@link InvalidInput}: there
 *   is nothing to fix, and a fix's alarms are not watched, so a mistaken `--fix-for` would
 *   quietly turn an alarm off;
 * - an alarm the registry names and CloudWatch does not know is a {@link ConfigurationError}, as
 *   in every alarm check.
 * Returns the fix (without the previous version, which the caller reads) when `fixFor` is
 * non-empty, undefined for an ordinary deployment.
 *
 * @example
 * ```ts
 * const statuses = await alarms.describe(plan.alarms);
 * const fix = incidentAtStart(plan, statuses); // throws AlarmTriggered during an unmarked incident
 * if (fix) console.log(`a fix for ${fix.alarms.map((a) => a.name).join(", ")}`);
 * ```
 */
export function incidentAtStart(
  plan: Pick<Plan, "alarms" | "fixFor">,
  statuses: readonly AlarmStatus[],
): Omit<IncidentFix, "previousVersion"> | undefined {
  // A state written by an earlier Gantry has no fixFor: an ordinary deployment.
  const fixFor = plan.fixFor ?? [];
  const missing = plan.alarms.filter((name) => !statuses.some((s) => s.name === name));
  if (missing.length > 0) throw new ConfigurationError(`alarms not found: ${missing.join(", ")}`);
  const watched = statuses.filter((s) => plan.alarms.includes(s.name));

  const unmarked = watched.filter((s) => s.state === "ALARM" && !fixFor.includes(s.name));
  if (unmarked.length > 0) {
    const flags = unmarked.map((s) => `--fix-for ${s.name}`).join(" ");
    throw new AlarmTriggered(
      `${unmarked.map((s) => `${s.name} in ALARM since ${s.updatedAt} (${s.reason})`).join("; ")}: ` +
        `already in ALARM when the deployment started; a fix deployed during an incident needs ` +
        `\`gantry deploy ${flags}\``,
    );
  }
  if (fixFor.length === 0) return undefined;

  const quiet = watched.filter((s) => fixFor.includes(s.name) && s.state !== "ALARM");
  if (quiet.length > 0) {
    throw new InvalidInput([
      {
        field: "fixFor",
        reason:
          `${quiet.map((s) => `${s.name} is ${s.state}, not in ALARM`).join("; ")}: nothing to fix ` +
          "(deploy without --fix-for, or name the alarm that is in ALARM)",
      },
    ]);
  }
  // resolvePlan keeps fixFor within the watched alarms, each found above.
  const fixed = watched.filter((s) => fixFor.includes(s.name));
  return {
    alarms: fixed.map((s) => ({
      name: s.name,
      since: s.updatedAt,
      ...(s.metricName === undefined ? {} : { metricName: s.metricName }),
    })),
    // A slow service is fixed by a faster version; anything else by one that fails less.
    metric: fixed.some((s) => s.metricName === "Duration") ? "latency" : "errors",
  };
}

const METRIC_WORDS: Readonly<Record<IncidentFix["metric"], string>> = {
  errors: "the failure rate",
  latency: "p99 latency",
};

/**
 * The one line approvers read about a fix deployed during an incident (email text and HTML,
 * approval page). Alarm names and the version are escaped for display.
 *
 * @example
 * ```ts
 * incidentFixText({ alarms: [{ name: "api-errors", since: "2026-11-01T12:00:00.000Z" }], metric: "errors", previousVersion: "4" });
 * // "Deploying during an incident: a fix for api-errors (in ALARM since 2026-11-01T12:00:00.000Z);
 * //  the version analysis judges it, not that alarm: it must do better than version 4 on the failure rate"
 * ```
 */
export function incidentFixText(fix: IncidentFix): string {
  const alarms = fix.alarms.map((a) => `${a.name} (in ALARM since ${a.since})`).join(" and ");
  const those = fix.alarms.length > 1 ? "not those alarms" : "not that alarm";
  const rival =
    fix.previousVersion === undefined
      ? "the version serving now"
      : `version ${fix.previousVersion}`;
  return displayText(
    `Deploying during an incident: a fix for ${alarms}; the version analysis judges it, ` +
      `${those}: it must do better than ${rival} on ${METRIC_WORDS[fix.metric]}`,
  );
}
