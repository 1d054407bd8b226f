/**
 * The operating commands (status, history, list, stop), the help, and the errors a user meets
 * first: a control plane that is not running, no AWS credentials, an execution that does not
 * exist, bad flags.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLI_LAUNCHER,
  deployArgs,
  runCli,
  spawnCli,
  throughPreprodWithCli,
} from "../support/cli.ts";
import { type LocalProcess, startLocalProcess } from "../support/local-process.ts";

let local: LocalProcess;
let preprodName = "";
let prodArn = "";
let build: Awaited<ReturnType<typeof throughPreprodWithCli>>;

beforeAll(async () => {
  local = await startLocalProcess();
  build = await throughPreprodWithCli(local, "v2");
  const listed = await runCli(["list", "--stage", "preprod", "--json"], { local });
  preprodName = JSON.parse(listed.stdout).executions[0].name;
});

afterAll(async () => {
  await local?.kill();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 1;
}

describe("status, history, list", () => {
  it("status describes a finished execution, exit code as deploy's", async () => {
    const plain = await runCli(["status", preprodName, "--stage", "preprod"], { local });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`${preprodName}  (preprod)`);
    expect(plain.stdout).toMatch(/status\s+SUCCEEDED \(deployed\)/);
    expect(plain.stdout).toMatch(/traffic\s+100% on version \d+, baked/);
    expect(plain.stdout).toMatch(/exit code\s+0 \(deployed\)/);

    const json = await runCli(["status", preprodName, "--json"], { local });
    // The name exists in preprod only, so no --stage is needed.
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: preprodName,
      stage: "preprod",
      result: "deployed",
    });
  });

  it("history prints every event, oldest first", async () => {
    const plain = await runCli(["history", preprodName, "--stage", "preprod"], { local });
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\s+1 {2}\S+Z {2}ExecutionStarted/);
    expect(lines.at(-1)).toMatch(/ExecutionSucceeded/);
    expect(plain.stdout).toMatch(/TaskStateEntered\s+Deploy/);

    const json = await runCli(["history", preprodName, "--stage", "preprod", "--json"], { local });
    const { events } = JSON.parse(json.stdout);
    expect(events.map((e: { id: number }) => e.id)).toEqual(
      events.map((_: unknown, i: number) => i + 1),
    );
  });

  it("list shows recent executions, filtered by stage, status and service", async () => {
    const all = await runCli(["list"], { local });
    expect(all.code).toBe(0);
    expect(all.stdout.split("\n")[0]).toMatch(/^NAME\s+STAGE\s+STATUS\s+STARTED\s+DURATION$/);
    expect(all.stdout).toContain(preprodName);

    const json = await runCli(
      [
        "list",
        "--stage",
        "preprod",
        "--status",
        "succeeded",
        "--service",
        "hello-service",
        "--limit",
        "1",
        "--json",
      ],
      { local },
    );
    const { executions } = JSON.parse(json.stdout);
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({
      name: preprodName,
      stage: "preprod",
      status: "SUCCEEDED",
    });

    const none = await runCli(["list", "--service", "billing"], { local });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("no executions of billing");
  });
});

describe("stop", () => {
  it("stops a deployment waiting for approval", async () => {
    const deploy = spawnCli(deployArgs("prod", build, "--wait", "--actor", "octocat"), { local });
    await deploy.waitForOutput(/approval: waiting for/);
    prodArn = /execution (arn:\S+)/.exec(deploy.stdout())?.[1] ?? "";
    const stopped = await runCli(["stop", prodArn, "--cause", "wrong version"], { local });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain("(ABORTED): wrong version");

    const result = await deploy.done;
    expect(result.code).toBe(5);
    expect(result.stdout).toContain("Stopped: hello-service");
    expect(result.stdout).toContain("StoppedByOperator: wrong version");
    const described = await local.sfn.send(new DescribeExecutionCommand({ executionArn: prodArn }));
    expect(described.status).toBe("ABORTED");

    const again = await runCli(["stop", prodArn], { local });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("is not running (ABORTED): nothing to stop");
  });
});

describe("errors that say what to do next", () => {
  it("a control plane that is not running", async () => {
    const port = await closedPort();
    const refused = await runCli(["list", "--endpoint", `http://127.0.0.1:${port}`], { local });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain(`cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(refused.stderr).toContain("start the local control plane with `npm start`");
    expect(refused.stderr).toContain("--endpoint");

    const nothing = await runCli(["status", "x", "--stage", "prod"], {
      env: { GANTRY_HOME: mkdtempSync(join(tmpdir(), "gantry-empty-")) },
    });
    expect(nothing.code).toBe(5);
    expect(nothing.stderr).toContain("no control plane to talk to");
    expect(nothing.stderr).toContain("npm start");
  });

  it("no AWS credentials", async () => {
    const result = await runCli(
      [
        "list",
        "--stage",
        "prod",
        "--state-machine-arn",
        "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-prod",
      ],
      { env: { HOME: mkdtempSync(join(tmpdir(), "gantry-nohome-")), AWS_REGION: "us-east-1" } },
    );
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("no AWS credentials were found");
    expect(result.stderr).toContain("aws-actions/configure-aws-credentials");
  });

  it("an execution that does not exist", async () => {
    const result = await runCli(["status", "hello-service-0000000-00000000", "--stage", "prod"], {
      local,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no execution hello-service-0000000-00000000 in prod");
    expect(result.stderr).toContain("gantry list");
  });

  it("bad flags: exit 2 with the command's usage", async () => {
    const unknown = await runCli(["deploy", "--stage", "prod", "--frobnicate"], { local });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option --frobnicate");
    expect(unknown.stderr).toContain("Usage: gantry deploy [options]");

    const noValue = await runCli(["list", "--limit"], { local });
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain("--limit needs a value");

    const command = await runCli(["deploi"], { local });
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command: deploi");

    const missing = await runCli(["status"], { local });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing <execution>");

    const none = await runCli([], { local });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: gantry <command> [options]");
  });

  it("approve of something that is not waiting", async () => {
    const result = await runCli(["approve", "whatever"], { local });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("nothing is waiting for a decision on whatever");
  });

  it("approve without the operator secret", async () => {
    const home = mkdtempSync(join(tmpdir(), "gantry-no-secret-"));
    writeFileSync(join(home, "endpoints.json"), readFileSync(join(local.home, "endpoints.json")));
    const result = await runCli(["approve", "whatever"], { env: { GANTRY_HOME: home } });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`no operator secret at ${join(home, "operator-secret")}`);
  });
});

describe("help and the launcher", () => {
  it("gantry --help through the bin launcher, and every command's --help", async () => {
    const help = await runCli(["--help"], { entry: CLI_LAUNCHER });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: gantry <command> [options]");
    expect(help.stdout).toContain("Exit codes: 0 deployed");
    for (const command of [
      ["deploy"],
      ["artifact", "publish"],
      ["artifact", "validate"],
      ["status"],
      ["history"],
      ["list"],
      ["stop"],
      ["approve"],
      ["reject"],
    ]) {
      const result = await runCli([...command, "--help"]);
      expect(result.code, command.join(" ")).toBe(0);
      expect(result.stdout).toContain(`Usage: gantry ${command.join(" ")}`);
    }
  });

  it("an edited registry counts at once (--registry FILE)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gantry-registry-"));
    const file = join(dir, "registry.mjs");
    writeFileSync(
      file,
      `export default ${JSON.stringify({
        stages: {
          preprod: { sourceBucket: "b-preprod", artifactBucket: "b-preprod" },
          prod: { sourceBucket: "b-preprod", artifactBucket: "b-prod" },
        },
        services: { billing: {} },
      })};\n`,
    );
    const result = await runCli([...deployArgs("prod", build), "--registry", file], { local });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--service: is not a registered service (known: billing)");
  });
});
