/**
 * All of doctor's checks of a stage (checks.ts): the caller, and every check run in order over
 * mocked clients.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { IAMClient, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { GetAliasCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { callerOf, runChecks } from "./checks.ts";
import { awsError, deployedPolicies, doctorClients, prodPlan, simulator } from "./testing.ts";

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const cloudwatch = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const ses = mockClient(SESv2Client);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

const clients = doctorClients();

beforeEach(() => {
  for (const mock of [sts, iam, cloudwatch, lambda, ses, s3, secrets]) mock.reset();
});

const plan = prodPlan();

describe("callerOf, runChecks", () => {
  it("takes the account and partition from the caller's ARN", async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: "123456789012",
      Arn: "arn:aws-us-gov:sts::123456789012:assumed-role/Admin/me",
    });
    expect(await callerOf(clients.sts)).toEqual({
      accountId: "123456789012",
      partition: "aws-us-gov",
      arn: "arn:aws-us-gov:sts::123456789012:assumed-role/Admin/me",
    });
  });

  it("runs every check in order: roles, alarms, SES, aliases, buckets, secrets", async () => {
    iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(deployedPolicies(plan)));
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    ses.on(GetEmailIdentityCommand).rejects(awsError("NotFoundException", 404));
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: "1" });
    s3.on(GetBucketVersioningCommand).resolves({ Status: "Enabled" });
    secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { a: ["AWSCURRENT"] } });
    const results = await runChecks(clients, plan);
    expect([...new Set(results.map((r) => r.check))]).toEqual([
      "role",
      "alarm",
      "ses",
      "alias",
      "bucket",
      "secret",
    ]);
    expect(results.filter((r) => r.check === "role")).toHaveLength(plan.roles.length);
    expect(results.filter((r) => r.status === "fail").map((r) => r.subject)).toEqual([
      "hello-service-prod-errors",
      "gantry@acme.dev",
    ]);
  });
});
