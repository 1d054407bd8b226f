/**
 * `npm run mutation`: runs StrykerJS (stryker.config.mjs) over packages/core's steps and approval
 * modules and the handler factories in functions/, then writes test/mutation/scores.json and the
 * scores in docs/testing.md from its JSON report. The HTML report is reports/mutation/index.html.
 *
 *     npm run mutation                      Stryker, then the scores; exit 1 below the target
 *     npm run mutation -- --from-report     the scores from the last reports/mutation/mutation.json
 *     npm run mutation -- --format-only     docs/testing.md from the committed scores.json
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { DOC, REPORT, MUTATION_ROOT as ROOT, SCORES } from "./paths.ts";
import {
  type MutationScores,
  meetsTarget,
  type StrykerReport,
  summarize,
  withScores,
} from "./score-format.ts";

function writeDoc(scores: MutationScores): void {
  writeFileSync(DOC, withScores(readFileSync(DOC, "utf8"), scores));
}

function main(): void {
  const args = new Set(process.argv.slice(2));
  if (args.has("--format-only")) {
    writeDoc(JSON.parse(readFileSync(SCORES, "utf8")) as MutationScores);
    console.log(`wrote ${DOC} from ${SCORES}`);
    return;
  }
  if (!args.has("--from-report")) {
    const run = spawnSync("npx", ["stryker", "run"], { cwd: ROOT, stdio: "inherit" });
    if (run.status !== 0) {
      console.error(`mutation: stryker exited ${run.status ?? run.signal}`);
      process.exit(1);
    }
  }
  const scores = summarize(JSON.parse(readFileSync(REPORT, "utf8")) as StrykerReport);
  writeFileSync(SCORES, `${JSON.stringify(scores, null, 2)}\n`);
  writeDoc(scores);
  const { critical } = scores;
  console.log(
    `mutation: safety-critical files ${critical.percent}% (${critical.detected}/${critical.total}, ` +
      `accepted counted as missed), target ${scores.targetPercent}%; ` +
      `${scores.accepted.length} accepted, ${scores.undetected.length} undetected in all files`,
  );
  console.log(`wrote ${SCORES} and ${DOC}; HTML report: reports/mutation/index.html`);
  if (!meetsTarget(scores)) {
    console.error(`mutation: below the target of ${scores.targetPercent}% (docs/testing.md)`);
    process.exit(1);
  }
}

main();
