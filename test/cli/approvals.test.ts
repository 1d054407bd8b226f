/**
 * Prod deployments that wait for a person, decided with `gantry approve|reject` from a second
 * process while the first follows: a version that is approved and then rolled back under prod
 * traffic (exit 3), and one that is rejected (exit 4).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deployArgs, runCli, spawnCli, throughPreprodWithCli } from "../support/cli.ts";
import { type LocalProcess, startLocalProcess } from "../support/local-process.ts";

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess();
});

afterAll(async () => {
  await local?.kill();
});

/** The executions waiting for a decision, from the operator API (as the local operator). */
async function waitingExecutions(): Promise<string[]> {
  const secret = readFileSync(join(local.home, "operator-secret"), "utf8").trim();
  const pending = await fetch(`${local.webEndpoint}/operator/approvals`, {
    headers: { authorization: `Bearer ${secret}` },
  }).then((r) => r.json() as Promise<{ approvals: { execution: { id: string } }[] }>);
  return pending.approvals.map((a) => a.execution.id);
}

// A test that fails while its deploy waits would keep the prod lock and fail the next one too.
afterEach(async () => {
  for (const arn of await waitingExecutions()) {
    await runCli(["stop", arn, "--cause", "left waiting by a failed test"], { local });
  }
});

/** The decision records in the prod state bucket (on disk, as the approval service wrote them). */
function decisions(): { approvalId: string; decision: string; by: string; channel: string }[] {
  const dir = join(local.home, "buckets/gantry-state-prod/objects/approvals");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".decision.json"))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")));
}

describe("gantry approve", () => {
  it("approves from a second process; the version fails under prod traffic and the waiting deploy exits 3", async () => {
    const build = await throughPreprodWithCli(local, "v4-prod-bug");
    const deploy = spawnCli(deployArgs("prod", build, "--wait", "--actor", "octocat"), { local });
    // The hint is the approval's last line: once it is out, the whole update is.
    await deploy.waitForOutput(
      /approval: or at a terminal, as a registered operator: gantry approve \S+/,
    );
    const name =
      /gantry approve (hello-service-[0-9a-f]{12}-[0-9a-f]{8})/.exec(deploy.stdout())?.[1] ?? "";
    expect(deploy.stdout()).toContain(
      "approval: waiting for alice@example.com or bob@example.com; links emailed to alice@example.com, bob@example.com (local outbox: http://127.0.0.1:",
    );

    // The local operator may act as alice or bob (the registry's operators): it must say which,
    // and may not name anyone else. Nothing is recorded either way.
    const which = await runCli(["approve", name], { local });
    expect(which.code).toBe(2);
    expect(which.stderr).toContain("may decide as alice@example.com or bob@example.com");
    const stranger = await runCli(["approve", name, "--as", "mallory@example.com"], { local });
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain("Not you");
    expect(decisions()).toHaveLength(0);

    const approved = await runCli(
      ["approve", name, "--as", "alice@example.com", "--comment", "ship it"],
      { local },
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(
      `Approved hello-service ${build.version.slice(0, 12)} for prod as alice@example.com`,
    );
    // Recorded the same way as a link's decision, with the operator channel.
    expect(decisions()).toEqual([
      expect.objectContaining({
        decision: "approved",
        by: "alice@example.com",
        channel: "operator",
        principal: "local",
        comment: "ship it",
        seal: expect.objectContaining({ mac: expect.any(String) }),
      }),
    ]);

    const result = await deploy.done;
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toContain(
      'approval: approved by alice@example.com at a terminal: "ship it" (verified)',
    );
    expect(result.stdout).toMatch(/traffic: \d+% on version \d+/);
    expect(result.stdout).toContain("rolling back after AlarmTriggered");
    expect(result.stdout).toMatch(/rolled back: version \d+ serves all traffic again/);
    expect(result.stdout).toMatch(
      /Rolled back: hello-service [0-9a-f]{12} was not deployed to prod/,
    );
    expect(result.stdout).toContain("exit code 3 (rolled back)");

    // A second decision on the same approval is refused: it is spent.
    const twice = await runCli(["approve", name, "--as", "bob@example.com"], { local });
    expect(twice.code).toBe(5);
    expect(twice.stderr).toContain(`nothing is waiting for a decision on ${name}`);

    const status = await runCli(["status", name, "--stage", "prod"], { local });
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("FAILED (rolled-back)");
  });
});

describe("gantry reject", () => {
  it("rejects by execution ARN; the waiting deploy (--json) exits 4", async () => {
    const build = await throughPreprodWithCli(local, "v2");
    const deploy = spawnCli(deployArgs("prod", build, "--wait", "--json", "--actor", "octocat"), {
      local,
    });
    // --json prints nothing until the end: find the execution through the approval API instead.
    const ours = `:hello-service-${build.version.slice(0, 12)}-`;
    let arn = "";
    for (let i = 0; i < 200 && !arn; i++) {
      arn = (await waitingExecutions()).find((id) => id.includes(ours)) ?? "";
      if (!arn) await new Promise((r) => setTimeout(r, 50));
    }
    expect(arn).toMatch(/:execution:gantry-prod:hello-service-/);
    expect(deploy.stdout()).toBe("");

    const rejected = await runCli(
      ["reject", arn, "--as", "bob@example.com", "--comment", "not on a Friday", "--json"],
      { local },
    );
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({
      decision: { decision: "rejected", by: "bob@example.com", channel: "operator" },
      execution: { id: arn },
    });

    const result = await deploy.done;
    expect(result.code, result.stderr).toBe(4);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      executionArn: arn,
      status: "FAILED",
      result: "rejected",
      exitCode: 4,
      error: "ApprovalRejected",
      approval: { status: "rejected", approvers: ["alice@example.com", "bob@example.com"] },
      rollback: null,
    });
    expect(summary.cause).toContain("rejected by bob@example.com");
    expect(summary.cause).toContain("not on a Friday");
  });
});
