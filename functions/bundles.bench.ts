/**
 * Each Lambda as it ships: bundled with esbuild (minified ESM for nodejs24.x, the AWS SDK
 * included so versions are pinned), its size, and the time to import it cold in a fresh Node
 * process (Lambda's init phase, without the runtime's own start-up).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Benchmark, Measurement } from "../test/bench/measurement.ts";
import { percentile, round } from "../test/bench/measurement.ts";

const FUNCTIONS_DIR = fileURLToPath(new URL(".", import.meta.url));
const RUNS = 7;

/** Entry points: every functions/*.ts that is not a test or a benchmark. */
export function functionEntries(): string[] {
  return readdirSync(FUNCTIONS_DIR)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".bench.ts"))
    .sort();
}

/** Bundles one function as a Lambda would get it; returns the bundle's path. */
export async function bundle(entry: string, outdir: string): Promise<string> {
  const outfile = join(outdir, entry.replace(/\.ts$/, ".mjs"));
  await build({
    entryPoints: [join(FUNCTIONS_DIR, entry)],
    outfile,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "node",
    target: "node24",
    legalComments: "none",
    // Some dependencies still call require(): give the ESM bundle one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: "silent",
  });
  return outfile;
}

/** Milliseconds to import a module in a fresh process, minus an empty import's cost. */
function coldImportMs(file: string, dir: string): number {
  const probe = join(dir, "probe.mjs");
  writeFileSync(
    probe,
    `const t = performance.now(); await import(process.argv[2]); console.log(performance.now() - t);`,
  );
  const empty = join(dir, "empty.mjs");
  writeFileSync(empty, "export {};");
  const time = (target: string) =>
    Number(
      execFileSync(process.execPath, [probe, target], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", GANTRY_STAGE: "prod" },
      }),
    );
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(time(file) - time(empty));
  return percentile(samples, 50);
}

const benchmark: Benchmark = {
  title:
    "Lambda bundles (esbuild, minified ESM, AWS SDK included; cold import in a fresh Node process, median of 7)",
  async run(): Promise<Measurement[]> {
    const dir = mkdtempSync(join(tmpdir(), "gantry-bundles-"));
    const measurements: Measurement[] = [];
    try {
      for (const entry of functionEntries()) {
        const file = await bundle(entry, dir);
        const kb = statSync(file).size / 1024;
        const ms = coldImportMs(file, dir);
        const name = entry.replace(/\.ts$/, "");
        measurements.push(
          {
            name: `${name}: bundle size`,
            value: round(kb),
            unit: "KiB",
            target: "< 1024 KiB",
            met: kb < 1024,
          },
          {
            name: `${name}: cold import`,
            value: round(ms),
            unit: "ms",
            target: "< 150 ms",
            met: ms < 150,
          },
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return measurements;
  },
};

export default benchmark;
