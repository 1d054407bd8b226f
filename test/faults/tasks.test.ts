/**
 * Every Task x {throttle then success, permanent error, timeout, crash after its side effect}
 * (packages/local/src/faults.ts), each on a fresh child control plane deploying v2 to preprod,
 * then the invariants (support/invariants.ts). A crash is followed by a restart on the same data
 * directory. Rollback only runs after a failure: its scenarios fail CheckAlarms first, once the
 * canary has shifted traffic. ApprovalGate, VerifyApproval and CopyArtifact only really act in
 * prod (preprod needs no approval and deploys from its own bucket): they get prod scenarios
 * too, approved by email. GANTRY_FAULTS_FULL=1 runs the whole matrix; otherwise a slice.
 */
import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import { approveByEmail, outbox } from "@gantry/local/approver";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalProcess, startDeployment, throughPreprod } from "../support/local-process.ts";
import { knownGoodOf, type Violation } from "./support/invariants.ts";
import {
  exited,
  type FaultKind,
  type FaultPlan,
  FULL,
  finalStatus,
  KINDS,
  record,
  removeHomes,
  settledInvariants,
  startPlane,
  startPreprodDeployment,
  TASKS,
  writeResults,
} from "./support/scenario.ts";

const FAST_SLICE = new Set([
  "Deploy throttle",
  "CheckAlarms error",
  "CopyArtifact timeout",
  "Promote crash-after",
  "prod ApprovalGate crash-after",
]);

const running: LocalProcess[] = [];
afterAll(async () => {
  for (const local of running) await local.kill("SIGKILL");
  writeResults("tasks");
  removeHomes();
});

function planFor(task: (typeof TASKS)[number], kind: FaultKind): FaultPlan {
  if (task === "Rollback") return { CheckAlarms: { kind: "error" }, Rollback: { kind } };
  return { [task]: { kind } };
}

const matrix = TASKS.flatMap((task) => KINDS.map((kind) => ({ task, kind })));

describe("Task faults", () => {
  for (const { task, kind } of matrix) {
    const name = `${task} ${kind}`;
    it.runIf(FULL || FAST_SLICE.has(name))(`${name}: every invariant holds`, async () => {
      const started = Date.now();
      const { local, knownGood, executionArn } = await startPreprodDeployment(planFor(task, kind));
      running.push(local);
      let plane = local;
      const violations: Violation[] = [];
      if (kind === "crash-after") {
        if (!(await exited(local, 60_000)))
          violations.push({ invariant: "crash", detail: `${task} never crashed the plane` });
        plane = await startPlane({ home: local.home });
        running.push(plane);
      }
      const { status, error } = await finalStatus(plane, executionArn);
      violations.push(...(await settledInvariants(plane, knownGood)));
      // A throttle is what Retry is for: the deployment must still succeed.
      if (kind === "throttle" && task !== "Rollback" && status !== "SUCCEEDED")
        violations.push({
          invariant: "outcome",
          detail: `a throttled ${task} ended the deployment ${status} ${error ?? ""}`,
        });
      record({
        category: "tasks",
        name,
        ...(status ? { status } : {}),
        ...(error ? { error } : {}),
        violations,
        ms: Date.now() - started,
      });
      await plane.kill("SIGKILL");
      expect(violations).toEqual([]);
    });
  }
});

/** The Tasks that only act in prod (approval, the copy into prod's bucket) get a prod row too. */
const PROD_TASKS = ["ApprovalGate", "VerifyApproval", "CopyArtifact"] as const;

/**
 * Approves the execution once its email is in the outbox; returns when approved or when the
 * execution ended first.
 */
async function approveWhenAsked(local: LocalProcess, executionArn: string): Promise<void> {
  const name = executionArn.slice(executionArn.lastIndexOf(":") + 1);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (local.child.exitCode !== null || local.child.signalCode !== null) return;
    if (outbox(local, name).length > 0) {
      await approveByEmail(local, executionArn).catch(() => undefined);
      return;
    }
    const described = await local.sfn
      .send(new DescribeExecutionCommand({ executionArn }))
      .catch(() => undefined);
    if (described && described.status !== "RUNNING") return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("Task faults in prod (approval and copy)", () => {
  for (const task of PROD_TASKS) {
    for (const kind of KINDS) {
      const name = `prod ${task} ${kind}`;
      it.runIf(FULL || FAST_SLICE.has(name))(`${name}: every invariant holds`, async () => {
        const started = Date.now();
        const local = await startPlane({ faults: { [task]: { kind, stage: "prod" } } });
        running.push(local);
        const { request } = await throughPreprod(local, "v2");
        const knownGood = await knownGoodOf(local);
        const executionArn = (await startDeployment(local, "prod", request)).executionArn as string;
        let plane = local;
        const violations: Violation[] = [];
        await approveWhenAsked(local, executionArn);
        if (kind === "crash-after") {
          if (!(await exited(local, 60_000)))
            violations.push({ invariant: "crash", detail: `${task} never crashed the plane` });
          plane = await startPlane({ home: local.home });
          running.push(plane);
        }
        const { status, error } = await finalStatus(plane, executionArn);
        violations.push(...(await settledInvariants(plane, knownGood)));
        if (kind === "throttle" && status !== "SUCCEEDED")
          violations.push({
            invariant: "outcome",
            detail: `a throttled ${task} ended the deployment ${status} ${error ?? ""}`,
          });
        record({
          category: "tasks",
          name,
          ...(status ? { status } : {}),
          ...(error ? { error } : {}),
          violations,
          ms: Date.now() - started,
        });
        await plane.kill("SIGKILL");
        expect(violations).toEqual([]);
      });
    }
  }
});
