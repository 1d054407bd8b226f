/**
 * The deployment targets (docs/benchmarks.md), measured on the local control plane with the
 * project's registry (prod: three traffic steps, 60 s polls, a 10-minute bake), in scaled time:
 *
 * - state transitions of a happy-path prod deployment (Step Functions bills per transition);
 * - control-plane overhead: how long a deployment takes beyond its configured waits (and the
 *   approval, here automatic) with a 10 MB artifact;
 * - rollback time: from the alarm entering ALARM to the alias serving only the previous version.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executionName, sha256Hex, validationKey } from "@gantry/core";
import {
  type HistoryEvent,
  type LocalControlPlane,
  localSettings,
  startLocalControlPlane,
} from "@gantry/local";
import { unzipSync, zipSync } from "fflate";
import { artifactKey, buildVariant } from "../../examples/hello-service/build.ts";
import type { Benchmark, Measurement } from "./measurement.ts";
import { round } from "./measurement.ts";

const SCALE = 0.01;
const PREPROD = "acme-gantry-artifacts-preprod";

interface Artifact {
  readonly version: string;
  readonly sha256: string;
  readonly key: string;
  readonly zip: Uint8Array;
}

/** A build of about 10 MB: hello-service v2's code and 10 MB of incompressible assets. */
function tenMegabyteBuild(): Artifact {
  const code = unzipSync(buildVariant("v2").zip)["index.mjs"];
  if (!code) throw new Error("hello-service v2 has no index.mjs");
  const zip = zipSync({
    "index.mjs": code,
    "assets/blob.bin": [randomBytes(10 * 1024 * 1024), { level: 0 }],
  });
  const sha256 = sha256Hex(zip);
  const version = sha256Hex(`ten-mb-${sha256}`).slice(0, 40);
  return { version, sha256, key: `hello-service/${version}/${sha256.slice(0, 16)}.zip`, zip };
}

async function publish(local: LocalControlPlane, artifact: Artifact): Promise<void> {
  await local.world.buckets.put({ bucket: PREPROD, key: artifact.key }, artifact.zip);
}

function request(artifact: Artifact, actor = "bench") {
  return {
    service: "hello-service",
    version: artifact.version,
    artifact: { key: artifact.key, sha256: artifact.sha256 },
    trigger: { actor },
  };
}

/**
 * Runs one execution through the API object and returns its history when it ends. In prod an
 * approver confirms the link emailed to them, over HTTP, as soon as it arrives.
 */
