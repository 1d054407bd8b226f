import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { IAMClient, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { GetAliasCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { deployedPolicies, prodPlan, REGISTRY, simulator } from "../doctor/testing.ts";
import type { Io } from "../io.ts";
import { run } from "../run.ts";

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const cloudwatch = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const ses = mockClient(SESv2Client);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

/** A project of its own: the test registry (plain data) and, when given, a `.env.prod`. */
function project(dotenv?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gantry-doctor-"));
  writeFileSync(join(dir, "gantry.registry.ts"), `export default ${JSON.stringify(REGISTRY)};\n`);
  if (dotenv !== undefined) writeFileSync(join(dir, ".env.prod"), dotenv);
  return dir;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function doctor(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
    cwd: options.cwd ?? project(),
    now: () => Date.parse("2026-11-30T12:00:00Z"),
    sleep: async () => {},
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

const PROD = ["doctor", "--stage", "prod", "--region", "us-east-1"];
/** How many checks a healthy prod account of the test registry gets: roles + 8. */
const HEALTHY = prodPlan().roles.length + 8;
const SENDER = ["--sender", "gantry@acme.dev"];

/** An account where every check passes. */
function healthyAccount(): void {
  sts.on(GetCallerIdentityCommand).resolves({
    Account: "123456789012",
    Arn: "arn:aws:sts::123456789012:assumed-role/Admin/me",
  });
  iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(deployedPolicies(prodPlan())));
  cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      {
        AlarmName: "hello-service-prod-errors",
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: [
          { Name: "FunctionName", Value: "hello-service-prod" },
          { Name: "Resource", Value: "hello-service-prod:live" },
        ],
        StateValue: "OK",
      },
    ],
  });
  ses
    .on(GetEmailIdentityCommand)
    .resolves({ IdentityType: "EMAIL_ADDRESS", VerifiedForSendingStatus: true });
  ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true });
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: "7" });
  s3.on(GetBucketVersioningCommand).resolves({ Status: "Enabled" });
  secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v1: ["AWSCURRENT"] } });
}

beforeEach(() => {
  for (const mock of [sts, iam, cloudwatch, lambda, ses, s3, secrets]) mock.reset();
});

