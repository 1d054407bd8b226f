/**
 * The memory figures of docs/reliability.md: one child control plane, preprod deployments one
 * after another (v1 and v2 in turn), and at N = 0, 50 and 200 deployments the plane's resident
 * set size (VmRSS from /proc) and the size of its GANTRY_HOME (`du -sk`), plus its file count.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import {
  publish,
  requestFor,
  startDeployment,
  startLocalProcess,
  waitForStatus,
} from "../support/local-process.ts";
import type { MemoryResults, MemorySample } from "./report-format.ts";

export const MEMORY_TIME_SCALE = 0.001;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

function homeSize(home: string): { homeMiB: number; files: number } {
  const kb = Number(execFileSync("du", ["-sk", home], { encoding: "utf8" }).split("\t")[0]);
  const files = readdirSync(home, { recursive: true, withFileTypes: true }).filter((e) =>
    e.isFile(),
  ).length;
  return { homeMiB: kb / 1024, files };
}

export async function measureMemory(
  checkpoints: readonly number[] = [0, 50, 200],
): Promise<MemoryResults> {
  const started = Date.now();
  const local = await startLocalProcess({ timeScale: MEMORY_TIME_SCALE, trafficRps: 5 });
  const samples: MemorySample[] = [];
  let succeeded = 0;
  let failed = 0;
  try {
    const pid = local.child.pid as number;
    const builds = [await publish(local, "v2"), await publish(local, "v1")];
    const sample = (deployments: number) => {
      samples.push({ deployments, rssMiB: rssMiB(pid), ...homeSize(local.home) });
      console.log(`[memory] ${JSON.stringify(samples.at(-1))}`);
    };
    const last = Math.max(...checkpoints);
    if (checkpoints.includes(0)) sample(0);
    for (let n = 1; n <= last; n++) {
      const built = builds[n % 2] as (typeof builds)[number];
      const execution = await startDeployment(
        local,
        "preprod",
        requestFor(built),
        Math.ceil(n / 2),
      );
      const done = await waitForStatus(local, execution.executionArn as string, undefined, 60_000);
      if (done.status === "SUCCEEDED") succeeded++;
      else failed++;
      if (checkpoints.includes(n)) sample(n);
    }
  } finally {
    await local.kill("SIGKILL");
    rmSync(local.home, { recursive: true, force: true });
  }
  return { timeScale: MEMORY_TIME_SCALE, samples, succeeded, failed, ms: Date.now() - started };
}