async function run(
  local: LocalControlPlane,
  stage: "preprod" | "prod",
  input: ReturnType<typeof request>,
): Promise<{ events: HistoryEvent[]; status: string; ms: number }> {
  const name = executionName(input);
  const started = local.stepFunctions.startExecution({
    stateMachineArn: local.stateMachineArns[stage],
    name,
    input: JSON.stringify(input),
  });
  if (stage === "prod") void approveFromOutbox(local, name).catch(() => undefined);
  const t0 = performance.now();
  for (;;) {
    const record = local.stepFunctions.describeExecution(started.executionArn);
    if (record.status !== "RUNNING") {
      const events = local.stepFunctions.getExecutionHistory({
        executionArn: started.executionArn,
        maxResults: 1000,
      }).events;
      return {
        events,
        status: record.status,
        ms:
          record.stopDate !== undefined
            ? record.stopDate - record.startDate
            : performance.now() - t0,
      };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The approver's part: the emailed link, opened and confirmed, through the web server. */
async function approveFromOutbox(local: LocalControlPlane, executionName: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const mail = local.world.outbox
      .list()
      .find((m) => m.text.includes(`Execution: ${executionName}`));
    const link = mail && /^Approve: (\S+)$/m.exec(mail.text)?.[1];
    if (link) {
      const url = new URL(link);
      const decided = await fetch(new URL(url.pathname, url), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: url.searchParams,
      });
      if (decided.status !== 200) throw new Error(`approving answered ${decided.status}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`no approval email for ${executionName}`);
}

/** How long the execution waited for the approver (ApprovalGate's span): a person's time. */
function approvalWaitMs(events: readonly HistoryEvent[]): number {
  const span = (type: string) =>
    events.find(
      (e) =>
        e.type === type &&
        ((e.stateEnteredEventDetails ?? e.stateExitedEventDetails) as { name?: string })?.name ===
          "ApprovalGate",
    )?.timestamp;
  const entered = span("TaskStateEntered");
  const exited = span("TaskStateExited");
  return entered !== undefined && exited !== undefined ? exited - entered : 0;
}

async function throughPreprod(local: LocalControlPlane, artifact: Artifact): Promise<void> {
  await publish(local, artifact);
  const preprod = await run(local, "preprod", request(artifact));
  if (preprod.status !== "SUCCEEDED") throw new Error(`preprod failed for ${artifact.key}`);
  await local.world.buckets.put(
    { bucket: PREPROD, key: validationKey("hello-service", artifact.version) },
    Buffer.from(
      JSON.stringify({
        service: "hello-service",
        version: artifact.version,
        sha256: artifact.sha256,
        validatedAt: new Date().toISOString(),
        validatedBy: "bench",
      }),
    ),
  );
}

const benchmark: Benchmark = {
  title: "Deployment targets (local control plane, project registry, time scale 0.01)",
  async run(): Promise<Measurement[]> {
    const settings = await localSettings({});
    const home = mkdtempSync(join(tmpdir(), "gantry-bench-deploy-"));
    const local = await startLocalControlPlane({
      ...settings,
      home,
      sfnPort: 0,
      webPort: 0,
      timeScale: SCALE,
      canaryIntervalMs: 0,
      functionLogLevel: "SILENT",
    });
    const prod = settings.registry.services["hello-service"]?.stages.prod;
    if (!prod) throw new Error("the registry has no hello-service");
    try {
      // Happy path with a 10 MB artifact, approved through the emailed link: transitions and
      // overhead (the approver's own time is not the control plane's).
      const big = tenMegabyteBuild();
      await throughPreprod(local, big);
      const happy = await run(local, "prod", request(big));
      const transitions = happy.events.filter((e) => e.type.endsWith("StateEntered")).length;
      const waitsMs =
        (prod.rollout.stepWaitSeconds * prod.rollout.steps.length + prod.rollout.bakeSeconds) *
        1000 *
        SCALE;
      const humanMs = approvalWaitMs(happy.events);
      const overheadMs = happy.ms - waitsMs - humanMs;

      // A release that fails under prod traffic: alarm to rollback.
      const v4b = buildVariant("v4-prod-bug");
      const v4: Artifact = {
        version: v4b.version,
        sha256: v4b.sha256,
        key: artifactKey(v4b),
        zip: v4b.zip,
      };
      let alarmAt: number | undefined;
      local.world.alarms.onChange((change) => {
        if (change.name === prod.alarms[0] && change.to === "ALARM" && alarmAt === undefined)
          alarmAt = change.at;
      });
      await throughPreprod(local, v4);
      const bad = await run(local, "prod", request(v4));
      const restored = bad.events.find(
        (e) =>
          e.type === "TaskStateExited" &&
          (e.stateExitedEventDetails as { name?: string }).name === "Rollback",
      );
      const rollbackMs =
        alarmAt !== undefined && restored ? restored.timestamp - alarmAt : Number.NaN;
      const pollMs = prod.rollout.pollSeconds * 1000 * SCALE;
      // Where the time goes: waiting for the next alarm check, then the Rollback task itself.
      const detected = bad.events.find((e) => e.type === "LambdaFunctionFailed");
      const rollbackEntered = bad.events.find(
        (e) =>
          e.type === "TaskStateEntered" &&
          (e.stateEnteredEventDetails as { name?: string }).name === "Rollback",
      );
      const detectionMs =
        alarmAt !== undefined && detected ? detected.timestamp - alarmAt : Number.NaN;
      const restoreMs =
        rollbackEntered && restored ? restored.timestamp - rollbackEntered.timestamp : Number.NaN;

      return [
        {
          name: "state transitions, happy-path prod deployment (3 steps, 10-min bake, 60-s poll)",
          value: transitions,
          unit: "",
          target: "≤ 50",
          met: transitions <= 50,
        },
        {
          name: "happy-path prod deployment, 10 MB artifact, total",
          value: round(happy.ms),
          unit: "ms",
          note: `configured waits ${round(waitsMs)} ms, approval (a person) ${round(humanMs)} ms`,
        },
        {
          name: "control-plane overhead beyond configured waits (10 MB artifact)",
          value: round(overheadMs),
          unit: "ms",
          target: "< 500 ms",
          met: overheadMs < 500,
        },
        {
          name: "rollback: alarm enters ALARM → alias serves only the previous version",
          value: round(rollbackMs),
          unit: "ms",
          target: `≤ poll + 1 s = ${round(pollMs + 1000)} ms`,
          met: rollbackMs <= pollMs + 1000,
        },
        {
          name: "  of which: waiting for the next alarm check (≤ one poll)",
          value: round(detectionMs),
          unit: "ms",
          note: `poll ${round(pollMs)} ms`,
        },
        {
          name: "  of which: the Rollback task (UpdateAlias + read back)",
          value: round(restoreMs),
          unit: "ms",
        },
        {
          name: "rollback outcome",
          value: bad.status === "FAILED" ? 1 : 0,
          unit: "ok",
          target: "FAILED with AlarmTriggered",
          met: bad.status === "FAILED",
        },
      ];
    } finally {
      await local.close();
      rmSync(home, { recursive: true, force: true });
    }
  },
};

export default benchmark;