describe("gantry doctor", () => {
  it("prints one line per check and exits 0 when everything passes", async () => {
    healthyAccount();
    const { code, stdout, stderr } = await doctor([...PROD, ...SENDER]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "gantry doctor: prod in account 123456789012 (us-east-1), as arn:aws:sts::123456789012:assumed-role/Admin/me",
    );
    expect(lines[1]).toBe("");
    expect(lines.at(-2)).toBe("");
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ok {4}role {4}gantry-prod-deploy +allows the \d+ action\/resource pairs deploy needs$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ok {4}alarm {3}hello-service-prod-errors +AWS\/Lambda Errors on hello-service-prod:live, OK$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok {4}alias {3}hello-service-prod:live +on version 7, no weights$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ok {4}bucket {2}gantry-state-prod-123456789012-us-east-1 +the state bucket: versioned$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok {4}secret {2}gantry-prod-decision-keys +set$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ok {4}ses {5}gantry@acme\.dev +address identity verified for sending$/,
      ),
    );
    // Every role, 1 alarm, sender + account, 1 alias, 2 buckets, 2 secrets.
    expect(lines.at(-1)).toBe(`${HEALTHY} checks: ${HEALTHY} ok, 0 warnings, 0 failed`);
  });

  it("exits 5 on any failure, with the failure's details and fix under its line", async () => {
    healthyAccount();
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: "$LATEST" });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const { code, stdout } = await doctor([...PROD, ...SENDER]);
    expect(code).toBe(5);
    const lines = stdout.trimEnd().split("\n");
    const failed = lines.findIndex((line) => line.startsWith("fail  alias"));
    expect(lines[failed]).toMatch(
      /^fail {2}alias {3}hello-service-prod:live +points at \$LATEST, not a numbered version/,
    );
    expect(lines[failed + 1]).toMatch(/^ {6}→ publish a version and point the alias at it: /);
    expect(lines).toContainEqual(
      expect.stringMatching(/^warn {2}ses {5}account \(us-east-1\) +in the SES sandbox/),
    );
    // In the sandbox each approver is checked (the mock says every identity is verified).
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok {4}ses {5}alice@example\.com +approver: a verified address$/),
    );
    expect(lines.slice(-2)).toEqual([
      `${HEALTHY + 2} checks: ${HEALTHY} ok, 1 warning, 1 failed`,
      "fix the failures above, then run gantry doctor --stage prod again",
    ]);
  });

  it("exits 0 with warnings only", async () => {
    healthyAccount();
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const { code, stdout } = await doctor([...PROD, ...SENDER]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${HEALTHY + 2} checks: ${HEALTHY + 1} ok, 1 warning, 0 failed`);
  });

  it("prints one JSON document with --json: every check, the counts and the exit code", async () => {
    healthyAccount();
    secrets.on(DescribeSecretCommand, { SecretId: "gantry-prod-link-keys" }).resolves({});
    const { code, stdout } = await doctor([...PROD, ...SENDER, "--json"]);
    expect(code).toBe(5);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      stage: "prod",
      accountId: "123456789012",
      partition: "aws",
      region: "us-east-1",
      caller: "arn:aws:sts::123456789012:assumed-role/Admin/me",
      counts: { ok: HEALTHY - 1, warn: 0, fail: 1 },
      exitCode: 5,
    });
    expect(report.checks).toContainEqual({
      check: "secret",
      subject: "gantry-prod-link-keys",
      status: "fail",
      message: "has no current value (no version labelled AWSCURRENT)",
      fix: 'npx sst secret set ApprovalSigningKey "$(openssl rand -base64 32)" --stage prod, then npx sst deploy --stage prod',
    });
  });

  it("reports denied actions of a role as detail lines", async () => {
    healthyAccount();
    const plan = prodPlan();
    const policies = deployedPolicies(plan);
    // The finish role lost its last statement (whatever stacks/policy.ts says it is).
    const finish = plan.roles.find((r) => r.fn === "finish");
    const lost = finish?.statements.at(-1);
    if (!finish || !lost) throw new Error("no finish role");
    policies[finish.roleArn] = finish.statements.slice(0, -1);
    iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(policies));
    const { code, stdout } = await doctor([...PROD, ...SENDER]);
    expect(code).toBe(5);
    const lines = stdout.split("\n");
    const failed = lines.findIndex((line) => line.startsWith("fail  role    gantry-prod-finish"));
    expect(lines[failed]).toMatch(
      / \d+ of its \d+ action\/resource pairs (is|are) not as stacks\/policy\.ts says$/,
    );
    expect(lines[failed + 1]).toBe(
      `      ${lost.actions[0]} on ${lost.resources[0]}: implicitDeny (no policy of the role allows it)`,
    );
    expect(lines.slice(failed + 1).find((line) => line.startsWith("      → "))).toBe(
      "      → npx sst deploy --stage prod puts the role's policy back as stacks/policy.ts says; a denial by a permissions boundary or an SCP needs that boundary or SCP to allow it",
    );
  });

  it("reads the stage's settings as sst deploy does: options, environment, .env.<stage>", async () => {
    healthyAccount();
    const cwd = project(
      "# as deployed\nGANTRY_SENDER=gantry@acme.dev\nGANTRY_SENDER_IDENTITY=acme.dev\nGANTRY_STATE_BUCKET='acme-state-from-file'\n",
    );
    // The roles as deployed with these settings: SendEmail on acme.dev, this state bucket.
    const asDeployed = prodPlan({ senderIdentity: "acme.dev", stateBucket: "acme-state-from-env" });
    iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(deployedPolicies(asDeployed)));
    const { code, stdout } = await doctor(PROD, {
      cwd,
      env: { GANTRY_STATE_BUCKET: "acme-state-from-env" },
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /\nok {4}ses {5}acme\.dev +\w+ identity verified for sending, for gantry@acme\.dev\n/,
    );
    expect(stdout).toContain("acme-state-from-env");
    expect(s3.commandCalls(GetBucketVersioningCommand).map((c) => c.args[0].input.Bucket)).toEqual([
      "acme-artifacts-prod",
      "acme-state-from-env",
    ]);

    s3.resetHistory();
    await doctor([...PROD, "--state-bucket", "acme-state-from-option"], {
      cwd,
      env: { GANTRY_STATE_BUCKET: "acme-state-from-env" },
    });
    expect(s3.commandCalls(GetBucketVersioningCommand)[1]?.args[0].input.Bucket).toBe(
      "acme-state-from-option",
    );
  });

  it("exits 2 for usage and settings errors, before calling AWS", async () => {
    healthyAccount();
    const noStage = await doctor(["doctor", "--region", "us-east-1"]);
    expect(noStage.code).toBe(2);
    expect(noStage.stderr).toContain("gantry: --stage is required (preprod or prod)");
    expect(noStage.stderr).toContain("Usage: gantry doctor [options]");

    const badStage = await doctor(["doctor", "--stage", "dev"]);
    expect(badStage.code).toBe(2);

    const local = await doctor([...PROD, ...SENDER, "--endpoint", "http://127.0.0.1:8083"]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain(
      "--endpoint names a local control plane; doctor checks an AWS account",
    );

    const noSender = await doctor(PROD);
    expect(noSender.code).toBe(2);
    expect(noSender.stderr).toContain("gantry: GANTRY_SENDER is not set");
    expect(noSender.stderr).toContain(
      "pass --sender, or set them in the environment or in .env.prod",
    );

    const badSender = await doctor([...PROD, "--sender", "not-an-address", "--json"]);
    expect(badSender.code).toBe(2);
    expect(JSON.parse(badSender.stdout).error.message).toContain(
      "GANTRY_SENDER must be an email address",
    );

    expect(sts.calls()).toHaveLength(0);
  });

  it("exits 5 with what to do when there are no AWS credentials", async () => {
    sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
    );
    const { code, stderr } = await doctor([...PROD, ...SENDER]);
    expect(code).toBe(5);
    expect(stderr).toContain("no AWS credentials were found");
    expect(iam.calls()).toHaveLength(0);
  });

  it("ignores a local endpoint in the environment, saying so", async () => {
    healthyAccount();
    const { code, stderr } = await doctor([...PROD, ...SENDER], {
      env: { GANTRY_ENDPOINT: "http://127.0.0.1:8083" },
    });
    expect(code).toBe(0);
    expect(stderr).toBe("gantry: note: doctor checks AWS; GANTRY_ENDPOINT ignored\n");
  });
});

describe("gantry --help", () => {
  it("lists doctor, and doctor --help shows its options", async () => {
    const main = await doctor(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(
      /Setting up a stage in AWS \(after `npx sst deploy --stage <stage>`\):\n {2}doctor +check a stage's AWS account before its first deployment/,
    );
    const help = await doctor(["doctor", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: gantry doctor [options]");
    for (const option of ["--stage STAGE", "--sender EMAIL", "--state-bucket NAME", "--json"]) {
      expect(help.stdout).toContain(option);
    }
    expect(help.stdout).toContain("iam:SimulatePrincipalPolicy");
  });
});
