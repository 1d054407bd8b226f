import { displayText } from "../text.ts";
import type { ApprovalRefused, CheckedLink, DecisionOutcome } from "./decide.ts";
import { MAX_COMMENT_LENGTH } from "./decide.ts";
import { approvalFacts } from "./email.ts";
import { html, SafeHtml } from "./html.ts";
import { incidentFixText } from "./incident.ts";

/**
 * The approval pages: standalone, plain HTML that works without JavaScript and reads well on a
 * phone. The confirmation page shows what is being decided and a form; only that form's POST
 * decides. Nothing here ever contains a task token or a signing key: the form re-sends the
 * link's own (public, signed) parameters.
 */
// Stryker disable next-line StringLiteral: presentation only (colours, layout); the page's words, headings and form are tested
const STYLE = new SafeHtml(`
:root { color-scheme: light dark; --fg:#1f2328; --muted:#59636e; --bg:#fff; --line:#d1d9e0; --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --focus:#0969da; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --muted:#9198a1; --bg:#0d1117; --line:#30363d; } }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 44rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; line-height: 1.3; margin: .5rem 0 1rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { width: 11rem; font-weight: 600; }
td { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; word-break: break-word; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
textarea { width: 100%; min-height: 5rem; font: inherit; padding: .5rem; border: 1px solid var(--line); border-radius: .3rem; background: var(--bg); color: var(--fg); }
button { font: inherit; font-weight: 600; padding: .75rem 1.5rem; border: 0; border-radius: .4rem; color: #fff; cursor: pointer; margin-top: 1rem; width: 100%; max-width: 20rem; }
.approve { background: var(--ok); } .reject { background: var(--bad); }
.notice { border: 2px solid var(--line); border-radius: .4rem; padding: .75rem 1rem; margin: 1rem 0; }
.notice.ok { border-color: var(--ok); } .notice.bad { border-color: var(--bad); } .notice.warn { border-color: var(--warn); }
.muted { color: var(--muted); font-size: .95em; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
@media (max-width: 36rem) { th, td { display: block; width: auto; border: 0; padding: .1rem 0; } tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; } }
`);

function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title} · Gantry</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`.value;
}

function factsTable(view: { record: CheckedLink["record"] }) {
  return html`<table><tbody>${approvalFacts(view.record).map(
    ([label, value]) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`,
  )}</tbody></table>`;
}

/**
 * The confirmation page a GET shows: the details and one button. The form posts the link's own
 * parameters (including its key id and signature, public parts of the link) back to the same path.
 * A fix deployed during an incident is announced in a notice above the details.
 *
 * @example
 * ```ts
 * const body = confirmationPage(checked, `/approvals/${checked.record.id}`, { kid, sig });
 * ```
 */
export function confirmationPage(
  view: CheckedLink,
  formAction: string,
  link: { readonly kid: string; readonly sig: string },
): string {
  const { record, claims } = view;
  const approve = claims.action === "approve";
  const verb = approve ? "Approve" : "Reject";
  const short = record.version.slice(0, 12);
  return page(
    `${verb} ${record.service} ${short}`,
    html`<h1>${verb} the deployment of ${record.service} ${short} to ${record.stage}?</h1>
${record.fix ? html`<div class="notice warn" role="note"><p><strong>${incidentFixText(record.fix)}.</strong></p></div>` : ""}
<p>${displayText(record.trigger.actor)} asked for this deployment (${record.trigger.verified ? "verified by an ID token: see Triggered by" : "unverified: the caller's claim, no ID token"}). You are deciding as <strong>${claims.approver}</strong>.
Nothing happens until you press the button below.</p>
${factsTable(view)}
<form method="post" action="${formAction}">
<input type="hidden" name="action" value="${claims.action}">
<input type="hidden" name="approver" value="${claims.approver}">
<input type="hidden" name="exp" value="${String(claims.expiresAt)}">
<input type="hidden" name="kid" value="${link.kid}">
<input type="hidden" name="sig" value="${link.sig}">
<label for="comment">Comment (optional, kept with the decision)</label>
<textarea id="comment" name="comment" maxlength="${String(MAX_COMMENT_LENGTH)}"></textarea>
<button type="submit" class="${approve ? "approve" : "reject"}">${verb} deployment</button>
</form>
<p class="muted">This link is yours alone and can be used once. It expires at ${record.expiresAt}.</p>`,
  );
}

/** After the POST: what was decided and what happens next. */
export function decidedPage(outcome: DecisionOutcome): string {
  const { record, decision } = outcome;
  const approved = decision.decision === "approved";
  const short = record.version.slice(0, 12);
  return page(
    approved ? "Approved" : "Rejected",
    html`<div class="notice ${approved ? "ok" : "bad"}" role="status">
<h1>${approved ? "Approved" : "Rejected"}: ${record.service} ${short} to ${record.stage}</h1>
<p>${approved ? "The deployment carries on: your decision is verified, the artifact is copied, then rolled out step by step under its alarms." : `The deployment stops here; nothing was changed in ${record.stage}.`}</p>
</div>
<table><tbody>
<tr><th scope="row">Decided by</th><td>${decision.by}</td></tr>
<tr><th scope="row">At</th><td>${decision.at}</td></tr>
${decision.comment ? html`<tr><th scope="row">Comment</th><td>${decision.comment}</td></tr>` : ""}
<tr><th scope="row">Execution</th><td>${record.execution.name}</td></tr>
</tbody></table>`,
  );
}

/** A refusal: 400, 403, 404, 409 (saying by whom and when) or 410, as a readable page. */
export function refusedPage(refused: ApprovalRefused): string {
  const tone = refused.status === 409 ? "warn" : "bad";
  const decision = refused.decision;
  return page(
    refused.title,
    html`<div class="notice ${tone}" role="alert">
<h1>${refused.title}</h1>
<p>${refused.message}</p>
</div>
${decision ? html`<table><tbody><tr><th scope="row">Decision</th><td>${decision.decision}</td></tr><tr><th scope="row">By</th><td>${decision.by}</td></tr><tr><th scope="row">At</th><td>${decision.at}</td></tr></tbody></table>` : ""}
<p class="muted">Nothing was changed by opening this page.</p>`,
  );
}

/** For paths that are not approval links at all. */
export function notFoundPage(): string {
  return page("Not found", html`<h1>Not found</h1><p>This is not an approval link.</p>`);
}
