/**
 * `gantry` as CI runs it, against the local control plane: publish once, deploy to preprod,
 * validate, deploy to prod; retried jobs; input refused before anything is called.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployArgs, outputs, runCli, spawnCli, writeBuild } from "../support/cli.ts";
import {
  type LocalProcess,
  PREPROD_BUCKET,
  STATE_MACHINE,
  startLocalProcess,
} from "../support/local-process.ts";

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess();
});

afterAll(async () => {
  await local?.kill();
});

/** Every execution of a stage, by name. */
async function executions(stage: "preprod" | "prod"): Promise<string[]> {
  const out = await local.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE[stage], maxResults: 1000 }),
  );
  return (out.executions ?? []).map((e) => e.name ?? "");
}

const TIMESTAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}\S/;

describe("from a build to prod", () => {
  it("publishes once, deploys to preprod, validates, and deploys to prod once an approver decides", async () => {
    const build = writeBuild("v2");
    const githubOutput = join(local.home, "github-output.txt");
    writeFileSync(githubOutput, "");
    const publishArgs = [
      "artifact",
      "publish",
      "--service",
      "hello-service",
      "--version",
      build.version,
      "--file",
      build.file,
    ];

    const published = await runCli(publishArgs, { local, env: { GITHUB_OUTPUT: githubOutput } });
    expect(published.code, published.stderr).toBe(0);
    expect(outputs(published.stdout)).toEqual({ key: build.key, sha256: build.sha256 });
    expect(published.stderr).toContain(`published hello-service ${build.version.slice(0, 12)}`);
    expect(readFileSync(githubOutput, "utf8")).toBe(
      `key=${build.key}\nsha256=${build.sha256}\nbucket=${PREPROD_BUCKET}\n`,
    );
    const object = await local.s3.send(
      new GetObjectCommand({ Bucket: PREPROD_BUCKET, Key: build.key, ChecksumMode: "ENABLED" }),
    );
    expect(object.ChecksumSHA256).toBe(Buffer.from(build.sha256, "hex").toString("base64"));

    // Publishing the same bytes again (a retried build job) is fine and changes nothing.
    const again = await runCli([...publishArgs, "--json"], { local });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      key: build.key,
      sha256: build.sha256,
      uploaded: false,
    });

    const preprod = await runCli(deployArgs("preprod", build, "--wait", "--actor", "ci-bot"), {
      local,
    });
    expect(preprod.code, preprod.stdout + preprod.stderr).toBe(0);
    const lines = preprod.stdout.trimEnd().split("\n");
    expect(lines.every((line) => TIMESTAMPED.test(line))).toBe(true);
    expect(preprod.stdout).toMatch(/ {2}Deploy done \(\d+ ms\)/);
    expect(preprod.stdout).toContain("traffic: 50% on version");
    expect(preprod.stdout).toContain("approval: not required in preprod");
    expect(preprod.stdout).toContain("traffic: 100% on version");
    expect(preprod.stdout).toMatch(/Deployed hello-service [0-9a-f]{12} to preprod in [\d.]+ s/);
    expect(preprod.stdout).toContain("exit code 0 (deployed)");

    const validated = await runCli(
      [
        "artifact",
        "validate",
        "--service",
        "hello-service",
        "--version",
        build.version,
        "--sha256",
        build.sha256,
        "--actor",
        "ci-bot",
        "--ci-run-url",
        "https://github.com/acme/hello-service/actions/runs/42",
      ],
      { local },
    );
    expect(validated.code, validated.stderr).toBe(0);
    const record = await local.s3.send(
      new GetObjectCommand({
        Bucket: PREPROD_BUCKET,
        Key: `validations/hello-service/${build.version}.json`,
      }),
    );
    expect(JSON.parse((await record.Body?.transformToString()) ?? "{}")).toMatchObject({
      service: "hello-service",
      version: build.version,
      sha256: build.sha256,
      validatedBy: "ci-bot",
      ciRunUrl: "https://github.com/acme/hello-service/actions/runs/42",
    });

    // A caller claiming to be an auto-approve actor still waits for a person.
    const deploying = spawnCli(
      deployArgs("prod", build, "--wait", "--json", "--actor", "dependabot[bot]"),
      { local },
    );
    await deploying.waitForOutput(/approval: waiting for alice@example.com or bob@example.com/);
    const name = `hello-service-${build.version.slice(0, 12)}-`;
    const approver = await runCli(
      [
        "approve",
        (await executions("prod")).find((n) => n.startsWith(name)) ?? "",
        "--as",
        "bob@example.com",
      ],
      { local },
    );
    expect(approver.code, approver.stderr).toBe(0);
    const prod = await deploying.done;
    expect(prod.code, prod.stderr).toBe(0);
    // stdout is the document; the progress went to stderr as log lines.
    expect(prod.stderr).toMatch(
      /Z {2}approval: approved by bob@example\.com at a terminal \(verified\)/,
    );
    const summary = JSON.parse(prod.stdout);
    expect(summary).toMatchObject({
      status: "SUCCEEDED",
      result: "deployed",
      exitCode: 0,
      stage: "prod",
      service: "hello-service",
      version: build.version,
      actor: "dependabot[bot]",
      outcome: { status: "deployed" },
      approval: { status: "approved", by: "bob@example.com", how: "operator" },
      traffic: { weight: 100, phase: "baked" },
      error: null,
      rollback: null,
    });
    expect(summary.durationSeconds).toBeGreaterThan(0);
    const visited = summary.states.map((s: { name: string }) => s.name);
    expect(visited).toEqual(
      expect.arrayContaining([
        "VerifyPreprod",
        "ApprovalGate",
        "VerifyApproval",
        "Deploy",
        "Promote",
        "Deployed",
      ]),
    );
    const described = await local.sfn.send(
      new DescribeExecutionCommand({ executionArn: summary.executionArn }),
    );
    expect(described.status).toBe("SUCCEEDED");
  });
});

