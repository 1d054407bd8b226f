import {
  type ApprovalProgress,
  describeAutoApproval,
  displayText,
  hideIdTokensInJson,
  html,
  type SafeHtml,
  type TriggerLike,
  triggerText,
  WORKFLOW_STATES,
} from "@gantry/core";
import type { DamagedFile } from "../../storage/durable-file.ts";
import { page } from "../layout.ts";
import { renderAnalysis } from "./analysis-view.ts";
import { renderDamageBanner } from "./damage-banner.ts";
import type { ApprovalPanel, DeploymentWorldSnapshot } from "./deployment-world.ts";
import type { ExecutionTracker, HistoryRow, StateRun } from "./execution-status.ts";
import { NODE_STATUSES } from "./execution-status.ts";
import { type ExecutionListing, OUTCOME_TEXT } from "./executions.ts";
import { formatClock, formatDateTime, formatDuration, prettyJson, shortVersion } from "./format.ts";
import type { GraphLayout } from "./graph-layout.ts";
import { nodeView, renderGraph, STATUS_TEXT } from "./graph-svg.ts";
import { holdOf, renderHold } from "./hold-view.ts";
import { CONSOLE_STYLES } from "./styles.ts";

/**
 * The execution view: the workflow drawn and coloured by what happened, the version analysis's
 * verdicts and the event history beside it, the selected state's input, output and error, and
 * the world around the deployment (traffic split, alarms, approval). Each part is also rendered on its own, for the live view
 * and the state links. Everything interpolated is escaped by `html`.
 */

export interface ExecutionView {
  readonly listing: ExecutionListing;
  readonly layout: GraphLayout;
  readonly tracker: ExecutionTracker;
  readonly rows: readonly HistoryRow[];
  readonly world: DeploymentWorldSnapshot;
  /** The state whose details are shown (defaults to the tracker's focus). */
  readonly selected?: string;
  /** `/executions/<state machine>/<name>` */
  readonly path: string;
  readonly now: number;
  /** Damaged files found since the start (the banner above everything). */
  readonly damaged?: readonly DamagedFile[];
}

/** The URL path of an execution's page. */
export function executionPath(stateMachineName: string, name: string): string {
  return `/executions/${encodeURIComponent(stateMachineName)}/${encodeURIComponent(name)}`;
}

/** The whole page. */
export function renderExecutionPage(view: ExecutionView): string {
  const { listing, tracker, layout } = view;
  const selected = view.selected ?? tracker.focus();
  const title = `${listing.service} ${shortVersion(listing.version)} → ${listing.stage}`;
  const graph = renderGraph(layout, {
    runs: (name) => tracker.run(name),
    taken: tracker.takenEdges(),
    ...(selected ? { selected } : {}),
    title: `The workflow as ${listing.stateMachineName} runs it, coloured by this execution`,
  });
  const body = html`${renderDamageBanner(view.damaged)}<p><a href="/">← Executions</a></p>
<h1>${listing.service} <code title="${listing.version}">${shortVersion(listing.version)}</code> → ${listing.stage}</h1>
<div id="summary">${renderSummary(view)}</div>
<div class="panels">
<section class="panel" id="traffic" aria-labelledby="traffic-h"><h2 id="traffic-h">Traffic</h2><div data-panel="traffic" aria-live="polite">${renderTraffic(view.world)}</div></section>
<section class="panel" id="alarms" aria-labelledby="alarms-h"><h2 id="alarms-h">Alarms</h2><div data-panel="alarms">${renderAlarms(view.world)}</div></section>
<section class="panel" id="approval" aria-labelledby="approval-h"><h2 id="approval-h">Approval</h2><div data-panel="approval" aria-live="polite">${renderApproval(view.world.approval, approvalRuns(tracker))}</div></section>
</div>
<div class="exec-grid" id="execution" data-path="${view.path}" data-status="${tracker.status}" data-last-event-id="${tracker.lastEventId}">
<section class="graph-area" aria-labelledby="graph-h">
<h2 id="graph-h">State machine</h2>
<div class="graph-tools" hidden>
<span class="muted">Zoom</span>
<button type="button" data-zoom="out" aria-label="Zoom out">−</button>
<button type="button" data-zoom="fit" aria-label="Fit the graph to the width">Fit</button>
<button type="button" data-zoom="in" aria-label="Zoom in">+</button>
<span class="muted" data-live-note></span>
</div>
${renderLegend()}
<div class="graph" id="graph" tabindex="0" role="region" aria-label="State machine graph (scrolls)">${graph}</div>
</section>
<div class="side">
<section class="analysis" id="analysis" aria-labelledby="analysis-h"><h2 id="analysis-h">Version analysis</h2><div data-panel="analysis" aria-live="polite">${renderAnalysis(tracker.progress)}</div></section>
<section aria-labelledby="history-h">
<h2 id="history-h">Event history <span class="muted" data-history-count>(${view.rows.length} events, oldest first)</span></h2>
<div class="history" id="history" tabindex="0" role="region" aria-label="Event history (scrolls)">
<table><thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Type</th><th scope="col">State</th></tr></thead>
<tbody id="history-rows">${renderHistoryRows(view.rows, selected)}</tbody></table>
</div>
</section>
<section class="state-panel" id="state" aria-live="polite" tabindex="-1">${renderStatePanel(view, selected, view.now)}</section>
</div>
</div>`;
  return page(title, body, { scripts: ["/console/console.js"], styles: CONSOLE_STYLES });
}

