/**
 * Throughput of the local control plane: happy-path preprod deployments with waits scaled to
 * (almost) zero, started through the Step Functions API with the SDK, several services at once.
 * Reports executions per second and the latency of StartExecution (p50, p99).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { defineRegistry, hexToBase64, sha256Hex } from "@gantry/core";
import { createZip, startLocalControlPlane } from "@gantry/local";
import type { Benchmark, Measurement } from "./measurement.ts";
import { percentile, round } from "./measurement.ts";

const SERVICES = 8;
const ROUNDS = 8;
const BUCKET = "bench-artifacts-preprod";

function registry() {
  const stage = (name: string) => ({
    functionName: name,
    alias: "live",
    alarms: [],
    rollout: { steps: [50], stepWaitSeconds: 1, pollSeconds: 1, bakeSeconds: 1 },
    verifyPreprod: false,
    // The bench starts executions without ID tokens.
    allowUnverifiedTrigger: true,
  });
  return defineRegistry({
    stages: {
      preprod: { sourceBucket: BUCKET, artifactBucket: BUCKET },
      prod: { sourceBucket: BUCKET, artifactBucket: "bench-artifacts-prod" },
    },
    services: Object.fromEntries(
      Array.from({ length: SERVICES }, (_, i) => [
        `bench-${i}`,
        {
          canary: { checks: [{ name: "ping", event: {}, expect: { statusCode: 200 } }] },
          stages: { preprod: stage(`bench-${i}-preprod`), prod: stage(`bench-${i}-prod`) },
        },
      ]),
    ),
  });
}

const code = (label: string) =>
  createZip({
    "index.mjs": `export const handler = async () => ({ statusCode: 200, body: "${label}" });`,
  });

const benchmark: Benchmark = {
  title:
    "Local control plane throughput (StartExecution over HTTP, happy path, waits scaled to ~0)",
  async run(): Promise<Measurement[]> {
    const home = mkdtempSync(join(tmpdir(), "gantry-bench-"));
    const local = await startLocalControlPlane({
      home,
      registry: registry(),
      sfnPort: 0,
      webPort: 0,
      timeScale: 0.0001,
      trafficPerSecond: 0,
      canaryIntervalMs: 0,
      initialCode: () => code("initial"),
      functionLogLevel: "SILENT",
    });
    const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
    const sfn = new SFNClient({ endpoint: local.sfnEndpoint, region: "us-east-1", credentials });
    const s3 = new S3Client({
      endpoint: local.sfnEndpoint,
      region: "us-east-1",
      credentials,
      forcePathStyle: true,
    });
    const versions = ["a", "b"].map((label) => {
      const zip = code(label);
      return { label, zip, sha256: sha256Hex(zip), version: sha256Hex(label).slice(0, 40) };
    });
    for (let i = 0; i < SERVICES; i++) {
      for (const v of versions) {
        await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `bench-${i}/${v.label}.zip`,
            Body: v.zip,
            ChecksumSHA256: hexToBase64(v.sha256),
          }),
        );
      }
    }

    const finished = new Map<string, (status: string) => void>();
    local.stepFunctions.subscribe((e) => {
      if (/^Execution(Succeeded|Failed|Aborted)$/.test(e.event.type))
        finished.get(e.executionArn)?.(e.event.type);
    });
    const startLatencies: number[] = [];
    const durations: number[] = [];
    let failures = 0;
    const deploy = async (service: number, round: number) => {
      const v = versions[round % 2] as (typeof versions)[number];
      const input = {
        service: `bench-${service}`,
        version: v.version,
        artifact: { key: `bench-${service}/${v.label}.zip`, sha256: v.sha256 },
        trigger: { actor: "bench" },
      };
      const t0 = performance.now();
      const started = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: local.stateMachineArns.preprod,
          name: `bench-${service}-${round}`,
          input: JSON.stringify(input),
        }),
      );
      startLatencies.push(performance.now() - t0);
      const status = await new Promise<string>((resolve) =>
        finished.set(started.executionArn as string, resolve),
      );
      durations.push(performance.now() - t0);
      if (status !== "ExecutionSucceeded") failures++;
    };

    // One warm-up round (cold worker threads, first imports), not measured.
    await Promise.all(Array.from({ length: SERVICES }, (_, i) => deploy(i, 0)));
    startLatencies.length = 0;
    durations.length = 0;
    const t0 = performance.now();
    for (let round = 1; round <= ROUNDS; round++)
      await Promise.all(Array.from({ length: SERVICES }, (_, i) => deploy(i, round)));
    const elapsed = (performance.now() - t0) / 1000;
    await local.close();
    rmSync(home, { recursive: true, force: true });

    const total = SERVICES * ROUNDS;
    return [
      {
        name: `executions per second (${SERVICES} services × ${ROUNDS} rounds)`,
        value: round(total / elapsed, 1),
        unit: "exec/s",
      },
      {
        name: "StartExecution latency p50",
        value: round(percentile(startLatencies, 50), 2),
        unit: "ms",
      },
      {
        name: "StartExecution latency p99",
        value: round(percentile(startLatencies, 99), 2),
        unit: "ms",
      },
      {
        name: "execution duration p50 (start to end, 17 states)",
        value: round(percentile(durations, 50), 1),
        unit: "ms",
      },
      { name: "failed executions", value: failures, unit: "", target: "0", met: failures === 0 },
    ];
  },
};

export default benchmark;
