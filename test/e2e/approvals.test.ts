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
import { afterAll, describe, expect, it } from "vitest";
import {
  type LocalProcess,
  pendingApprovalToken,
  ROOT,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitFor,
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

interface Mail {
  file: string;
  to: string;
  subject: string;
  text: string;
}

/** Reads the outbox's .eml files (RFC 5322, multipart/alternative) for an execution. */
function outbox(local: LocalProcess, executionName: string): Mail[] {
  const dir = join(local.home, "outbox");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .map((file) => {
      const raw = readFileSync(join(dir, file), "utf8");
      const [head = "", ...rest] = raw.split("\r\n\r\n");
      const header = (name: string) => new RegExp(`^${name}: (.*)$`, "mi").exec(head)?.[1] ?? "";
      const boundary = /boundary="([^"]+)"/.exec(head)?.[1] ?? "";
      const textPart =
        rest
          .join("\r\n\r\n")
          .split(`--${boundary}`)
          .find((p) => p.includes("Content-Type: text/plain")) ?? "";
      return {
        file,
        to: header("To"),
        subject: header("Subject"),
        text: textPart.split("\r\n\r\n").slice(1).join("\r\n\r\n"),
      };
    })
    .filter((m) => m.text.includes(executionName));
}

async function emailFor(
  local: LocalProcess,
  executionName: string,
  approver: string,
): Promise<Mail> {
  return waitFor(
    () => outbox(local, executionName).find((m) => m.to === approver),
    20_000,
    () => `no email to ${approver}`,
  );
}

function link(mail: Mail, action: "Approve" | "Reject"): string {
  const url = new RegExp(`^${action}:\\s+(\\S+)$`, "m").exec(mail.text)?.[1];
  if (!url) throw new Error(`no ${action} link in ${mail.file}`);
  return url;
}

/** Opens a link as a browser would, then submits the confirmation form. */
async function confirm(
  url: string,
  comment?: string,
): Promise<{ page: Response; pageBody: string; result: Response; resultBody: string }> {
  const page = await fetch(url);
  const pageBody = await page.text();
  const form = new URLSearchParams();
  for (const match of pageBody.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(match[1] as string, decodeEntities(match[2] as string));
  }
  if (comment) form.set("comment", comment);
  const action = /<form method="post" action="([^"]+)">/.exec(pageBody)?.[1] ?? "";
  const result = await fetch(new URL(action, url), {
    method: "POST",
    body: form,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  return { page, pageBody, result, resultBody: await result.text() };
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
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
    const decision = JSON.parse(
      events.find((e) => e.type === "TaskSucceeded")?.taskSucceededEventDetails?.output ?? "{}",
    );
    expect(decision).toMatchObject({
      approved: true,
      how: "approver",
      by: "alice@example.com",
      comment: "ship it",
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
    const signingKey = JSON.parse(readFileSync(join(local.home, "signing-key.json"), "utf8"))
      .current as string;
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
    expect(local.output()).toContain('"function":"request-approval"'); // the function logs were captured
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