describe("a retried CI job", () => {
  it("finds the execution of a finished deploy instead of deploying again", async () => {
    const build = writeBuild("v1");
    await runCli(
      [
        "artifact",
        "publish",
        "--service",
        "hello-service",
        "--version",
        build.version,
        "--file",
        build.file,
      ],
      { local },
    );
    const first = await runCli(
      deployArgs("preprod", build, "--wait", "--json", "--actor", "ci-bot"),
      {
        local,
      },
    );
    expect(first.code, first.stderr).toBe(0);
    const { executionArn, name } = JSON.parse(first.stdout);
    const before = (await executions("preprod")).filter((n) => n === name).length;
    expect(before).toBe(1);

    const retried = await runCli(deployArgs("preprod", build, "--wait", "--actor", "ci-bot"), {
      local,
    });
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain(
      `already has execution ${name} in preprod with the same input`,
    );
    expect(retried.stdout).toContain(executionArn);
    expect(retried.stdout).toContain("exit code 0 (deployed)");
    expect((await executions("preprod")).filter((n) => n === name)).toHaveLength(1);

    // Without --wait, the retry reports how the first one ended.
    const reported = await runCli(deployArgs("preprod", build, "--json", "--actor", "ci-bot"), {
      local,
    });
    expect(reported.code).toBe(0);
    expect(JSON.parse(reported.stdout)).toMatchObject({ executionArn, result: "deployed" });

    // A different input under the same name is not a retry: exit 2, and how to deploy again.
    const other = await runCli(deployArgs("preprod", build, "--actor", "someone-else"), { local });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("already has an execution in preprod");
    expect(other.stderr).toContain("trigger.actor differ");
    expect(other.stderr).toContain("--attempt 2");
    expect((await executions("preprod")).filter((n) => n.startsWith(name))).toHaveLength(1);

    // --attempt 2 deploys it again, on purpose, under a new name.
    const redeploy = await runCli(
      deployArgs("preprod", build, "--attempt", "2", "--wait", "--json", "--actor", "someone-else"),
      { local },
    );
    expect(redeploy.code, redeploy.stderr).toBe(0);
    expect(JSON.parse(redeploy.stdout).name).toBe(`${name}-r2`);
  });

  it("follows the running execution when the job is retried while it runs", async () => {
    const build = writeBuild("v2");
    // v2 is published and deployed above; deploy it as attempt 3 so the name is fresh.
    const started = await runCli(
      deployArgs("preprod", build, "--attempt", "3", "--json", "--actor", "ci-bot"),
      { local },
    );
    expect(started.code, started.stderr).toBe(0);
    const first = JSON.parse(started.stdout);
    const retried = await runCli(
      deployArgs("preprod", build, "--attempt", "3", "--wait", "--json", "--actor", "ci-bot"),
      { local },
    );
    expect(retried.code, retried.stderr).toBe(0);
    const second = JSON.parse(retried.stdout);
    expect(second.executionArn).toBe(first.executionArn);
    expect(second.result).toBe("deployed");
    expect((await executions("preprod")).filter((n) => n === first.name)).toHaveLength(1);
  });
});

