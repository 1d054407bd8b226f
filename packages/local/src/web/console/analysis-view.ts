import {
  type DeploymentProgress,
  formatP,
  html,
  type ResolvedAnalysisPolicy,
  type SafeHtml,
  type VerdictReading,
  type VersionSample,
  verdictPlace,
} from "@gantry/core";
import { formatClock } from "./format.ts";

/**
 * The "Version analysis" panel beside the graph: every verdict the execution's checks gave
 * (CheckAlarms' and CheckBakeAlarms' `$.rollout.analysis`, as the history reader reads them),
 * oldest first. Each shows the hold, the decision, both versions' requests, failures, rates,
 * synthetic requests and p99s, the error-rate test's p-value, the p99 ratio and, for a fix
 * deployed during an incident, the fix rule. The verdict that stopped the deployment is
 * marked, and open with the latest; earlier ones fold to their heading. Everything
 * interpolated is escaped by `html`.
 */

/** How each decision reads, and the badge it wears. */
const DECISIONS: Readonly<Record<VerdictReading["decision"], { words: string; badge: string }>> = {
  pass: { words: "pass", badge: "outcome-deployed" },
  fail: { words: "failed", badge: "outcome-failed" },
  insufficient: { words: "too little data", badge: "outcome-failed" },
  extend: { words: "held once more", badge: "outcome-rejected" },
  skipped: { words: "skipped", badge: "status-ABORTED" },
};

/** True for the verdicts that stopped the deployment. */
function stopped(verdict: VerdictReading): boolean {
  return verdict.decision === "fail" || verdict.decision === "insufficient";
}

function percent(sample: VersionSample): string {
  return sample.requests > 0 ? `${((sample.failures / sample.requests) * 100).toFixed(1)}%` : "–";
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function sampleRow(sample: VersionSample, role: string): SafeHtml {
  const synthetic =
    sample.synthetic > 0
      ? `${count(sample.synthetic)} (${count(sample.syntheticFailures)} failed)`
      : "–";
  return html`<tr data-sample="${role}"><th scope="row">v${sample.version} <span class="muted">${role}</span></th><td>${count(sample.requests)}</td><td>${count(sample.failures)}</td><td>${percent(sample)}</td><td>${synthetic}</td><td>${sample.p99Ms !== undefined ? `${Math.round(sample.p99Ms)} ms` : "–"}</td></tr>`;
}

/** The tests behind the decision: error rate, p99, and the fix rule. */
function tests(verdict: VerdictReading): SafeHtml {
  const { errorRate, latency, fix } = verdict;
  const sign = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)}`;
  const errors = errorRate
    ? html`<li data-test="error-rate"${errorRate.regressed ? html` class="bad"` : ""}>Error rate: ${sign(errorRate.increasePoints)} points (at most +${errorRate.maxIncreasePoints}), Fisher p = ${formatP(errorRate.pValue)} (regressed when below ${formatP(errorRate.alpha)})${errorRate.regressed ? ": regressed" : ""}</li>`
    : html`<li data-test="error-rate" class="muted">Error rate: not tested (too few requests)</li>`;
  const p99 = latency.judged
    ? html`<li data-test="latency"${latency.regressed ? html` class="bad"` : ""}>p99: ${latency.ratio.toFixed(2)}x (${Math.round(latency.newP99Ms)} ms vs ${Math.round(latency.previousP99Ms)} ms, at most ${latency.maxRatio}x)${latency.regressed ? ": regressed" : ""}</li>`
    : html`<li data-test="latency" class="muted">p99: not judged (${latency.reason})</li>`;
  const rule = fix
    ? html`<li data-test="fix"${fix.improved ? "" : html` class="bad"`}>Fix for ${fix.alarms.map((a, i) => html`${i > 0 ? ", " : ""}<code>${a}</code>`)}: must beat v${verdict.previousVersion.version} on ${fix.metric === "latency" ? "p99" : "the error rate"}${fix.pValue !== undefined ? `, Fisher p = ${formatP(fix.pValue)}` : ""}: ${fix.improved ? "better" : "not better"}</li>`
    : "";
  return html`<ul class="verdict-tests">${errors}${p99}${rule}</ul>`;
}

/**
 * One verdict, as a disclosure: its heading (where, decision, when) always shows; the numbers
 * are open for the latest verdict and the one that stopped the deployment, so a long rollout's
 * earlier passes take one line each.
 */
function renderVerdict(verdict: VerdictReading, index: number, latest: boolean): SafeHtml {
  const shown = DECISIONS[verdict.decision];
  const bad = stopped(verdict);
  const at = Date.parse(verdict.at);
  const baseline = verdict.baseline
    ? html`<p class="muted">The bake: v${verdict.previousVersion.version} measured before the rollout (${verdict.baseline.from} to ${verdict.baseline.to}).</p>`
    : "";
  return html`<details class="verdict${bad ? " bad" : ""}" data-verdict="${verdict.decision}" data-verdict-index="${index}"${bad ? html` data-verdict-failing` : ""}${bad || latest ? html` open` : ""}>
