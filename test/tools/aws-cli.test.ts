/**
 * The AWS CLI v2 (Debian's awscli, /usr/bin/aws) against the local control plane with
 * --endpoint-url, unchanged: publish an artifact, start an execution, read its history.
 * Runs in CI (.ci/run installs awscli); a missing CLI is a failure, not a skip.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactKey, buildVariant } from "../../examples/hello-service/build.ts";
import {
  type LocalProcess,
  PREPROD_BUCKET,
  STATE_MACHINE,
  startLocalProcess,
  waitForStatus,
} from "../support/local-process.ts";

const run = promisify(execFile);
const AWS = "/usr/bin/aws";

let local: LocalProcess;

beforeAll(async () => {
  if (!existsSync(AWS))
    throw new Error(`${AWS} not found: install the AWS CLI v2 (apt-get install awscli)`);
  local = await startLocalProcess();
});

afterAll(async () => {
  await local?.kill();
});

async function aws(...args: string[]): Promise<string> {
  const { stdout } = await run(
    AWS,
    [...args, "--endpoint-url", local.sfnEndpoint, "--region", "us-east-1", "--output", "json"],
    {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: mkdtempSync(join(tmpdir(), "aws-home-")),
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_PAGER: "",
      },
    },
  );
  return stdout;
}

describe("the AWS CLI against the local control plane", () => {
  it("uploads an artifact with s3api, starts an execution and reads its history", async () => {
    const built = buildVariant("v2");
    const key = artifactKey(built);
    const file = join(mkdtempSync(join(tmpdir(), "gantry-cli-")), "build.zip");
    writeFileSync(file, built.zip);
    const put = JSON.parse(
      await aws(
        "s3api",
        "put-object",
        "--bucket",
        PREPROD_BUCKET,
        "--key",
        key,
        "--body",
        file,
        "--checksum-algorithm",
        "SHA256",
      ),
    );
    expect(put.ChecksumSHA256).toBe(Buffer.from(built.sha256, "hex").toString("base64"));

    const input = JSON.stringify({
      service: "hello-service",
      version: built.version,
      artifact: { key, sha256: built.sha256 },
      trigger: { actor: "aws-cli" },
    });
    const started = JSON.parse(
      await aws(
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        STATE_MACHINE.preprod,
        "--name",
        `cli-${Date.now()}`,
        "--input",
        input,
      ),
    );
    expect(started.executionArn).toContain(":execution:gantry-preprod:cli-");

    const done = await waitForStatus(local, started.executionArn);
    expect(done.status).toBe("SUCCEEDED");
    const described = JSON.parse(
      await aws("stepfunctions", "describe-execution", "--execution-arn", started.executionArn),
    );
    expect(described.status).toBe("SUCCEEDED");

    const history = JSON.parse(
      await aws("stepfunctions", "get-execution-history", "--execution-arn", started.executionArn),
    );
    const types: string[] = history.events.map((e: { type: string }) => e.type);
    expect(types[0]).toBe("ExecutionStarted");
    expect(types.at(-1)).toBe("ExecutionSucceeded");
    const names = history.events
      .filter((e: { type: string }) => e.type.endsWith("StateEntered"))
      .map((e: { stateEnteredEventDetails: { name: string } }) => e.stateEnteredEventDetails.name);
    expect(names).toContain("Deploy");
    expect(names.at(-1)).toBe("Deployed");

    const listed = JSON.parse(
      await aws("stepfunctions", "list-executions", "--state-machine-arn", STATE_MACHINE.preprod),
    );
    expect(listed.executions.map((e: { executionArn: string }) => e.executionArn)).toContain(
      started.executionArn,
    );
  });

  it("reports the API's errors as the CLI's errors", async () => {
    await expect(
      aws(
        "stepfunctions",
        "describe-execution",
        "--execution-arn",
        "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:nope",
      ),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("ExecutionDoesNotExist") });
  });
});