describe("input refused before any call", () => {
  it("exits 2 naming every bad field, and starts nothing", async () => {
    const before = [...(await executions("preprod")), ...(await executions("prod"))].length;
    const build = writeBuild("v2");

    const badSha = await runCli(
      [
        "deploy",
        "--stage",
        "prod",
        "--service",
        "hello-service",
        "--version",
        "not-a-sha",
        "--artifact-key",
        build.key,
        "--sha256",
        "ABC",
      ],
      { local },
    );
    expect(badSha.code).toBe(2);
    expect(badSha.stderr).toContain("--version: must be a git commit SHA");
    expect(badSha.stderr).toContain("--sha256: must be a SHA-256 digest");
    expect(badSha.stdout).toBe("");

    const unknown = await runCli(
      [
        ...deployArgs("preprod", { ...build, key: "billing/1.zip" }),
        "--service",
        "billing",
        "--json",
      ],
      { local },
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      "--service: is not a registered service (known: hello-service)",
    );
    const error = JSON.parse(unknown.stdout).error;
    expect(error.exitCode).toBe(2);
    expect(error.issues).toContainEqual({
      field: "--service",
      reason: "is not a registered service (known: hello-service)",
    });

    const outsidePrefix = await runCli(
      deployArgs("preprod", { ...build, key: "elsewhere/build.zip" }),
      {
        local,
      },
    );
    expect(outsidePrefix.code).toBe(2);
    expect(outsidePrefix.stderr).toContain("--artifact-key: must start with hello-service/");

    const missing = await runCli(["deploy", "--stage", "prod", "--service", "hello-service"], {
      local,
    });
    expect(missing.code).toBe(2);
    for (const flag of ["--version", "--artifact-key", "--sha256"]) {
      expect(missing.stderr).toContain(`${flag}: is required`);
    }

    const badStage = await runCli(deployArgs("preprod", build, "--stage", "staging"), { local });
    expect(badStage.code).toBe(2);
    expect(badStage.stderr).toContain("--stage must be preprod or prod");
    expect(badStage.stderr).toContain("Usage: gantry deploy");

    const after = [...(await executions("preprod")), ...(await executions("prod"))].length;
    expect(after).toBe(before);
  });

  it("refuses a bad --fix-for before any call: empty, not a watched alarm, or no analysis to judge it", async () => {
    const before = [...(await executions("preprod")), ...(await executions("prod"))].length;
    const build = writeBuild("v2");

    const empty = await runCli(
      deployArgs("prod", build, "--fix-for", "hello-service-prod-errors", "--fix-for", ""),
      { local },
    );
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("--fix-for needs a value");
    expect(empty.stderr).toContain("Usage: gantry deploy");

    const unwatched = await runCli(deployArgs("prod", build, "--fix-for", "billing-errors"), {
      local,
    });
    expect(unwatched.code).toBe(2);
    expect(unwatched.stderr).toContain(
      "--fix-for: names alarms hello-service.prod does not watch: billing-errors (it watches: hello-service-prod-errors)",
    );

    // The project registry analyses versions in prod only: preprod has nothing to judge a fix.
    const noAnalysis = await runCli(
      deployArgs("preprod", build, "--fix-for", "hello-service-preprod-errors"),
      { local },
    );
    expect(noAnalysis.code).toBe(2);
    expect(noAnalysis.stderr).toContain("--fix-for: hello-service.preprod has no version analysis");

    const after = [...(await executions("preprod")), ...(await executions("prod"))].length;
    expect(after).toBe(before);
  });

  it("explains --fix-for in deploy's help", async () => {
    const help = await runCli(["deploy", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--fix-for ALARM +a fix deployed during an incident/);
    // The notes are wrapped: read them as one line.
    expect(help.stdout.replace(/\s+/g, " ")).toContain(
      "Those alarms then no longer stop it; the stage's version analysis judges it instead",
    );
  });

  it("refuses to publish other bytes under an existing key, and to validate a version twice with other bytes", async () => {
    const v2 = writeBuild("v2");
    const v1 = writeBuild("v1");
    await runCli(
      [
        "artifact",
        "publish",
        "--service",
        "hello-service",
        "--version",
        v2.version,
        "--file",
        v2.file,
      ],
      { local },
    );
    const conflict = await runCli(
      [
        "artifact",
        "publish",
        "--service",
        "hello-service",
        "--version",
        v2.version,
        "--file",
        v1.file,
        "--key",
        v2.key,
      ],
      { local },
    );
    expect(conflict.code).toBe(5);
    expect(conflict.stderr).toContain("already holds other bytes");
    expect(conflict.stderr).toContain("artifacts are immutable");

    // v2 was validated by the first test: the same version with other bytes is refused.
    const revalidate = await runCli(
      [
        "artifact",
        "validate",
        "--service",
        "hello-service",
        "--version",
        v2.version,
        "--sha256",
        v1.sha256,
      ],
      { local },
    );
    expect(revalidate.code).toBe(5);
    expect(revalidate.stderr).toContain(
      `preprod already validated hello-service ${v2.version} with SHA-256 ${v2.sha256}`,
    );
  });

  it("publishes nothing for a file that is not there", async () => {
    const result = await runCli(
      [
        "artifact",
        "publish",
        "--service",
        "hello-service",
        "--version",
        "abcdef1",
        "--file",
        "/nonexistent/build.zip",
      ],
      { local },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--file: cannot read /nonexistent/build.zip");
  });
});

describe("following from a second terminal", () => {
  it("status shows a running deployment, and status --wait follows it to the end", async () => {
    const build = writeBuild("v2");
    const deploy = spawnCli(
      deployArgs("preprod", build, "--attempt", "4", "--wait", "--actor", "ci-bot"),
      { local },
    );
    await deploy.waitForOutput(/Deploy done/);
    const name = /as (hello-service-\S+)/.exec(deploy.stdout())?.[1] ?? "";
    const status = await runCli(["status", name, "--stage", "preprod", "--json"], { local });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).name).toBe(name);
    const followed = await runCli(["status", name, "--stage", "preprod", "--wait"], { local });
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toContain(`following ${name}`);
    expect(followed.stdout).toMatch(/ {2}Promote done/);
    expect(followed.stdout).toContain("exit code 0 (deployed)");
    expect((await deploy.done).code).toBe(0);
  });
});
