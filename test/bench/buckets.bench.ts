/**
 * The local artifact copy against a plain file copy of the same bytes: the target is at least
 * 80% of a plain copy's speed (S3's CopyObject is server-side; so is this one). Both copies are
 * durable, as every file of the local control plane is (issue 19): the plain copy is flushed
 * (fsync of the file and its directory) as LocalBuckets.copy flushes its own; the unflushed plain
 * copy is shown too, for what durability costs.
 *
 * A copy of 100 MiB leaves that much dirty page cache, and whatever runs next pays for its
 * writeback. So every timed copy starts after a `sync`, and the two take turns going first.
 * Every copy gets a new name, as promoted artifacts do: replacing a file by rename makes ext4
 * flush the new data at once (auto_da_alloc), which a promotion never pays.
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, copyFileSync, fsyncSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBuckets } from "@gantry/local";
import type { Benchmark, Measurement } from "./measurement.ts";
import { percentile, round } from "./measurement.ts";

const RUNS = 15;
const WARM_UP = 3;

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
        const unflushed: number[] = [];
        const copied: number[] = [];
        const sourceFile = join(dir, "buckets/bench-source/objects", key);
        const plainCopy = (i: number) =>
          timed(() => {
            const target = join(dir, `plain-${mib}-${i}.zip`);
            copyFileSync(sourceFile, target);
            flush(target);
            flush(dir);
          });
        const unflushedCopy = (i: number) =>
          timed(() => copyFileSync(sourceFile, join(dir, `unflushed-${mib}-${i}.zip`)));
        const localCopy = (i: number) =>
          timed(() =>
            buckets.copy(
              source,
              { bucket: "bench-destination", key: `copy-${mib}-${i}.zip` },
              { sha256: meta.sha256, metadata: {}, tags: {} },
            ),
          );
        // The first few copies of a size run slow (cold caches, a new directory): not counted.
        for (let i = -WARM_UP; i < 0; i++) {
          await plainCopy(i);
          await localCopy(i);
        }
        for (let i = 0; i < RUNS; i++) {
          if (i % 2 === 0) {
            plain.push(await plainCopy(i));
            copied.push(await localCopy(i));
          } else {
            copied.push(await localCopy(i));
            plain.push(await plainCopy(i));
          }
          unflushed.push(await unflushedCopy(i));
        }
        const p = percentile(plain, 50);
        const c = percentile(copied, 50);
        measurements.push(
          {
            name: `${mib} MiB: plain file copy, not flushed`,
            value: round(percentile(unflushed, 50), 2),
            unit: "ms",
          },
          { name: `${mib} MiB: plain file copy, flushed (fsync)`, value: round(p, 2), unit: "ms" },
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

/** Flushes a file's bytes, or a directory's entries, to disk. */
function flush(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Milliseconds `work` takes, started with no dirty pages left by the previous copy. */
async function timed(work: () => unknown): Promise<number> {
  spawnSync("sync");
  const start = performance.now();
  await work();
  return performance.now() - start;
}
