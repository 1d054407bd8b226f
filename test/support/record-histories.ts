/**
 * Records Step Functions histories from the local control plane as the JSON fixtures of the
 * core history reader's tests (packages/core/src/history/fixtures): one deployment of each kind
 * (deployed, rolled back, rejected, forged approval, timed out, stopped, invalid input...).
 * Run again after a change to the workflow or the history the local plane records:
 *
 *     node test/support/record-histories.ts [outdir]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { executionName } from "@gantry/core";
import { approveByEmail, confirm, emailFor, link } from "@gantry/local/approver";
import {
  type LocalProcess,
  pendingApprovalToken,
  publish,
  ROOT,
  requestFor,
  STATE_MACHINE,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitForStatus,
} from "./local-process.ts";

const out = process.argv[2] ?? join(ROOT, "packages/core/src/history/fixtures");
mkdirSync(out, { recursive: true });

async function history(local: LocalProcess, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await local.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function save(local: LocalProcess, file: string, scenario: string, executionArn: string) {
  const d = await waitForStatus(local, executionArn, undefined, 120_000);
  const events = await history(local, executionArn);
  const description = {
    executionArn: d.executionArn,
    stateMachineArn: d.stateMachineArn,
    name: d.name,
    status: d.status,
    startDate: d.startDate,
    stopDate: d.stopDate,
    ...(d.error ? { error: d.error } : {}),
    ...(d.cause ? { cause: d.cause } : {}),
    ...(d.output ? { output: d.output } : {}),
  };
  const text = `{\n "scenario": ${JSON.stringify(scenario)},\n "description": ${JSON.stringify(description)},\n "events": [\n${events.map((e) => `  ${JSON.stringify(e)}`).join(",\n")}\n ]\n}\n`;
  writeFileSync(join(out, `${file}.json`), text);
  console.log(
    `${file}: ${d.status} ${d.error ?? ""} ${events.length} events, ${text.length} bytes`,
  );
}

function cli(local: LocalProcess, args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "packages/cli/dist/gantry.mjs"), ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      GANTRY_HOME: local.home,
      AWS_EC2_METADATA_DISABLED: "true",
    },
    encoding: "utf8",
  });
  if (r.status !== 0)
    throw new Error(`gantry ${args.join(" ")}: ${r.status} ${r.stdout} ${r.stderr}`);
  return r.stdout;
}

const local = await startLocalProcess({ timeScale: 0.01 });
try {
  // preprod: no approval needed.
  const v2 = await throughPreprod(local, "v2");
  // the preprod execution of v2 is the first one: find it
  const preArn = `${STATE_MACHINE.preprod.replace(":stateMachine:", ":execution:")}:${executionName(v2.request, 1)}`;
  await save(
    local,
    "preprod-deployed",
    "v2 deployed to preprod: no approval required, traffic shifted, baked",
    preArn,
  );

  // prod, approved by email.
  const good = await startDeployment(local, "prod", v2.request);
  await approveByEmail(local, good.executionArn as string);
  await save(
    local,
    "prod-deployed",
    "v2 deployed to prod, approved through the emailed link",
    good.executionArn as string,
  );

  // prod, rejected through the emailed link.
  const rejected = await startDeployment(local, "prod", v2.request);
  const rejName = (rejected.executionArn as string).split(":").at(-1) as string;
  const mail = await emailFor(local, rejName, "bob@example.com");
  const r = await confirm(link(mail, "Reject"), "not during the freeze");
  if (r.result.status !== 200) throw new Error(`reject: ${r.result.status}`);
  await save(
    local,
    "prod-rejected",
    "v2 again in prod (attempt 2): bob rejected it through the emailed link",
    rejected.executionArn as string,
  );

  // prod, the task completed by someone holding the token: VerifyApproval refuses.
  const forged = await startDeployment(local, "prod", v2.request);
  const token = await pendingApprovalToken(local, forged.executionArn as string);
  await local.sfn.send(
    new SendTaskSuccessCommand({
      taskToken: token,
      output: JSON.stringify({
        approved: true,
        how: "approver",
        by: "alice@example.com",
        verified: true,
      }),
    }),
  );
  await save(
    local,
    "prod-approval-not-verified",
    "v2 in prod (attempt 3): the approval task completed with a forged decision; VerifyApproval refuses it",
    forged.executionArn as string,
  );

  // prod, stopped while waiting for approval.
  const stopped = await startDeployment(local, "prod", v2.request);
  await pendingApprovalToken(local, stopped.executionArn as string);
  await local.sfn.send(
    new StopExecutionCommand({
      executionArn: stopped.executionArn,
      error: "StoppedByOperator",
      cause: "wrong version",
    }),
  );
  await save(
    local,
    "prod-stopped",
    "v2 in prod (attempt 4): stopped with StopExecution while waiting for approval",
    stopped.executionArn as string,
  );

  // prod, a bug only prod traffic finds: approved by an operator (gantry approve), rolled back.
  const v4 = await throughPreprod(local, "v4-prod-bug");
  const bad = await startDeployment(local, "prod", v4.request);
  const badName = (bad.executionArn as string).split(":").at(-1) as string;
  await pendingApprovalToken(local, bad.executionArn as string);
  cli(local, [
    "approve",
    badName,
    "--stage",
    "prod",
    "--as",
    "alice@example.com",
    "--comment",
    "ship it",
  ]);
  await save(
    local,
    "prod-rolled-back",
    "v4-prod-bug in prod: approved with gantry approve, its alarm fired, rolled back",
    bad.executionArn as string,
  );

  // preprod, broken everywhere: the canary fails, nothing had been given traffic.
  const v3 = await publish(local, "v3-broken");
  const broken = await startDeployment(local, "preprod", requestFor(v3));
  await save(
    local,
    "preprod-canary-failed",
    "v3-broken in preprod: the canary fails, rolled back before any traffic",
    broken.executionArn as string,
  );

  // prod, v2 again after preprod moved on to other code: PreprodNotValidated.
  const stale = await startDeployment(local, "prod", v2.request);
  await save(
    local,
    "prod-preprod-not-validated",
    "v2 in prod (attempt 5) after preprod moved on: VerifyPreprod refuses",
    stale.executionArn as string,
  );

  // invalid input: an unknown service.
  const invalid = await local.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: STATE_MACHINE.prod,
      name: "fixture-unknown-service",
      input: JSON.stringify({
        service: "billing-service",
        version: "0123456789abcdef0123456789abcdef01234567",
        artifact: { key: "billing-service/x.zip", sha256: "0".repeat(64) },
        trigger: { actor: "octocat" },
      }),
    }),
  );
  await save(
    local,
    "prod-invalid-input",
    "an unknown service: refused by ValidateInput",
    invalid.executionArn as string,
  );
} finally {
  await local.kill();
}

// Approval timeout needs a registry whose prod approval times out in a minute (0.6 s here).
const short = await startLocalProcess({
  timeScale: 0.01,
  env: { GANTRY_REGISTRY: join(ROOT, "test/support/registries/short-approval.ts") },
});
try {
  const v2 = await throughPreprod(short, "v2");
  const timedOut = await startDeployment(short, "prod", v2.request);
  await save(
    short,
    "prod-approval-timed-out",
    "v2 in prod: nobody decided before the approval timed out",
    timedOut.executionArn as string,
  );
} finally {
  await short.kill();
}
