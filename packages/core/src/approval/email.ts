import type { EmailMessage } from "../ports.ts";
import { displayText } from "../text.ts";
import { triggerText } from "../trigger/describe.ts";
import { html } from "./html.ts";
import { incidentFixText } from "./incident.ts";
import type { ApprovalRecord } from "./record.ts";

export interface ApprovalEmailInput {
  readonly record: ApprovalRecord;
  readonly approver: string;
  readonly approveUrl: string;
  readonly rejectUrl: string;
  readonly from: string;
}

/**
 * The email an approver receives: what is being deployed, from where, with what evidence, by
 * whom, how it will roll out, and two links bound to this approver. Plain text and HTML say
 * the same thing. A fix deployed during an incident says so first, in the subject and above
 * everything else.
 *
 * @example
 * ```ts
 * const message = approvalEmail({ record, approver: "alice@example.com", approveUrl, rejectUrl, from });
 * await mailer.send(message);
 * ```
 */
export function approvalEmail(input: ApprovalEmailInput): EmailMessage {
  const { record, approver, approveUrl, rejectUrl, from } = input;
  const short = record.version.slice(0, 12);
  const facts = approvalFacts(record);
  const incident = record.fix ? incidentFixText(record.fix) : undefined;
  const subject = displayText(
    `[Gantry] Approve ${record.service} ${short} for ${record.stage}${incident ? " (incident fix)" : ""}?`,
  );
  const actor = displayText(record.trigger.actor);

  const text = [
    `${actor} wants to deploy ${record.service} ${short} to ${record.stage}.`,
    "",
    ...(incident ? [`${incident}.`, ""] : []),
    ...facts.map(([label, value]) => `${label}: ${value}`),
    "",
    `Approve: ${approveUrl}`,
    `Reject:  ${rejectUrl}`,
    "",
    "Each link opens a confirmation page; nothing is decided until you confirm there.",
    `The links are for ${approver} only and expire at ${record.expiresAt}.`,
  ].join("\n");

  const body = html`<!doctype html>
<html lang="en"><body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:640px">
<h1 style="font-size:1.25rem">${actor} wants to deploy ${record.service} ${short} to ${record.stage}</h1>
${incident ? html`<p style="border:2px solid #9a6700;border-radius:6px;padding:8px 12px"><strong>${incident}.</strong></p>` : ""}
<table style="border-collapse:collapse">${facts.map(
    ([label, value]) =>
      html`<tr><th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top">${label}</th><td style="font-family:ui-monospace,monospace;word-break:break-all">${value}</td></tr>`,
  )}</table>
<p>
<a href="${approveUrl}" style="display:inline-block;padding:10px 18px;background:#1a7f37;color:#fff;text-decoration:none;border-radius:6px">Review and approve</a>
<a href="${rejectUrl}" style="display:inline-block;padding:10px 18px;background:#cf222e;color:#fff;text-decoration:none;border-radius:6px;margin-left:8px">Review and reject</a>
</p>
<p style="color:#555">Each link opens a confirmation page; nothing is decided until you confirm there.
The links are for ${approver} only and expire at ${record.expiresAt}.</p>
</body></html>`;

  return { from, to: [approver], subject, text, html: body.value };
}

/** The label/value pairs shown in emails and on the confirmation page. */
export function approvalFacts(record: ApprovalRecord): [string, string][] {
  const preprod = record.preprod;
  const evidence =
    preprod === undefined || !preprod.required
      ? "not required for this stage"
      : `validated by ${preprod.validatedBy} at ${preprod.validatedAt}; preprod serves these bytes ` +
        `as version ${preprod.preprodVersion}; preprod alarms OK${preprod.ciRunUrl ? ` (${preprod.ciRunUrl})` : ""}`;
  const steps =
    record.rollout.steps.length > 0
      ? `${record.rollout.steps.join("% → ")}% → 100%`
      : "100% at once";
  const rows: [string, string][] = [
    ["Service", record.service],
    ["Stage", record.stage],
    ["Version", record.version],
  ];
  if (record.fix) rows.push(["Incident fix", incidentFixText(record.fix)]);
  if (record.commitUrl) rows.push(["Commit", record.commitUrl]);
  rows.push(
    ["Artifact", record.artifactKey],
    ["SHA-256", record.sha256],
    ["Preprod evidence", evidence],
    ["Triggered by", triggerText(record.trigger, "full")],
  );
  if (record.trigger.ciRunUrl) rows.push(["CI run", record.trigger.ciRunUrl]);
  rows.push(
    [
      "Rollout",
      `${steps}, each step held ${formatSeconds(record.rollout.stepWaitSeconds)}, bake ${formatSeconds(record.rollout.bakeSeconds)}`,
    ],
    ["Watched alarms", watchedAlarms(record)],
    ["Execution", record.execution.name],
    ["Expires", record.expiresAt],
  );
  // Every field was validated where it entered; escaping here as well means a field that
  // slipped through still cannot forge a line or hide text in the email or the page.
  return rows.map(([label, value]) => [label, displayText(value)]);
}

/** The registry's alarms, and which of them a fix leaves to the version analysis. */
function watchedAlarms(record: ApprovalRecord): string {
  const all = record.rollout.alarms.join(", ") || "(none)";
  const fixed = record.fix?.alarms.map((a) => a.name) ?? [];
  return fixed.length === 0
    ? all
    : `${all} (not ${fixed.join(", ")}: this deployment fixes ${fixed.length > 1 ? "them" : "it"})`;
}

function formatSeconds(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Math.round(seconds * 10) / 10} s`;
}
