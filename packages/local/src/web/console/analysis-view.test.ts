import { readFileSync } from "node:fs";
import { regressedHistory, regressedVerdict, testSample, testVerdict } from "@gantry/core/testing";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../control-plane/history.ts";
import { renderAnalysis } from "./analysis-view.ts";
import { renderExecutionPage } from "./execution-page.ts";
import { ExecutionTracker } from "./execution-status.ts";
import type { ExecutionListing } from "./executions.ts";
import { layoutGraph } from "./graph-layout.ts";
import { type AslDefinition, graphOf } from "./graph-model.ts";

// The deployed workflow: the verdicts come from its checks.
const asl = JSON.parse(
  readFileSync(new URL("../../../../../state-machines/workflow.asl.json", import.meta.url), "utf8"),
) as AslDefinition;
const graph = graphOf(asl);

const POLICY = {
  confidence: 0.95,
  maxErrorRateIncrease: 1,
  maxLatencyRatio: 1.2,
  minLatencyIncreaseMs: 5,
  minRequests: 100,
  whenInsufficient: "synthesize",
  maxSyntheticRequests: 200,
} as const;

/** The regressed story as the local control plane records it (epoch-ms timestamps). */
function tracked(): ExecutionTracker {
  const tracker = new ExecutionTracker(graph);
  for (const event of regressedHistory()) {
    tracker.apply({
      ...event,
      timestamp: (event.timestamp as Date).getTime(),
    } as HistoryEvent);
  }
  return tracker;
}

/** The panel's HTML without its markup, to read as a person would. */
const words = (markup: string) =>
  markup
    .replace(/<[^>]+>/g, "")
    .replace(/\s+/g, " ")
    .replaceAll("&gt;", ">")
    .replaceAll("&lt;", "<")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&");

