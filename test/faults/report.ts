/**
 * `npm run reliability`: runs the full fault matrix (GANTRY_FAULTS_FULL=1) and the memory run,
 * collects their results into test/faults/results.json and writes docs/reliability.md from it.
 *
 *     npm run reliability                        the suite, the memory run, then the document
 *     npm run reliability -- --format-only       the document from the committed results.json
 *     npm run reliability -- --skip-memory       keeps results.json's memory figures
 *     npm run reliability -- --memory-only       keeps results.json's suite results
 *
 * Exits 0 whatever the suite found (the document reports violations, it does not hide them);
 * 1 if the memory run failed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { measureMemory } from "./memory.ts";
import {
  type CategoryResults,
  formatReliability,
  type MemoryResults,
  type ReliabilityResults,
} from "./report-format.ts";
import type { Category } from "./support/scenario.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const RESULTS = join(ROOT, "test/faults/results.json");
export const DOC = join(ROOT, "docs/reliability.md");
const RAW = join(ROOT, "test/faults/results");

function readCommitted(): ReliabilityResults {
  return JSON.parse(readFileSync(RESULTS, "utf8")) as ReliabilityResults;
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  if (args.has("--format-only")) {
    writeFileSync(DOC, formatReliability(readCommitted()));
    console.log(`wrote ${DOC} from ${RESULTS}`);
    return;
  }
  const previous = existsSync(RESULTS) ? readCommitted() : undefined;
  let categories: Partial<Record<Category, CategoryResults>> = previous?.categories ?? {};
  let suiteMs = previous?.suiteMs ?? 0;
  if (!args.has("--memory-only")) {
    rmSync(RAW, { recursive: true, force: true });
    mkdirSync(RAW, { recursive: true });
    const started = Date.now();
    const run = spawnSync("npx", ["vitest", "run", "--project", "faults"], {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, GANTRY_FAULTS_FULL: "1", GANTRY_FAULTS_RECORD: "1" },
    });
    suiteMs = Date.now() - started;
    console.log(`fault suite exited ${run.status} after ${Math.round(suiteMs / 1000)} s`);
    categories = {};
    for (const file of readdirSync(RAW)) {
      const parsed = JSON.parse(readFileSync(join(RAW, file), "utf8")) as CategoryResults;
      categories[parsed.category] = parsed;
    }
    rmSync(RAW, { recursive: true, force: true });
  }
  const cpu = cpus();
  const write = (memory: MemoryResults | undefined) => {
    const results: ReliabilityResults = {
      generatedAt: new Date().toISOString(),
      machine: `${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"} (${process.arch}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      suiteMs,
      categories,
      ...(memory ? { memory } : {}),
    };
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    // In the repository's own JSON style, so `npm run lint` passes on the committed file.
    spawnSync(join(ROOT, "node_modules/.bin/biome"), ["format", "--write", RESULTS], {
      stdio: "ignore",
    });
    writeFileSync(DOC, formatReliability(results));
    console.log(`wrote ${RESULTS} and ${DOC}`);
  };
  // The suite's results are kept first: a failed memory run must not lose them.
  write(previous?.memory);
  if (args.has("--skip-memory")) return;
  try {
    write(await measureMemory());
  } catch (error) {
    console.error(`the memory run failed (its figures are the previous ones): ${String(error)}`);
    process.exitCode = 1;
  }
}

await main();