/** Status, outcome, times, the hold it waits in, and the execution's error. */
export function renderSummary(view: Pick<ExecutionView, "listing" | "tracker" | "now">): SafeHtml {
  const { listing, tracker } = view;
  const {
    status,
    outcome,
    finishedAt,
    error: historyError,
    cause: historyCause,
  } = tracker.progress;
  const stopped = finishedAt ?? listing.stopDate;
  const duration = (stopped ?? view.now) - listing.startDate;
  const error = historyError ?? listing.error;
  const cause = historyCause ?? listing.cause;
  // While a hold waits, what it holds and what ends it is the news: shown above the graph.
  const current = tracker.current;
  const hold = current ? holdOf(tracker.run(current)) : undefined;
  return html`<ul class="summary">
<li><span class="label">Status</span><span class="badge status-${status}" data-execution-status="${status}">${status}</span></li>
<li><span class="label">Outcome</span><span class="badge outcome-${outcome}" data-outcome="${outcome}">${OUTCOME_TEXT[outcome]}</span></li>
<li><span class="label">Started</span><time datetime="${new Date(listing.startDate).toISOString()}">${formatDateTime(listing.startDate)}</time></li>
<li><span class="label">${stopped === undefined ? "Running for" : "Took"}</span>${formatDuration(duration)}</li>
<li><span class="label">Execution</span><code>${listing.name}</code></li>
${renderTriggerItem(tracker)}
</ul>
${hold ? html`<div class="notice" data-hold-now>${renderHold(hold, view.now)}</div>` : ""}
${error ? html`<p class="notice bad" role="status"><strong>${error}</strong>${cause ? html`: ${cause}` : ""}</p>` : ""}`;
}

/**
 * Who triggered it, for the summary: the ID token's verified claims in full once ValidateInput
 * accepted them; otherwise the actor the caller named, marked as an unverified claim (which it
 * is until ValidateInput says otherwise, and stays if ValidateInput refused the request).
 */
function renderTriggerItem(tracker: Pick<ExecutionTracker, "progress">): SafeHtml {
  const { trigger, request } = tracker.progress;
  const actor = trigger?.actor ?? request?.trigger?.actor;
  if (!actor) return html``;
  return html`<li><span class="label">Triggered by</span>${renderTrigger(trigger ?? { actor })}</li>`;
}

/** A trigger, verified (in full, with a badge) or an unverified claim. Escaped by `html`. */
export function renderTrigger(trigger: TriggerLike): SafeHtml {
  const text = displayText(triggerText(trigger, "full"));
  return trigger.verified
    ? html`<span data-trigger="verified"><span class="badge outcome-deployed">verified</span> ${text}</span>`
    : html`<span data-trigger="unverified">${text}</span>`;
}

/** "v3 90% · v4 10%" with the function and alias. */
export function renderTraffic(world: DeploymentWorldSnapshot): SafeHtml {
  if (!world.traffic) return html`<p class="muted">${world.trafficNote ?? "no alias"}</p>`;
  const { functionName, alias, shares } = world.traffic;
  return html`<p class="split" data-traffic>${shares.map(
    (share, i) =>
      html`${i > 0 ? " · " : ""}<span data-version="${share.version}">v${share.version} ${share.percent}%</span>`,
  )}</p>
<p class="muted"><code>${functionName}:${alias}</code>${shares.length > 1 ? " (weighted: a rollout is under way)" : ""}</p>`;
}

/** The alarms the deployment's plan watches. */
export function renderAlarms(world: DeploymentWorldSnapshot): SafeHtml {
  if (world.alarms.length === 0) return html`<p class="muted">No alarms watched.</p>`;
  return html`<table><tbody>${world.alarms.map(
    (alarm) =>
      html`<tr data-alarm="${alarm.name}"><th scope="row"><code>${alarm.name}</code></th><td><span class="badge alarm-${alarm.state}">${alarm.state}</span></td></tr>
<tr><td colspan="2" class="muted">${alarm.reason} <span class="nowrap">(since ${formatClock(Date.parse(alarm.updatedAt))})</span></td></tr>`,
  )}</tbody></table>`;
}

