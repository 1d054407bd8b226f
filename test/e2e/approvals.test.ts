/**
 * Approvals end to end against the local control plane, as an approver would: the email in
 * the outbox (an RFC 5322 file), its link opened (a confirmation page), the form posted.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { confirm, emailFor, link } from "@gantry/local/approver";
import { afterAll, describe, expect, it } from "vitest";
import {
  type LocalProcess,
  pendingApprovalToken,
  ROOT,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitForStatus,
} from "../support/local-process.ts";

const running: LocalProcess[] = [];
afterAll(async () => {
  for (const local of running) await local.kill();
});

async function start(options: Parameters<typeof startLocalProcess>[0] = {}) {
  const local = await startLocalProcess(options);
  running.push(local);
  return local;
}

async function historyOf(local: LocalProcess, executionArn: string) {
  return (
    (await local.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 })))
      .events ?? []
  );
}

describe("approving from the emailed link", () => {
  it("shows the details on GET, decides only on the confirming POST, and the deployment moves on", async () => {
    const local = await start({ env: { GANTRY_LOG_LEVEL: "DEBUG" } });
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", request);
    const arn = started.executionArn as string;
    const name = arn.split(":").at(-1) as string;

    const alice = await emailFor(local, name, "alice@example.com");
    await emailFor(local, name, "bob@example.com");
    expect(alice.subject).toBe(
      `[Gantry] Approve hello-service ${request.version.slice(0, 12)} for prod?`,
    );
    expect(alice.text).toContain(request.artifact.sha256);
    expect(alice.text).toContain(`https://github.com/acme/hello-service/commit/${request.version}`);
    expect(alice.text).toContain("validated by e2e-tests");

    // Opening the link (or a mail scanner fetching it) decides nothing.
    for (let i = 0; i < 3; i++) await (await fetch(link(alice, "Approve"))).text();
    expect((await local.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe(
      "RUNNING",
    );
    expect((await historyOf(local, arn)).some((e) => e.type === "TaskSucceeded")).toBe(false);

    const { page, pageBody, result, resultBody } = await confirm(link(alice, "Approve"), "ship it");
    expect(page.status).toBe(200);
    expect(pageBody).toContain("You are deciding as <strong>alice@example.com</strong>");
    expect(result.status).toBe(200);
    expect(resultBody).toContain("Approved: hello-service");

    const done = await waitForStatus(local, arn);
    expect(done.status).toBe("SUCCEEDED");
    // The decision and the approver are in the execution history and the deployment record.
    const events = await historyOf(local, arn);
    const verified = JSON.parse(
      events.find(
        (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "VerifyApproval",
      )?.stateExitedEventDetails?.output ?? "{}",
    ).approval;
    expect(verified).toMatchObject({
      approved: true,
      how: "approver",
      by: "alice@example.com",
      comment: "ship it",
      verified: true,
    });
    const records = join(local.home, "buckets/gantry-state-prod/objects/deployments/hello-service");
    const record = JSON.parse(
      readFileSync(join(records, readdirSync(records)[0] as string), "utf8"),
    );
    expect(record.approval).toMatchObject({ by: "alice@example.com", comment: "ship it" });

    // Bob's link is spent now: 409, saying by whom and when.
    const bob = await confirm(link(await emailFor(local, name, "bob@example.com"), "Reject"));
    expect(bob.page.status).toBe(409);
    expect(bob.pageBody).toContain("already approved by alice@example.com");

    // No task token or signing key anywhere but their own records: files, pages, logs, history.
    const token = await pendingApprovalToken(local, arn);
    // Sealed ({sha256, value}) since the durable-files work, bare before.
    const keyFile = JSON.parse(readFileSync(join(local.home, "signing-key.json"), "utf8"));
    const signingKey = (keyFile.value ?? keyFile).current as string;
    const leaks: string[] = [];
    const scan = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        const where = relative(local.home, path);
        if (statSync(path).isDirectory()) {
          if (!where.endsWith("approval-tokens") && !where.includes("/code")) scan(path);
          continue;
        }
        if (where === "signing-key.json") continue;
        const text = readFileSync(path, "latin1");
        if (text.includes(token) || text.includes(signingKey)) leaks.push(where);
      }
    };
    scan(local.home);
    expect(leaks).toEqual([]);
    for (const text of [
      pageBody,
      resultBody,
      bob.pageBody,
      local.output(),
      JSON.stringify(events),
    ]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(signingKey);
    }
    expect(local.output()).toContain('"function":"approval-gate"'); // the function logs were captured
  });
});

describe("the other ways an approval ends", () => {
  it("rejecting fails the deployment with ApprovalRejected, nothing deployed", async () => {
    const local = await start();
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", request);
    const name = (started.executionArn as string).split(":").at(-1) as string;
    const { result, resultBody } = await confirm(
      link(await emailFor(local, name, "bob@example.com"), "Reject"),
      "not during the freeze",
    );
    expect(result.status).toBe(200);
    expect(resultBody).toContain("Rejected");

    const done = await waitForStatus(local, started.executionArn as string);
    expect(done).toMatchObject({ status: "FAILED", error: "ApprovalRejected" });
    expect(done.cause).toContain("rejected by bob@example.com");
    expect(done.cause).toContain("not during the freeze");
    const events = await historyOf(local, started.executionArn as string);
    expect(events.some((e) => e.stateEnteredEventDetails?.name === "CopyArtifact")).toBe(false);
  });

  it("times out on its own with ApprovalTimedOut, after which the links answer 410", async () => {
    const local = await start({
      env: { GANTRY_REGISTRY: join(ROOT, "test/support/registries/short-approval.ts") },
    });
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", request);
    const name = (started.executionArn as string).split(":").at(-1) as string;
    const mail = await emailFor(local, name, "alice@example.com");

    const done = await waitForStatus(local, started.executionArn as string);
    expect(done).toMatchObject({ status: "FAILED", error: "ApprovalTimedOut" });
    const late = await confirm(link(mail, "Approve"));
    expect(late.page.status).toBe(410);
  });

  it("refuses a decision that arrives after the execution was stopped, and changes nothing", async () => {
    const local = await start();
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", request);
    const name = (started.executionArn as string).split(":").at(-1) as string;
    const mail = await emailFor(local, name, "alice@example.com");
    await local.sfn.send(
      new StopExecutionCommand({ executionArn: started.executionArn, cause: "changed our minds" }),
    );

    const page = await fetch(link(mail, "Approve"));
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("no longer waiting");
    const decisions = readdirSync(
      join(local.home, "buckets/gantry-state-prod/objects/approvals"),
    ).filter((f) => f.endsWith(".decision.json"));
    expect(decisions).toEqual([]);
    expect(
      (await local.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn })))
        .status,
    ).toBe("ABORTED");
  });
});