describe("the Version analysis panel", () => {
  it("shows each verdict of the execution with both versions' numbers, the failing one marked", () => {
    const panel = renderAnalysis(tracked().progress).value;
    const verdicts = [
      ...panel.matchAll(/<details class="verdict( bad)?" data-verdict="(\w+)"[^>]*?( open)?>/g),
    ];
    // The earlier pass folds to its heading; the failing one is marked and open.
    expect(verdicts.map((m) => [m[2], Boolean(m[1]), Boolean(m[3])])).toEqual([
      ["pass", false, false],
      ["fail", true, true],
    ]);
    // Only the verdict that stopped the deployment is marked as the failing one.
    expect(panel.match(/data-verdict-failing/g)).toHaveLength(1);
    const [passed = "", failed = ""] = panel.split("<details").slice(1);
    expect(words(passed)).toContain("10% step pass");
    expect(passed).toContain("<td>130</td><td>0</td><td>0.0%</td><td>–</td><td>42 ms</td>");
    expect(passed).toContain("<td>1,170</td><td>1</td><td>0.1%</td><td>–</td><td>40 ms</td>");
    expect(words(passed)).toContain("Fisher p = 0.91");
    expect(words(passed)).toContain("p99: 1.05x (42 ms vs 40 ms, at most 1.2x)");
    expect(words(failed)).toContain("25% step failed VersionRegressed");
    expect(failed).toContain("<td>120</td><td>31</td><td>25.8%</td>");
    expect(words(failed)).toContain(
      "Error rate: +25.6 points (at most +1), Fisher p = 3.1e-25 (regressed when below 0.05): regressed",
    );
    expect(failed).toContain('<li data-test="error-rate" class="bad">');
    expect(words(failed)).toContain(regressedVerdict().summary.replace(/\s+/g, " "));
    expect(words(panel)).toContain(
      "Fails the new version at more than +1 point of error rate at 95% confidence (one-sided Fisher exact test), or a p99 over 1.2x the previous version's (and more than 5 ms above it); 100 requests per version before a verdict, else the canary's requests make up a shortfall of at most 200.",
    );
  });

  it("shows synthetic requests, an unjudged p99, the bake's baseline and a fix's rule", () => {
    const verdict = testVerdict({
      phase: "bake",
      weight: 100,
      baseline: { from: "2026-11-01T11:00:00.000Z", to: "2026-11-01T11:01:00.000Z" },
      newVersion: testSample({
        requests: 100,
        realRequests: 40,
        synthetic: 60,
        syntheticFailures: 2,
        failures: 2,
      }),
      latency: { judged: false, reason: "version 2 has 40 real requests, fewer than 100" },
      fix: { alarms: ["hello-prod-errors"], metric: "errors", pValue: 0.0004, improved: false },
      decision: "fail",
      failure: "VersionRegressed",
    });
    const panel = renderAnalysis({
      verdicts: [{ ...verdict, state: "CheckBakeAlarms" }],
      analysisPolicy: { ...POLICY, whenInsufficient: "extend" },
      fixFor: ["hello-prod-errors"],
    }).value;
    expect(panel).toContain("<td>60 (2 failed)</td>");
    expect(words(panel)).toContain("bake failed VersionRegressed");
    expect(words(panel)).toContain(
      "p99: not judged (version 2 has 40 real requests, fewer than 100)",
    );
    expect(words(panel)).toContain(
      "The bake: v1 measured before the rollout (2026-11-01T11:00:00.000Z to 2026-11-01T11:01:00.000Z)",
    );
    expect(words(panel)).toContain(
      "Fix for hello-prod-errors: must beat v1 on the error rate, Fisher p = 4.0e-4: not better",
    );
    expect(panel).toContain('<li data-test="fix" class="bad">');
    expect(panel).toContain("data-fix-for");
    expect(words(panel)).toContain("else a short hold is held once more");
  });

  it("keeps the latest verdict open while the rollout goes on, the earlier ones folded", () => {
    const panel = renderAnalysis({
      verdicts: [
        { ...testVerdict(), state: "CheckAlarms" },
        { ...testVerdict({ weight: 25, stepIndex: 1 }), state: "CheckAlarms" },
      ],
      analysisPolicy: POLICY,
    }).value;
    const opened = [...panel.matchAll(/<details [^>]*data-verdict-index="(\d)"([^>]*)>/g)].map(
      (m) => [m[1], m[2]?.includes(" open")],
    );
    expect(opened).toEqual([
      ["0", false],
      ["1", true],
    ]);
    expect(panel).not.toContain("data-verdict-failing");
  });

  it("says there is no analysis, or no verdict yet", () => {
    expect(words(renderAnalysis({ verdicts: [] }).value)).toBe(
      "No version analysis in this deployment: only the alarms judge it.",
    );
    const waiting = words(
      renderAnalysis({ verdicts: [], analysisPolicy: { ...POLICY, whenInsufficient: "fail" } })
        .value,
    );
    expect(waiting).toContain("No verdict yet: each hold ends with one.");
    expect(waiting).toContain("else a short hold fails InsufficientData");
  });

  it("escapes what it shows", () => {
    const verdict = testVerdict({
      summary: "<img src=x onerror=alert(1)>",
      newVersion: testSample({ version: "<b>2</b>" }),
      fix: { alarms: ['"><script>x</script>'], metric: "latency", improved: true },
    });
    const panel = renderAnalysis({ verdicts: [{ ...verdict, state: "CheckAlarms" }] }).value;
    expect(panel).not.toContain("<img");
    expect(panel).not.toContain("<script>");
    expect(panel).not.toContain("<b>2");
    expect(panel).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("is on the execution page, beside the graph", async () => {
    const tracker = tracked();
    const page = renderExecutionPage({
      listing: {
        executionArn: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:e1",
        name: "e1",
        service: "hello-service",
        stage: "prod",
        version: "3f2a9c1e0b7d",
        startDate: 1_000,
      } as ExecutionListing,
      layout: await layoutGraph(graph),
      tracker,
      rows: [],
      world: { alarms: [] },
      path: "/executions/gantry-prod/e1",
      now: Date.now(),
    });
    const side = page.slice(page.indexOf('<div class="side">'));
    expect(side).toMatch(
      /^<div class="side">\n<section class="analysis" id="analysis" aria-labelledby="analysis-h"><h2 id="analysis-h">Version analysis<\/h2><div data-panel="analysis" aria-live="polite"><p class="muted" data-analysis-policy>/,
    );
    expect(side).toContain('data-verdict="fail"');
  });
});
