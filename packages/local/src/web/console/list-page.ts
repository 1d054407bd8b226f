import { type DeploymentOutcome, html, type SafeHtml } from "@gantry/core";
import type { DamagedFile } from "../../storage/durable-file.ts";
import { page } from "../layout.ts";
import { renderDamageBanner } from "./damage-banner.ts";
import { executionPath } from "./execution-page.ts";
import {
  EXECUTION_STATUSES,
  type ExecutionFilter,
  type ExecutionListing,
  OUTCOME_TEXT,
} from "./executions.ts";
import { formatDateTime, formatDuration, shortVersion } from "./format.ts";
import { CONSOLE_STYLES } from "./styles.ts";

/**
 * The executions list: newest first, filtered by a plain GET form (service, status, stage) that
 * works without JavaScript, paginated. Every value is escaped by `html`.
 */

export interface ListView {
  readonly rows: readonly (ExecutionListing & { readonly outcome: DeploymentOutcome })[];
  /** How many executions match the filter in all. */
  readonly total: number;
  readonly filter: ExecutionFilter;
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
  readonly services: readonly string[];
  readonly stages: readonly string[];
  readonly now: number;
  /** Damaged files found since the start (the banner above everything). */
  readonly damaged?: readonly DamagedFile[];
}

/** The page. */
export function renderListPage(view: ListView): string {
  const { filter } = view;
  const filtered = Boolean(filter.service || filter.status || filter.stage);
  const first = view.total === 0 ? 0 : (view.page - 1) * view.pageSize + 1;
  const last = Math.min(view.total, view.page * view.pageSize);
  const body = html`${renderDamageBanner(view.damaged)}<h1>Executions</h1>
<form class="filters" method="get" action="/" role="search" aria-label="Filter executions">
${select("service", "Service", view.services, filter.service)}
${select("status", "Status", EXECUTION_STATUSES, filter.status)}
${select("stage", "Stage", view.stages, filter.stage)}
<div class="actions"><button type="submit">Filter</button>${filtered ? html`<a href="/">Clear filters</a>` : ""}</div>
</form>
${
  view.total === 0
    ? html`<p data-empty>${filtered ? "No execution matches these filters." : html`No executions yet. Start one with <code>npm run demo</code>, <code>npx gantry deploy</code> or the AWS CLI (see the README).`}</p>`
    : html`<p class="muted" aria-live="polite" data-count="${view.total}">Showing ${first}–${last} of ${view.total} execution${view.total === 1 ? "" : "s"}, newest first.</p>
<table class="executions">
<thead><tr><th scope="col">Service</th><th scope="col">Version</th><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Outcome</th></tr></thead>
<tbody>${view.rows.map((row) => renderRow(row, view.now))}</tbody>
</table>
${pager(view)}`
}`;
  return page("Executions", body, { styles: CONSOLE_STYLES });
}

function renderRow(row: ListView["rows"][number], now: number): SafeHtml {
  const duration = (row.stopDate ?? now) - row.startDate;
  return html`<tr data-execution="${row.name}" data-service="${row.service}" data-status="${row.status}" data-stage="${row.stage}">
<td>${row.service}</td>
<td class="version"><a href="${executionPath(row.stateMachineName, row.name)}" title="${row.version} (execution ${row.name})">${shortVersion(row.version)}</a></td>
<td>${row.stage}</td>
<td><span class="badge status-${row.status}">${row.status}</span></td>
<td class="nowrap"><time datetime="${new Date(row.startDate).toISOString()}">${formatDateTime(row.startDate)}</time></td>
<td class="nowrap">${formatDuration(duration)}${row.stopDate === undefined ? " so far" : ""}</td>
<td><span class="badge outcome-${row.outcome}" data-outcome="${row.outcome}">${OUTCOME_TEXT[row.outcome]}</span>${row.error && row.outcome !== "running" ? html` <code class="muted">${row.error}</code>` : ""}</td>
</tr>`;
}

function select(
  name: string,
  label: string,
  options: readonly string[],
  value: string | undefined,
): SafeHtml {
  return html`<div><label for="filter-${name}">${label}</label><select id="filter-${name}" name="${name}">
<option value="">All</option>${options.map(
    (option) =>
      html`<option value="${option}"${option === value ? html` selected` : ""}>${option}</option>`,
  )}</select></div>`;
}

function pager(view: ListView): SafeHtml {
  const pages = Math.max(1, Math.ceil(view.total / view.pageSize));
  if (pages === 1) return html``;
  const link = (n: number) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(view.filter)) if (value) params.set(key, value);
    if (n > 1) params.set("page", String(n));
    const query = params.toString();
    return query ? `/?${query}` : "/";
  };
  return html`<nav class="pager" aria-label="Pages">
${view.page > 1 ? html`<a href="${link(view.page - 1)}" rel="prev">← Newer</a>` : ""}
<span>Page ${view.page} of ${pages}</span>
${view.page < pages ? html`<a href="${link(view.page + 1)}" rel="next">Older →</a>` : ""}
</nav>`;
}