<summary><strong>${verdictPlace(verdict)}</strong> <span class="badge ${shown.badge}">${shown.words}</span>${verdict.failure ? html` <code>${verdict.failure}</code>` : ""}${Number.isFinite(at) ? html` <time class="muted" datetime="${verdict.at}">${formatClock(at)}</time>` : ""}</summary>
<table><thead><tr><th scope="col">Version</th><th scope="col">Requests</th><th scope="col">Failed</th><th scope="col">Rate</th><th scope="col">Synthetic</th><th scope="col">p99</th></tr></thead>
<tbody>${sampleRow(verdict.newVersion, "new")}${sampleRow(verdict.previousVersion, "previous")}</tbody></table>
${tests(verdict)}${baseline}
<p class="verdict-summary">${verdict.summary}</p>
</details>`;
}

/** The policy in one sentence: what fails a version, and what a short sample does. */
function renderPolicy(policy: ResolvedAnalysisPolicy): SafeHtml {
  const short =
    policy.whenInsufficient === "synthesize"
      ? `the canary's requests make up a shortfall of at most ${policy.maxSyntheticRequests}`
      : policy.whenInsufficient === "extend"
        ? "a short hold is held once more"
        : "a short hold fails InsufficientData";
  return html`<p class="muted" data-analysis-policy>Fails the new version at more than +${policy.maxErrorRateIncrease} point${policy.maxErrorRateIncrease === 1 ? "" : "s"} of error rate at ${Number((policy.confidence * 100).toPrecision(6))}% confidence (one-sided Fisher exact test), or a p99 over ${policy.maxLatencyRatio}x the previous version's (and more than ${policy.minLatencyIncreaseMs} ms above it); ${policy.minRequests} requests per version before a verdict, else ${short}.</p>`;
}

/**
 * The panel's content for an execution: its policy, the alarms a fix is for, and each verdict.
 *
 * @example
 * ```ts
 * const panel = renderAnalysis(tracker.progress);
 * panel.value; // '<p class="muted" data-analysis-policy>…</p><details class="verdict" data-verdict="pass" …'
 * ```
 */
export function renderAnalysis(
  progress: Pick<DeploymentProgress, "verdicts" | "analysisPolicy" | "fixFor">,
): SafeHtml {
  const { verdicts, analysisPolicy, fixFor } = progress;
  if (!analysisPolicy && verdicts.length === 0) {
    return html`<p class="muted">No version analysis in this deployment: only the alarms judge it.</p>`;
  }
  const fix =
    fixFor && fixFor.length > 0
      ? html`<p class="notice" data-fix-for>Deployed during an incident, as a fix for ${fixFor.map((a, i) => html`${i > 0 ? ", " : ""}<code>${a}</code>`)}: that alarm does not stop it; the new version must do better than the previous one on the failing metric.</p>`
      : "";
  const list =
    verdicts.length > 0
      ? html`${verdicts.map((verdict, i) => renderVerdict(verdict, i, i === verdicts.length - 1))}`
      : html`<p class="muted">No verdict yet: each hold ends with one.</p>`;
  return html`${analysisPolicy ? renderPolicy(analysisPolicy) : ""}${fix}${list}`;
}
