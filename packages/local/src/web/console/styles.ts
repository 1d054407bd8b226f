/**
 * The console's stylesheet, added to the page shell's (layout.ts). Inline, as the
 * Content-Security-Policy allows styles only that way. Node colours come in light and dark
 * pairs; every status also has a glyph, words and an outline of its own.
 */
export const CONSOLE_STYLES = `
:root { --ok-bg: #dafbe1; --bad-bg: #ffebe9; --warn-bg: #fff8c5; --run-bg: #ddf4ff; --catch: #bc4c00; --panel: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --bad: #f85149; --warn: #d29922; --run: #4493f8; --ok-bg: #12361f; --bad-bg: #3d1418; --warn-bg: #3b2e0a; --run-bg: #0c2d57; --catch: #f0883e; --panel: #161b22; } }
main { max-width: 100rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; border: 1px solid var(--line); font-size: .85em; white-space: nowrap; }
.badge::before { margin-right: .3em; }
.badge.status-RUNNING, .badge.outcome-running { border-color: var(--run); background: var(--run-bg); }
.badge.status-RUNNING::before, .badge.outcome-running::before { content: "●"; color: var(--run); }
.badge.status-SUCCEEDED, .badge.outcome-deployed { border-color: var(--ok); background: var(--ok-bg); }
.badge.status-SUCCEEDED::before, .badge.outcome-deployed::before { content: "✓"; color: var(--ok); }
.badge.status-FAILED, .badge.status-TIMED_OUT, .badge.outcome-failed, .badge.outcome-timed-out { border-color: var(--bad); background: var(--bad-bg); }
.badge.status-FAILED::before, .badge.status-TIMED_OUT::before, .badge.outcome-failed::before, .badge.outcome-timed-out::before { content: "✕"; color: var(--bad); }
.badge.status-ABORTED, .badge.outcome-aborted, .badge.outcome-rejected, .badge.outcome-rolled-back { border-color: var(--warn); background: var(--warn-bg); }
.badge.status-ABORTED::before, .badge.outcome-aborted::before { content: "■"; color: var(--warn); }
.badge.outcome-rolled-back::before { content: "↩"; color: var(--warn); }
.badge.outcome-rejected::before { content: "⊘"; color: var(--warn); }
.badge.alarm-OK { border-color: var(--ok); } .badge.alarm-OK::before { content: "✓"; color: var(--ok); }
.badge.alarm-ALARM { border-color: var(--bad); background: var(--bad-bg); } .badge.alarm-ALARM::before { content: "!"; color: var(--bad); font-weight: 700; }
.badge.alarm-INSUFFICIENT_DATA::before { content: "…"; }

/* the executions list */
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin: 0 0 1rem; padding: .75rem; background: var(--panel); border: 1px solid var(--line); border-radius: .4rem; }
.filters label { margin: 0 0 .2rem; font-size: .9rem; }
.filters select { width: auto; min-width: 9rem; }
.filters .actions { display: flex; gap: .75rem; align-items: center; }
.filters button { font: inherit; padding: .4rem 1rem; border-radius: .3rem; border: 1px solid var(--run); background: var(--run); color: #fff; cursor: pointer; }
.executions td.version a { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.pager { display: flex; gap: 1rem; align-items: center; margin: 1rem 0; flex-wrap: wrap; }
.nowrap { white-space: nowrap; }

/* the execution view */
.summary { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: 0 0 .5rem; padding: 0; list-style: none; }
.summary li { min-width: 0; overflow-wrap: anywhere; }
.summary .label { color: var(--muted); margin-right: .35rem; }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .75rem; margin: .75rem 0 1rem; }
.panel { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .8rem; background: var(--panel); min-width: 0; overflow-wrap: anywhere; }
.panel h2 { margin: 0 0 .4rem; font-size: 1rem; }
.panel table { font-size: .9rem; }
.panel th, .panel td { padding: .2rem .4rem; }
.panel p { margin: .25rem 0; }
.split { font-size: 1.2rem; font-weight: 600; }
.exec-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(20rem, 32rem); gap: 1rem; align-items: start; }
.graph-area { min-width: 0; }
.graph-tools { display: flex; gap: .5rem; align-items: center; margin: 0 0 .4rem; flex-wrap: wrap; }
.graph-tools[hidden] { display: none; }
.graph-tools button { font: inherit; font-size: .9rem; padding: .15rem .6rem; border: 1px solid var(--line); border-radius: .3rem; background: var(--bg); color: var(--fg); cursor: pointer; }
.graph { overflow: auto; border: 1px solid var(--line); border-radius: .4rem; background: var(--bg); }
.graph svg { display: block; max-width: 100%; height: auto; margin: 0 auto; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.graph.zoomed svg { max-width: none; }
.side { min-width: 0; display: flex; flex-direction: column; gap: 1rem; position: sticky; top: .5rem; max-height: calc(100vh - 1rem); overflow: auto; }
.side h2 { margin-top: 0; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem .9rem; margin: 0 0 .5rem; padding: 0; list-style: none; font-size: .85rem; }
.legend .swatch { display: inline-block; width: 1.4em; text-align: center; border-radius: .25rem; border: 1.5px solid var(--line); margin-right: .3rem; }
.legend .s-running { border-color: var(--run); background: var(--run-bg); border-width: 2.5px; }
.legend .s-succeeded { border-color: var(--ok); background: var(--ok-bg); }
.legend .s-caught { border-color: var(--warn); background: var(--warn-bg); border-style: dashed; }
.legend .s-failed { border-color: var(--bad); background: var(--bad-bg); border-width: 2.5px; }
.legend .s-not-reached { border-style: dashed; }
.legend .catch-line { display: inline-block; width: 2em; border-top: 2px dashed var(--catch); vertical-align: middle; margin-right: .3rem; }
.legend .taken-line { display: inline-block; width: 2em; border-top: 3px solid var(--fg); vertical-align: middle; margin-right: .3rem; }
.history { max-height: 40vh; overflow: auto; border: 1px solid var(--line); border-radius: .4rem; }
.history table { font-size: .85rem; }
.history th { position: sticky; top: 0; background: var(--panel); }
.history td, .history th { padding: .2rem .45rem; }
.history tr.fail td { background: var(--bad-bg); }
.history tr.end-ok td { background: var(--ok-bg); }
.history tr[aria-current="true"] td { background: var(--run-bg); }
.history tr[aria-current="true"] td:first-child { box-shadow: inset 4px 0 0 var(--run); }
.history a { color: inherit; }
.state-panel { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .8rem; scroll-margin-top: 1rem; }
.state-panel h2 { margin-top: 0; }
.state-panel pre { max-height: 24rem; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); border: 1px solid var(--line); border-radius: .3rem; padding: .4rem .6rem; margin: .25rem 0 .75rem; font-size: .8rem; }
.state-panel .error { border-left: 4px solid var(--bad); padding-left: .6rem; }
.hold p { margin: .3rem 0; }
.analysis { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .8rem; background: var(--panel); }
.analysis h2 { margin-top: 0; }
.analysis p { margin: .25rem 0; }
.verdict { border-left: 4px solid var(--ok); padding: .2rem 0 .2rem .6rem; margin: .6rem 0; }
.verdict summary { cursor: pointer; font-size: .95rem; }
.verdict[open] summary { margin-bottom: .3rem; }
.verdict table { font-size: .85rem; }
.verdict th, .verdict td { padding: .1rem .4rem; text-align: right; }
.verdict th[scope="row"], .verdict thead th:first-child { text-align: left; }
.verdict-tests { margin: .3rem 0; padding-left: 1.1rem; font-size: .9rem; }
.verdict-tests .bad { color: var(--bad); font-weight: 600; }
.verdict-summary { font-size: .85rem; overflow-wrap: anywhere; }
.verdict[data-verdict="extend"], .verdict[data-verdict="skipped"] { border-left-color: var(--warn); }
.verdict.bad { border-left-color: var(--bad); background: var(--bad-bg); border-radius: 0 .3rem .3rem 0; }
.hold[data-hold="waiting"] { border-left: 4px solid var(--run); padding-left: .6rem; }
.hold[data-hold="alarm"], .hold[data-hold="failed"] { border-left: 4px solid var(--warn); padding-left: .6rem; }
.notice { overflow-wrap: anywhere; }
.damaged h2 { font-size: 1.1rem; margin: 0 0 .5rem; color: var(--bad); }
.damaged ul { margin: .5rem 0 0; padding-left: 1.2rem; }
.badge.node-badge-running { border-color: var(--run); background: var(--run-bg); }
.badge.node-badge-succeeded { border-color: var(--ok); background: var(--ok-bg); }
.badge.node-badge-caught { border-color: var(--warn); background: var(--warn-bg); border-style: dashed; }
.badge.node-badge-failed { border-color: var(--bad); background: var(--bad-bg); }
.badge.node-badge-not-reached { border-style: dashed; }

/* the graph */
.graph-svg .group rect { fill: none; stroke: var(--bad); stroke-opacity: .45; stroke-dasharray: 2 3; }
.graph-svg .group text { fill: var(--muted); font-size: 12px; font-weight: 600; }
.graph-svg .edge path { fill: none; stroke: var(--muted); stroke-width: 1.3; }
.graph-svg .edge .arrow { fill: var(--muted); }
.graph-svg .edge[data-edge-kind="catch"] path { stroke: var(--catch); stroke-dasharray: 6 4; stroke-opacity: .8; }
.graph-svg .arrow-catch { fill: var(--catch); }
.graph-svg .edge[data-taken="true"] path { stroke: var(--fg); stroke-width: 2.6; stroke-opacity: 1; }
.graph-svg .arrow-taken { fill: var(--fg); }
.graph-svg .edge-label { font-size: 11px; fill: var(--muted); }
.graph-svg .edge[data-edge-kind="catch"] .edge-label { fill: var(--catch); font-style: italic; }
.graph-svg .edge-label-bg { fill: var(--bg); fill-opacity: .9; }
.graph-svg .node { cursor: pointer; }
.graph-svg .node .shape { fill: var(--bg); stroke: var(--line); stroke-width: 1.5; }
.graph-svg .node-name { font-size: 13px; font-weight: 600; fill: var(--fg); }
.graph-svg .node-caption { font-size: 11px; fill: var(--fg); }
.graph-svg .node[data-status="not-reached"] .shape { stroke-dasharray: 4 3; stroke: var(--muted); stroke-opacity: .6; }
.graph-svg .node[data-status="not-reached"] text { fill: var(--muted); }
.graph-svg .node[data-status="running"] .shape { fill: var(--run-bg); stroke: var(--run); stroke-width: 3; animation: pulse 1.2s ease-in-out infinite; }
.graph-svg .node[data-status="running"] .node-glyph { fill: var(--run); }
.graph-svg .node[data-status="succeeded"] .shape { fill: var(--ok-bg); stroke: var(--ok); }
.graph-svg .node[data-status="succeeded"] .node-glyph { fill: var(--ok); font-weight: 700; }
.graph-svg .node[data-status="caught"] .shape { fill: var(--warn-bg); stroke: var(--warn); stroke-width: 2; stroke-dasharray: 7 3; }
.graph-svg .node[data-status="caught"] .node-glyph { fill: var(--warn); font-weight: 700; }
.graph-svg .node[data-status="failed"] .shape { fill: var(--bad-bg); stroke: var(--bad); stroke-width: 3; }
.graph-svg .node[data-status="failed"] .node-glyph { fill: var(--bad); font-weight: 700; }
.graph-svg .node[aria-current="true"] .shape { filter: drop-shadow(0 0 3px var(--run)); stroke-width: 3.5; }
.graph-svg .node:focus { outline: none; }
.graph-svg .node:focus-visible .shape { stroke: var(--run); stroke-width: 4; }
@keyframes pulse { 50% { stroke-opacity: .35; } }
@media (prefers-reduced-motion: reduce) { .graph-svg .node[data-status="running"] .shape { animation: none; } }

@media (max-width: 64rem) {
  .exec-grid { grid-template-columns: minmax(0, 1fr); }
  .side { position: static; max-height: none; overflow: visible; }
  .graph { max-height: 80vh; }
  .history { max-height: 24rem; }
}
@media (max-width: 40rem) {
  main { padding: .6rem; }
  .graph svg { max-width: none; }
  .graph { max-height: 70vh; }
  .filters select { min-width: 0; width: 100%; }
  .filters > div { flex: 1 1 8rem; }
  .history table { table-layout: fixed; font-size: .78rem; }
  .history tr { display: table-row; padding: 0; border: 0; }
  .history th, .history td { display: table-cell; border-bottom: 1px solid var(--line); padding: .15rem .3rem; overflow-wrap: anywhere; }
  .history th:nth-child(1) { width: 2.4em; } .history th:nth-child(2) { width: 7.2em; }
  .panel table tr { display: table-row; border: 0; padding: 0; }
  .panel th, .panel td { display: table-cell; }
}
`;