/**
 * The approval: the record (never its token) with the decision and the emails in the outbox;
 * or, when there is no record, what the history says (not required, or refused).
 */
export function renderApproval(approval: ApprovalPanel | undefined, runs: ApprovalRuns): SafeHtml {
  const { gate } = runs;
  const fromState = verifiedDecision(runs) ?? gateFailure(gate);
  if (!approval) {
    if (!gate) return html`<p class="muted">Not reached yet.</p>`;
    if (gate.status === "running")
      return html`<p><span class="badge status-RUNNING">asking</span></p>`;
    return fromState ?? html`<p class="muted">No approval was asked.</p>`;
  }
  const { record, decision } = approval;
  const waiting = !decision && gate?.status === "running";
  let state: SafeHtml;
  if (decision) {
    // The record says what was decided; VerifyApproval whether the deployment went on with it.
    const verified = runs.verify?.status === "succeeded";
    state = html`<p><span class="badge ${decision.decision === "approved" ? "outcome-deployed" : "outcome-rejected"}">${decision.decision}</span>${verified ? html` <span class="badge outcome-deployed">verified</span>` : ""} by ${decision.by} at ${formatDateTime(Date.parse(decision.at))} (${decision.channel === "operator" ? "at a terminal" : "through the email link"})${decision.comment ? html`: “${displayText(decision.comment, { multiline: true })}”` : ""}</p>${verified ? "" : (fromState ?? "")}`;
  } else if (waiting) {
    state = html`<p><span class="badge status-RUNNING">waiting for a decision</span> until ${formatDateTime(Date.parse(record.expiresAt))}</p>
<p class="muted">Decide through the email's links, or at a terminal as a registered operator: <code>npx gantry approve ${record.id}</code></p>`;
  } else {
    state = fromState ?? html`<p class="muted">No decision.</p>`;
  }
  return html`<div data-approval-id="${record.id}">${state}
<p>Approvers: ${record.approvers.join(", ")}; asked at ${formatDateTime(Date.parse(record.requestedAt))}. Triggered by ${renderTrigger(record.trigger)}.</p>
${approval.messages.length > 0 ? html`<p>Emails: ${approval.messages.map((m, i) => html`${i > 0 ? ", " : ""}<a href="/outbox/${m.id}">to ${m.to}</a>`)}</p>` : html`<p class="muted">No email in the outbox yet.</p>`}</div>`;
}

/** What VerifyApproval said: the decision the deployment proceeds on, verified; or its refusal. */
function verifiedDecision({ verify, decision }: ApprovalRuns): SafeHtml | undefined {
  if (!verify || verify.status === "running" || verify.status === "not-reached") return undefined;
  if (verify.status !== "succeeded") {
    return html`<p><span class="badge outcome-rejected">not verified</span> <code>${verify.error ?? "?"}</code>${verify.cause ? html`: ${verify.cause}` : ""}</p>`;
  }
  if (decision?.status !== "approved" && decision?.status !== "not-required")
    return html`<p><span class="badge outcome-deployed">verified</span></p>`;
  if (decision.how === "auto" && decision.rule)
    return html`<p data-auto-approved><span class="badge outcome-deployed">approved, verified</span> ${describeAutoApproval(decision.rule)}</p>`;
  const how =
    decision.how === "not-required"
      ? "not required in this stage"
      : decision.how === "operator"
        ? "at a terminal"
        : decision.how === "approver"
          ? "through the email link"
          : "";
  return html`<p><span class="badge outcome-deployed">approved, verified</span> by ${decision.by ?? "?"}${decision.decidedAt ? html` at ${formatDateTime(Date.parse(decision.decidedAt))}` : ""}${how ? html` (${how})` : ""}</p>`;
}

/** The approval step's own error: rejected, or nobody decided in time. */
function gateFailure(gate: StateRun | undefined): SafeHtml | undefined {
  if (!gate || gate.status === "running" || gate.status === "not-reached") return undefined;
  if (gate.status === "succeeded") return undefined;
  return html`<p><span class="badge outcome-rejected">not approved</span> <code>${gate.error ?? "?"}</code>${gate.cause ? html`: ${gate.cause}` : ""}</p>`;
}

