/**
 * Each Lambda as it ships (stacks/bundling.ts: minified ESM for nodejs24.x, the AWS SDK's ES
 * module builds, dynamic imports split into their own files, the SDK included so versions are
 * pinned): its size, and the time to import it cold in a fresh Node process (Lambda's init
 * phase, without the runtime's own start-up).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleFunction, functionNames } from "../support/function-bundles.ts";
import type { Benchmark, Measurement } from "./measurement.ts";
import { percentile, round } from "./measurement.ts";

const RUNS = 7;

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
    "Lambda bundles (as SST ships them: minified ESM, code splitting, AWS SDK included; cold import in a fresh Node process, median of 7)",
  async run(): Promise<Measurement[]> {
    const dir = mkdtempSync(join(tmpdir(), "gantry-bundles-"));
    const measurements: Measurement[] = [];
    try {
      for (const name of functionNames()) {
        const built = await bundleFunction(name, dir);
        const kb = built.totalBytes / 1024;
        const ms = coldImportMs(built.entry, dir);
        measurements.push(
          {
            name: `${name}: package size (${built.files} files)`,
            value: round(kb),
            unit: "KiB",
            target: "< 1024 KiB",
            met: kb < 1024,
          },
          {
            name: `${name}: read at init (entry + static chunks)`,
            value: round(built.initBytes / 1024),
            unit: "KiB",
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
