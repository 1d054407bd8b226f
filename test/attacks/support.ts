/**
 * What the approval attack suites share, against the local control plane as `npm start` runs
 * it: clearing the prod executions an attack left waiting, the prod state bucket, a prod
 * deployment waiting for its approval (with the task token an attacker can read), and the
 * files of the data directory that show whether prod moved.
 *
 * @example
 * ```ts
 * afterEach(() => stopRunningProd(local));
 * const waiting = await waitingProdDeployment(local, request);
 * expect(prodAliasOf(local)).toEqual(alias);
 * ```
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ListExecutionsCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { isApprovalRecordKey, recordKeys } from "@gantry/core";
import { LocalBuckets } from "@gantry/local";
import { emailFor } from "@gantry/local/approver";
import {
  type LocalProcess,
  type requestFor,
  STATE_MACHINE,
  startDeployment,
  waitFor,
  waitForStatus,
} from "../support/local-process.ts";

/** Stops every running prod execution: one an attack left waiting would hold the prod lock. */
export async function stopRunningProd(local: LocalProcess): Promise<void> {
  const running = await local.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE.prod, statusFilter: "RUNNING" }),
  );
  for (const execution of running.executions ?? []) {
    await local.sfn.send(new StopExecutionCommand({ executionArn: execution.executionArn }));
    await waitForStatus(local, execution.executionArn as string);
  }
}

/** The prod state bucket (gantry-state-prod) of the local world. */
export function prodStateBucket(local: LocalProcess) {
  return new LocalBuckets(join(local.home, "buckets")).records("gantry-state-prod");
}

export interface Waiting {
  readonly arn: string;
  readonly name: string;
  readonly approvalId: string;
  /** The task token: in AWS anyone allowed GetExecutionHistory can read it. */
  readonly token: string;
}

/** A prod deployment of `input` waiting for its approval, emails sent. */
export async function waitingProdDeployment(
  local: LocalProcess,
  input: ReturnType<typeof requestFor>,
): Promise<Waiting> {
  const started = await startDeployment(local, "prod", input);
  const arn = started.executionArn as string;
  const name = arn.split(":").at(-1) as string;
  await emailFor(local, name, "bob@example.com");
  // What the attacker finds in the state bucket: the approval record naming this execution.
  const approvalId = await waitFor(
    async () => {
      const records = prodStateBucket(local);
      for (const key of await records.list("approvals/")) {
        if (!isApprovalRecordKey(key)) continue;
        const approval = await records.get<{ id: string; execution: { id: string } }>(key);
        if (approval?.value.execution.id === arn) return approval.value.id;
      }
      return undefined;
    },
    10_000,
    () => `no approval record for ${arn}`,
  );
  const token = (
    await prodStateBucket(local).get<{ taskToken: string }>(recordKeys.approvalToken(approvalId))
  )?.value.taskToken as string;
  return { arn, name, approvalId, token };
}

/** A JSON file of the data directory: sealed ({sha256, value}) since the durable-files work, bare before. */
export function storedJson(file: string) {
  const raw = JSON.parse(readFileSync(file, "utf8"));
  return raw && typeof raw.sha256 === "string" && "value" in raw ? raw.value : raw;
}

/** hello-service-prod:live as the local world keeps it. */
export function prodAliasOf(local: LocalProcess): {
  version: string;
  weights: Record<string, number>;
} {
  return storedJson(join(local.home, "functions/hello-service-prod/function.json")).aliases.live;
}

/** The status of a prod execution (RUNNING, SUCCEEDED, ...), or undefined when none has `arn`. */
export async function prodStatus(local: LocalProcess, arn: string): Promise<string | undefined> {
  const out = await local.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE.prod }),
  );
  return out.executions?.find((e) => e.executionArn === arn)?.status;
}
