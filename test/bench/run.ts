/**
 * `npm run bench`: runs every benchmark (test/bench/*.bench.ts, which drive the packages through
 * their public entry points), prints a table of measurements against the design targets, and
 * writes them to docs/benchmark-results.md. Speed is measured here, never asserted in tests; a missed target
 * is reported, not failed.
 *
 *     npm run bench               all of them
 *     npm run bench -- copy       only those whose title contains "copy"
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { arch, cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { silenceNegativeTimeoutWarnings } from "@gantry/local";
import type { Benchmark, Measurement } from "./measurement.ts";

silenceNegativeTimeoutWarnings();

const BENCHMARKS: (() => Promise<{ default: Benchmark }>)[] = [
  () => import("./deployment.bench.ts"),
  () => import("./throughput.bench.ts"),
  () => import("./buckets.bench.ts"),
  () => import("./bundles.bench.ts"),
];

const filter = process.argv[2]?.toLowerCase();
const results: { title: string; columns: readonly string[]; measurements: Measurement[] }[] = [];
for (const load of BENCHMARKS) {
  const bench = (await load()).default;
  if (filter && !bench.title.toLowerCase().includes(filter)) continue;
  process.stdout.write(`\n${bench.title}\n`);
  const started = performance.now();
  const measurements = await bench.run();
  const columns = bench.columns ?? [];
  const width = Math.max(58, ...measurements.map((m) => m.name.length));
  if (columns.length > 0)
    process.stdout.write(
      `  ${"".padEnd(width)} ${columns.map((c) => c.slice(0, 16).padStart(16)).join(" ")}\n`,
    );
  for (const m of measurements) {
    const verdict = m.met === undefined ? "" : m.met ? "  ✓" : "  ✗ missed";
    const shown =
      columns.length > 0
        ? columns.map((_, i) => shownValue(valuesOf(m, columns)[i]).padStart(16)).join(" ")
        : String(m.value).padStart(10);
    process.stdout.write(
      `  ${m.name.padEnd(width)} ${shown} ${m.unit.padEnd(8)} ${m.target ? `target ${m.target}` : ""}${verdict}\n`,
    );
  }
  process.stdout.write(`  (${Math.round(performance.now() - started)} ms)\n`);
  results.push({ title: bench.title, columns, measurements });
}

/** A measurement's value per column: its `values`, or its one value in the first column. */
function valuesOf(m: Measurement, columns: readonly string[]): (number | undefined)[] {
  return columns.map((_, i) => (m.values ? m.values[i] : i === 0 ? m.value : undefined));
}

function shownValue(value: number | undefined): string {
  return value === undefined ? "–" : String(value);
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"} (${arch()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const lines = [
  "# Benchmark results",
  "",
  `Written by \`npm run bench\` on ${new Date().toISOString()}, ${machine}.`,
  "What each benchmark measures and why: docs/benchmarks.md.",
  "",
];
for (const { title, columns, measurements } of results) {
  const heads = columns.length > 0 ? columns : ["value"];
  lines.push(
    `## ${title}`,
    "",
    `| measurement | ${heads.join(" | ")} | target | met |`,
    `| --- | ${heads.map(() => "---:").join(" | ")} | --- | --- |`,
  );
  for (const m of measurements) {
    const cells =
      columns.length > 0
        ? valuesOf(m, columns).map((v) => (v === undefined ? "–" : `${v} ${m.unit}`.trim()))
        : [`${m.value} ${m.unit}`];
    lines.push(
      `| ${m.name}${m.note ? ` (${m.note})` : ""} | ${cells.join(" | ")} | ${m.target ?? ""} | ${m.met === undefined ? "" : m.met ? "yes" : "**no**"} |`,
    );
  }
  lines.push("");
}
if (!filter) {
  const results = fileURLToPath(new URL("../../docs/benchmark-results.md", import.meta.url));
  writeFileSync(results, `${lines.join("\n")}\n`);
  // The docs are linted: lay the tables out the way the formatter would.
  execFileSync("npx", ["biome", "format", "--write", results], { stdio: "ignore" });
}
process.exit(0);