/** What the history says about the approval, for the approval panel. */
export interface ApprovalRuns {
  /** The last run of the state that waits for the approval (a `.waitForTaskToken` Task). */
  readonly gate: StateRun | undefined;
  /** The last run of VerifyApproval, which verifies the decision. */
  readonly verify: StateRun | undefined;
  /** The approval as the history reader read it (the verified decision, once there is one). */
  readonly decision: ApprovalProgress | undefined;
}

/** The approval gate's and VerifyApproval's runs, and the approval as read from the history. */
export function approvalRuns(tracker: ExecutionTracker): ApprovalRuns {
  return {
    gate: tracker.run(WORKFLOW_STATES.approvalGate),
    verify: tracker.run(WORKFLOW_STATES.verifyApproval),
    decision: tracker.progress.approval,
  };
}

/** History rows, oldest first. */
export function renderHistoryRows(rows: readonly HistoryRow[], selected?: string): SafeHtml {
  return html`${rows.map((row) => {
    const kind = /Failed|TimedOut|Aborted/.test(row.type)
      ? "fail"
      : row.type === "ExecutionSucceeded"
        ? "end-ok"
        : "";
    return html`<tr data-event-id="${row.id}"${kind ? html` class="${kind}"` : ""}${row.state && row.state === selected ? html` aria-current="true"` : ""}${row.state ? html` data-row-state="${row.state}"` : ""}><td>${row.id}</td><td class="nowrap"><time datetime="${new Date(row.timestamp).toISOString()}">${formatClock(row.timestamp)}</time></td><td>${row.type}</td><td>${row.state ? html`<a href="?state=${encodeURIComponent(row.state)}#state" data-select-state="${row.state}">${row.state}</a>` : ""}</td></tr>`;
  })}`;
}

/**
 * The selected state: status and visits, the hold (for HoldTrafficStep and Bake: what it holds
 * and how it ended), its error, its last input and output.
 */
export function renderStatePanel(
  view: Pick<ExecutionView, "layout" | "tracker">,
  name: string | undefined,
  now = Date.now(),
): SafeHtml {
  const node = name ? view.layout.graph.nodes.find((n) => n.name === name) : undefined;
  if (!node)
    return html`<h2 id="state-h">State details</h2><p class="muted">Select a state in the graph or the history to see its input, output and error.</p>`;
  const run = view.tracker.run(node.name);
  const shown = nodeView(node, run);
  const heading = html`<h2 id="state-h" data-selected-state="${node.name}">${node.name} <span class="muted">(${node.type})</span></h2>
<p><span class="badge node-badge-${shown.status}">${shown.glyph} ${shown.caption}</span></p>
${node.comment ? html`<p class="muted">${node.comment}</p>` : ""}`;
  if (!run) return html`${heading}<p>Not reached in this execution.</p>`;
  const times = html`<p class="muted">${run.visits > 1 ? html`The last of ${run.visits} visits: entered` : "Entered"} ${run.enteredAt !== undefined ? formatClock(run.enteredAt) : "?"}${run.exitedAt !== undefined && run.enteredAt !== undefined ? html`, left ${formatClock(run.exitedAt)} (${formatDuration(run.exitedAt - run.enteredAt)})` : ""}.</p>`;
  const error = run.error
    ? html`<div class="error"><h3>${run.status === "succeeded" ? "Error (an earlier attempt, retried)" : "Error"}</h3><p><code>${run.error}</code></p>${run.cause ? html`<pre>${prettyJson(run.cause)}</pre>` : ""}</div>`
    : "";
  const hold = holdOf(run);
  return html`${heading}${times}${hold ? html`<h3>Hold</h3>${renderHold(hold, now)}` : ""}${error}
<h3>Input</h3>${run.input !== undefined ? html`<pre data-state-input>${prettyJson(hideIdTokensInJson(run.input))}</pre>` : html`<p class="muted">none</p>`}
<h3>Output</h3>${run.output !== undefined ? html`<pre data-state-output>${prettyJson(hideIdTokensInJson(run.output))}</pre>` : html`<p class="muted">${run.status === "running" ? "Still running." : "None: the state did not complete."}</p>`}`;
}

function renderLegend(): SafeHtml {
  return html`<ul class="legend" aria-label="Legend">${NODE_STATUSES.map(
    (status) =>
      html`<li><span class="swatch s-${status}" aria-hidden="true">${STATUS_TEXT[status].glyph}</span>${STATUS_TEXT[status].words}${status === "running" ? " (waiting: a Task that waits for its callback)" : ""}</li>`,
  )}<li><span class="catch-line" aria-hidden="true"></span>Catch (labelled with the errors it catches)</li><li><span class="taken-line" aria-hidden="true"></span>the path taken</li></ul>`;
}
