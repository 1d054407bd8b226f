/**
 * The local artifact copy against a plain file copy of the same bytes: the target is at least
 * 80% of a plain copy's speed (S3's CopyObject is server-side; so is this one).
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Benchmark, Measurement } from "../../../../test/bench/measurement.ts";
import { percentile, round } from "../../../../test/bench/measurement.ts";
import { LocalBuckets } from "./buckets.ts";

const RUNS = 15;

const benchmark: Benchmark = {
  title: "Artifact copy (local buckets) against a plain file copy, median of 15",
  async run(): Promise<Measurement[]> {
    const dir = mkdtempSync(join(tmpdir(), "gantry-copy-"));
    const buckets = new LocalBuckets(join(dir, "buckets"));
    await buckets.createBucket("bench-source");
    await buckets.createBucket("bench-destination");
    const measurements: Measurement[] = [];
    try {
      for (const mib of [10, 100]) {
        const key = `artifact-${mib}.zip`;
        const meta = await buckets.put(
          { bucket: "bench-source", key },
          randomBytes(mib * 1024 * 1024),
        );
        const source = await buckets.head({ bucket: "bench-source", key });
        if (!source) throw new Error(`the benchmark's source ${key} was not stored`);
        const plain: number[] = [];
        const copied: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          let t = performance.now();
          copyFileSync(join(dir, "buckets/bench-source/objects", key), join(dir, `plain-${i}.zip`));
          plain.push(performance.now() - t);
          t = performance.now();
          await buckets.copy(
            source,
            { bucket: "bench-destination", key: `copy-${i}.zip` },
            { sha256: meta.sha256, metadata: {}, tags: {} },
          );
          copied.push(performance.now() - t);
        }
        const p = percentile(plain, 50);
        const c = percentile(copied, 50);
        measurements.push(
          { name: `${mib} MiB: plain file copy`, value: round(p, 2), unit: "ms" },
          { name: `${mib} MiB: LocalBuckets.copy (with metadata)`, value: round(c, 2), unit: "ms" },
          {
            name: `${mib} MiB: speed relative to a plain copy`,
            value: round((p / c) * 100),
            unit: "%",
            target: "≥ 80%",
            met: p / c >= 0.8,
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
