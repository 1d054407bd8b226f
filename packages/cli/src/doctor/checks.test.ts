import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from "@aws-sdk/client-cloudwatch";
import { IAMClient, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { GetAliasCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  alarmWatches,
  callerOf,
  checkAlarms,
  checkAlias,
  checkBucket,
  checkRole,
  checkSecret,
  checkSes,
  mapLimit,
  PROBE_NAME,
  probeArn,
  probesOf,
  runChecks,
} from "./checks.ts";
import { doctorPlan, type RolePlan } from "./plan.ts";
import { awsError, deployedPolicies, ENV, prodPlan, REGISTRY, simulator } from "./testing.ts";

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const cloudwatch = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const ses = mockClient(SESv2Client);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

const clients = {
  sts: new STSClient({ region: "us-east-1" }),
  iam: new IAMClient({ region: "us-east-1" }),
  cloudwatch: new CloudWatchClient({ region: "us-east-1" }),
  lambda: new LambdaClient({ region: "us-east-1" }),
  ses: new SESv2Client({ region: "us-east-1" }),
  s3: new S3Client({ region: "us-east-1" }),
  secrets: new SecretsManagerClient({ region: "us-east-1" }),
};

beforeEach(() => {
  for (const mock of [sts, iam, cloudwatch, lambda, ses, s3, secrets]) mock.reset();
});

const plan = prodPlan();
const role = (fn: string): RolePlan => {
  const found = plan.roles.find((r) => r.fn === fn);
  if (!found) throw new Error(`no role for ${fn}`);
  return found;
};
const target = plan.targets[0] ?? { service: "", functionName: "", alias: "", alarms: [] };

describe("the plan", () => {
  it("has every function's role, named and in the caller's account", () => {
    expect(plan.roles.map((r) => r.roleName)).toContain("gantry-prod-scheduled-canary");
    expect(role("deploy").roleArn).toBe("arn:aws:iam::123456789012:role/gantry-prod-deploy");
    const preprod = doctorPlan({
      registry: REGISTRY,
      env: ENV,
      config: { stage: "preprod", logLevel: "INFO", notifyEmails: [] },
    });
    // The hourly canary runs in prod only: preprod has no such role.
    expect(preprod.roles.map((r) => r.fn)).not.toContain("scheduled-canary");
    expect(preprod.roles).toHaveLength(plan.roles.length - 1);
    expect(preprod.ses).toEqual({ approvals: false, approvers: [] });
  });

  it("knows whether check-alarms may read composite alarms (DescribeAlarms on *)", () => {
    const reads = role("check-alarms").statements.some(
      (s) => s.actions.includes("cloudwatch:DescribeAlarms") && s.resources.includes("*"),
    );
    expect(plan.compositeAlarmsReadable).toBe(reads);
  });

  it("names the buckets, the key secrets and the approvers", () => {
    expect(plan.buckets).toEqual([
      { name: "acme-artifacts-prod", what: "artifact" },
      { name: "gantry-state-prod-123456789012-us-east-1", what: "state" },
    ]);
    expect(plan.secrets.map((s) => s.name)).toEqual([
      "gantry-prod-link-keys",
      "gantry-prod-decision-keys",
    ]);
    expect(plan.ses).toEqual({
      identity: "gantry@acme.dev",
      sender: "gantry@acme.dev",
      approvals: true,
      approvers: ["alice@example.com", "bob@example.com"],
    });
  });

  it("simulates what stacks/policy.ts grants, including the sender and a named state bucket", () => {
    const named = doctorPlan({
      registry: REGISTRY,
      env: ENV,
      config: {
        stage: "prod",
        sender: "gantry@acme.dev",
        senderIdentity: "acme.dev",
        stateBucket: "acme-gantry-state",
        preprodRoleArn: "arn:aws:iam::111111111111:role/gantry-preprod-verify-read",
        logLevel: "INFO",
        notifyEmails: [],
      },
    });
    const statements = (fn: string) => named.roles.find((r) => r.fn === fn)?.statements ?? [];
    expect(statements("request-approval")).toContainEqual(
      expect.objectContaining({
        actions: ["ses:SendEmail"],
        resources: ["arn:aws:ses:us-east-1:123456789012:identity/acme.dev"],
      }),
    );
    expect(statements("verify-preprod").slice(1)).toEqual([
      expect.objectContaining({
        actions: ["sts:AssumeRole"],
        resources: ["arn:aws:iam::111111111111:role/gantry-preprod-verify-read"],
      }),
    ]);
    expect(named.buckets[1]?.name).toBe("acme-gantry-state");
  });
});

describe("probes", () => {
  it("makes a concrete ARN of each resource pattern, keeping a lone *", () => {
    expect(probeArn("*")).toBe("*");
    expect(probeArn("arn:aws:s3:::b/locks/*")).toBe(`arn:aws:s3:::b/locks/${PROBE_NAME}`);
    expect(probeArn("arn:aws:secretsmanager:us-east-1:1:secret:gantry-prod-link-keys-??????")).toBe(
      "arn:aws:secretsmanager:us-east-1:1:secret:gantry-prod-link-keys-xxxxxx",
    );
  });

  it("expands every statement per action and resource; a deny wins over an allow", () => {
    const probes = probesOf([
      { sid: "A", effect: "allow", actions: ["s3:GetObject", "s3:PutObject"], resources: ["x/*"] },
      { sid: "D", effect: "deny", actions: ["s3:PutObject"], resources: ["x/*"] },
      { sid: "B", effect: "allow", actions: ["s3:PutObject"], resources: ["x/*"] },
    ]);
    expect(probes).toEqual([
      {
        action: "s3:GetObject",
        resource: "x/*",
        probedAs: `x/${PROBE_NAME}`,
        expected: "allowed",
        sid: "A",
      },
      {
        action: "s3:PutObject",
        resource: "x/*",
        probedAs: `x/${PROBE_NAME}`,
        expected: "denied",
        sid: "D",
      },
    ]);
  });
});

describe("checkRole", () => {
  // A role of its own (stacks/policy.ts changes; these tests are about how IAM's answers read).
  const state = "arn:aws:s3:::gantry-state-prod-123456789012-us-east-1";
  const log =
    "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/gantry-prod-request-approval:*";
  const fn = "arn:aws:lambda:us-east-1:123456789012:function:hello-service-prod";
  const sample: RolePlan = {
    fn: "request-approval",
    roleName: "gantry-prod-request-approval",
    roleArn: "arn:aws:iam::123456789012:role/gantry-prod-request-approval",
    statements: [
      {
        sid: "WriteOwnLogs",
        effect: "allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [log],
      },
      {
        sid: "CreateApprovalRecords",
        effect: "allow",
        actions: ["s3:PutObject"],
        resources: [`${state}/approvals/*`],
      },
      {
        sid: "NeverWriteDecisions",
        effect: "deny",
        actions: ["s3:PutObject"],
        resources: [`${state}/approvals/*.decision.json`],
      },
      {
        sid: "ReadLinkKeys",
        effect: "allow",
        actions: ["secretsmanager:GetSecretValue"],
        resources: [
          "arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-link-keys-??????",
        ],
      },
      {
        sid: "RouteTargetAliases",
        effect: "allow",
        actions: ["lambda:GetAlias", "lambda:UpdateAlias"],
        resources: [fn, `${fn}:*`],
      },
      {
        sid: "CompleteApproval",
        effect: "allow",
        actions: ["states:SendTaskSuccess"],
        resources: ["*"],
      },
    ],
  };
  const without = (sid: string, action: string) =>
    sample.statements.map((s) =>
      s.sid === sid ? { ...s, actions: s.actions.filter((a) => a !== action) } : s,
    );

  it("passes when IAM allows every pair the function needs and refuses what it must not", async () => {
    iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake(simulator({ [sample.roleArn]: sample.statements }));
    const result = await checkRole(clients.iam, sample, "prod");
    expect(result).toEqual({
      check: "role",
      subject: "gantry-prod-request-approval",
      status: "ok",
      message:
        "allows the 9 action/resource pairs request-approval needs, and refuses the 1 it must not do",
    });
    // One simulation for the actions on named resources, one without resources (IAM's `*`)
    // for the actions AWS cannot scope.
    const [scoped, unscoped] = iam
      .commandCalls(SimulatePrincipalPolicyCommand)
      .map((call) => call.args[0].input);
    expect(scoped).toEqual({
      PolicySourceArn: "arn:aws:iam::123456789012:role/gantry-prod-request-approval",
      ActionNames: [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:PutObject",
        "secretsmanager:GetSecretValue",
        "lambda:GetAlias",
        "lambda:UpdateAlias",
      ],
      ResourceArns: [
        log.replace(/\*$/, PROBE_NAME),
        `${state}/approvals/${PROBE_NAME}`,
        `${state}/approvals/${PROBE_NAME}.decision.json`,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-link-keys-xxxxxx",
        fn,
        `${fn}:${PROBE_NAME}`,
      ],
      MaxItems: 1000,
    });
    expect(unscoped).toEqual({
      PolicySourceArn: "arn:aws:iam::123456789012:role/gantry-prod-request-approval",
      ActionNames: ["states:SendTaskSuccess"],
      MaxItems: 1000,
    });
  });

  it("passes every role of the stage against the policy stacks/policy.ts gives it", async () => {
    iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(deployedPolicies(plan)));
    for (const each of plan.roles) {
      expect(await checkRole(clients.iam, each, "prod")).toMatchObject({ status: "ok" });
    }
  });

  it("reports each denied action and resource with IAM's decision", async () => {
    // Someone removed UpdateAlias from the role by hand.
    iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake(
        simulator({ [sample.roleArn]: without("RouteTargetAliases", "lambda:UpdateAlias") }),
      );
    const result = await checkRole(clients.iam, sample, "prod");
    expect(result.status).toBe("fail");
    expect(result.message).toBe(
      "2 of its 10 action/resource pairs are not as stacks/policy.ts says",
    );
    expect(result.details).toEqual([
      `lambda:UpdateAlias on ${fn}: implicitDeny (no policy of the role allows it)`,
      `lambda:UpdateAlias on ${fn}:*: implicitDeny (no policy of the role allows it)`,
    ]);
    expect(result.denied?.[1]).toEqual({
      action: "lambda:UpdateAlias",
      resource: `${fn}:*`,
      probedAs: `${fn}:${PROBE_NAME}`,
      decision: "implicitDeny",
      expected: "allowed",
      sid: "RouteTargetAliases",
      why: "no policy of the role allows it",
    });
    expect(result.fix).toContain("npx sst deploy --stage prod");
  });

  it("names a permissions boundary or an SCP when IAM says one denies", async () => {
    iam.on(SimulatePrincipalPolicyCommand).callsFake((input) => {
      const answer = simulator({ [sample.roleArn]: sample.statements })(input);
      for (const result of answer.EvaluationResults) {
        if (result.EvalActionName === "logs:CreateLogStream") {
          result.EvalDecision = "explicitDeny";
          result.OrganizationsDecisionDetail = { AllowedByOrganizations: false };
          for (const r of result.ResourceSpecificResults ?? [])
            r.EvalResourceDecision = "explicitDeny";
        }
        if (result.EvalActionName === "secretsmanager:GetSecretValue") {
          for (const r of result.ResourceSpecificResults ?? []) {
            r.EvalResourceDecision = "implicitDeny";
            r.PermissionsBoundaryDecisionDetail = { AllowedByPermissionsBoundary: false };
          }
        }
      }
      return answer;
    });
    const result = await checkRole(clients.iam, sample, "prod");
    expect(result.status).toBe("fail");
    expect(result.details).toEqual([
      `logs:CreateLogStream on ${log}: explicitDeny (a service control policy denies it)`,
      "secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-link-keys-??????: implicitDeny (the role's permissions boundary does not allow it)",
    ]);
  });

  it("fails when a deny statement no longer refuses (the decision-record guard)", async () => {
    // The deny is gone, and someone widened the role to write any object.
    iam.on(SimulatePrincipalPolicyCommand).callsFake(
      simulator({
        [sample.roleArn]: [
          ...sample.statements.filter((s) => s.effect === "allow"),
          { sid: "Wide", effect: "allow", actions: ["s3:PutObject"], resources: [`${state}/*`] },
        ],
      }),
    );
    const result = await checkRole(clients.iam, sample, "prod");
    expect(result.status).toBe("fail");
    expect(result.details).toEqual([
      `s3:PutObject on ${state}/approvals/*.decision.json: allowed, but NeverWriteDecisions must deny it`,
    ]);
  });

  it("reads the older result shape (one result per action and resource) and follows pages", async () => {
    const logsOnly: RolePlan = { ...sample, statements: sample.statements.slice(0, 1) };
    const probe = log.replace(/\*$/, PROBE_NAME);
    iam
      .on(SimulatePrincipalPolicyCommand, { Marker: undefined })
      .resolves({
        EvaluationResults: [
          {
            EvalActionName: "logs:CreateLogStream",
            EvalResourceName: probe,
            EvalDecision: "allowed",
          },
        ],
        IsTruncated: true,
        Marker: "page-2",
      })
      .on(SimulatePrincipalPolicyCommand, { Marker: "page-2" })
      .resolves({
        EvaluationResults: [
          { EvalActionName: "logs:PutLogEvents", EvalResourceName: probe, EvalDecision: "allowed" },
        ],
        IsTruncated: false,
      });
    const result = await checkRole(clients.iam, logsOnly, "prod");
    expect(result).toMatchObject({ status: "ok" });
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(2);
  });

  it("fails a role that does not exist, and one the caller may not simulate", async () => {
    iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator({}));
    const missing = await checkRole(clients.iam, sample, "prod");
    expect(missing).toMatchObject({ status: "fail" });
    expect(missing.message).toBe(
      "the role does not exist (request-approval is not deployed in this account)",
    );

    iam.on(SimulatePrincipalPolicyCommand).rejects(awsError("AccessDenied", 403, "not authorized"));
    const denied = await checkRole(clients.iam, sample, "prod");
    expect(denied.message).toBe("cannot simulate its policies: AccessDenied: not authorized");
    expect(denied.fix).toContain(
      "iam:SimulatePrincipalPolicy on arn:aws:iam::123456789012:role/gantry-prod-request-approval",
    );
  });
});

describe("checkAlarms", () => {
  const onAlias: MetricAlarm = {
    AlarmName: "hello-service-prod-errors",
    Namespace: "AWS/Lambda",
    MetricName: "Errors",
    Dimensions: [
      { Name: "FunctionName", Value: "hello-service-prod" },
      { Name: "Resource", Value: "hello-service-prod:live" },
    ],
    StateValue: "OK",
  };

  it("passes an alarm on the alias's metrics", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [onAlias] });
    expect(await checkAlarms(clients.cloudwatch, [target], "prod")).toEqual([
      {
        check: "alarm",
        subject: "hello-service-prod-errors",
        status: "ok",
        message: "AWS/Lambda Errors on hello-service-prod:live, OK",
      },
    ]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toEqual({
      AlarmNames: ["hello-service-prod-errors"],
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
    });
  });

  it("fails a missing alarm", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [], CompositeAlarms: [] });
    const [result] = await checkAlarms(clients.cloudwatch, [target], "prod");
    expect(result?.status).toBe("fail");
    expect(result?.message).toContain("does not exist (hello-service names it for prod)");
    expect(result?.fix).toContain(
      "FunctionName=hello-service-prod, Resource=hello-service-prod:live",
    );
  });

  it("warns about an alarm on the whole function, on another metric, or in ALARM", async () => {
    const targets = [{ ...target, alarms: ["whole", "other", "firing", "composite"] }];
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          ...onAlias,
          AlarmName: "whole",
          Dimensions: [{ Name: "FunctionName", Value: "hello-service-prod" }],
        },
        { ...onAlias, AlarmName: "other", Namespace: "Acme", MetricName: "Orders", Dimensions: [] },
        { ...onAlias, AlarmName: "firing", StateValue: "ALARM" },
      ],
      CompositeAlarms: [{ AlarmName: "composite", StateValue: "OK" }],
    });
    const results = await checkAlarms(clients.cloudwatch, targets, "prod");
    expect(results.map((r) => [r.subject, r.status, r.message])).toEqual([
      [
        "whole",
        "warn",
        "AWS/Lambda Errors on the whole function hello-service-prod, OK: it watches every version of hello-service-prod, not the alias live",
      ],
      [
        "other",
        "warn",
        "Acme Orders, OK: its metric does not name hello-service-prod:live (no FunctionName/Resource dimension for it)",
      ],
      [
        "firing",
        "warn",
        "AWS/Lambda Errors on hello-service-prod:live, ALARM: it is in ALARM now: a deployment would stop at its first alarm check",
      ],
      ["composite", "ok", "a composite alarm (its rule is not checked), OK"],
    ]);
    expect(results[0]?.fix).toBe(
      "add the dimension Resource=hello-service-prod:live so it sees the traffic the alias serves",
    );
  });

  it("fails a composite alarm when check-alarms may not read composite alarms", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      CompositeAlarms: [{ AlarmName: "hello-service-prod-errors", StateValue: "OK" }],
    });
    const [result] = await checkAlarms(clients.cloudwatch, [target], "prod", false);
    expect(result).toEqual({
      check: "alarm",
      subject: "hello-service-prod-errors",
      status: "fail",
      message:
        'a composite alarm, OK: CloudWatch shows composite alarms only to callers allowed cloudwatch:DescribeAlarms on *, and Gantry\'s check-alarms role is allowed it on alarm ARNs only: every deployment of hello-service would fail with "alarms not found"',
      fix: "list the metric alarms it combines in gantry.registry.ts instead (alarms on hello-service-prod:live)",
    });
  });

  it("reads metric math alarms' metrics, and Resource alone", () => {
    const math: MetricAlarm = {
      AlarmName: "rate",
      Metrics: [
        {
          Id: "e",
          MetricStat: {
            Metric: {
              Namespace: "AWS/Lambda",
              MetricName: "Errors",
              Dimensions: [{ Name: "Resource", Value: "hello-service-prod:live" }],
            },
            Period: 60,
            Stat: "Sum",
          },
        },
        { Id: "rate", Expression: "e / 1" },
      ],
    };
    expect(alarmWatches(math, "hello-service-prod", "live")).toBe("alias");
    expect(alarmWatches(math, "hello-service-prod", "canary")).toBe("other");
  });

  it("warns about a service with no alarms, and fails when alarms cannot be read", async () => {
    const quiet = await checkAlarms(clients.cloudwatch, [{ ...target, alarms: [] }], "prod");
    expect(quiet).toEqual([expect.objectContaining({ subject: "hello-service", status: "warn" })]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);

    cloudwatch.on(DescribeAlarmsCommand).rejects(awsError("AccessDenied", 403));
    const [denied] = await checkAlarms(clients.cloudwatch, [target], "prod");
    expect(denied).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("cloudwatch:DescribeAlarms"),
    });
  });

  it("asks for at most 100 names at a time and follows NextToken", async () => {
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
    cloudwatch
      .on(DescribeAlarmsCommand)
      .callsFake((input: { AlarmNames: string[]; NextToken?: string }) => {
        const page = input.NextToken ? input.AlarmNames.slice(50) : input.AlarmNames.slice(0, 50);
        return {
          MetricAlarms: page.map((name) => ({ ...onAlias, AlarmName: name })),
          ...(input.NextToken || input.AlarmNames.length <= 50 ? {} : { NextToken: "next" }),
        };
      });
    const results = await checkAlarms(clients.cloudwatch, [{ ...target, alarms: names }], "prod");
    expect(results.filter((r) => r.status === "ok")).toHaveLength(150);
    expect(
      cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames?.length),
    ).toEqual([100, 100, 50]);
  });
});

describe("checkSes", () => {
  const verified = {
    IdentityType: "EMAIL_ADDRESS" as const,
    VerifiedForSendingStatus: true,
    VerificationStatus: "SUCCESS" as const,
  };

  it("passes a verified sender in an account with production access", async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: "gantry@acme.dev" }).resolves(verified);
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true });
    const results = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(results.map((r) => [r.subject, r.status, r.message])).toEqual([
      ["gantry@acme.dev", "ok", "address identity verified for sending"],
      ["account (us-east-1)", "ok", "production access: approval mail can go to any address"],
    ]);
  });

  it("in the sandbox, checks every approver: a verified address or a verified domain", async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(awsError("NotFoundException", 404))
      .on(GetEmailIdentityCommand, { EmailIdentity: "gantry@acme.dev" })
      .resolves(verified)
      .on(GetEmailIdentityCommand, { EmailIdentity: "alice@example.com" })
      .resolves({ ...verified, VerifiedForSendingStatus: false, VerificationStatus: "PENDING" });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const results = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(results.map((r) => [r.subject, r.status, r.message])).toEqual([
      ["gantry@acme.dev", "ok", "address identity verified for sending"],
      [
        "account (us-east-1)",
        "warn",
        "in the SES sandbox: mail goes only to verified addresses, so each approver must be verified (checked below)",
      ],
      [
        "alice@example.com",
        "fail",
        "approver: the address identity is not verified for sending (VerificationStatus PENDING): in the sandbox SES will not mail them",
      ],
      [
        "bob@example.com",
        "fail",
        "approver: not a verified identity: in the sandbox SES will not mail them",
      ],
    ]);
    expect(results[3]?.fix).toContain(
      "aws sesv2 create-email-identity --email-identity bob@example.com",
    );

    ses.on(GetEmailIdentityCommand, { EmailIdentity: "example.com" }).resolves({
      IdentityType: "DOMAIN",
      VerifiedForSendingStatus: true,
    });
    const withDomain = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(withDomain.slice(2).map((r) => [r.status, r.message])).toEqual([
      ["ok", "approver: in the verified domain example.com"],
      ["ok", "approver: in the verified domain example.com"],
    ]);
  });

  it("fails an unverified sender: the address's link, or the domain's DKIM records", async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
    ses
      .on(GetEmailIdentityCommand)
      .resolves({ ...verified, VerifiedForSendingStatus: false, VerificationStatus: "PENDING" });
    const [address] = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(address).toMatchObject({
      status: "fail",
      message:
        "the address identity is not verified for sending (VerificationStatus PENDING): SES refuses to send from it",
    });
    expect(address?.fix).toContain("click the link SES mailed to gantry@acme.dev");

    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: "DOMAIN",
      VerifiedForSendingStatus: false,
      VerificationStatus: "FAILED",
      DkimAttributes: { Tokens: ["t1", "t2"] },
    });
    const [domain] = await checkSes(
      clients.ses,
      { ...plan.ses, identity: "acme.dev" },
      "prod",
      "us-east-1",
    );
    expect(domain).toMatchObject({
      subject: "acme.dev",
      status: "fail",
      message:
        "the domain identity is not verified for sending (VerificationStatus FAILED): SES refuses to send from it",
      details: [
        "CNAME t1._domainkey.acme.dev -> t1.dkim.amazonses.com",
        "CNAME t2._domainkey.acme.dev -> t2.dkim.amazonses.com",
      ],
    });
  });

  it("fails a missing sender identity, paused sending and unreadable SES", async () => {
    ses.on(GetEmailIdentityCommand).rejects(awsError("NotFoundException", 404));
    ses.on(GetAccountCommand).resolves({ SendingEnabled: false, EnforcementStatus: "SHUTDOWN" });
    const results = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(results.map((r) => [r.status, r.message])).toEqual([
      ["fail", "the sender identity does not exist in us-east-1"],
      [
        "fail",
        "sending is paused for this account in us-east-1 (enforcement status SHUTDOWN): no approval mail goes out",
      ],
    ]);

    ses.on(GetEmailIdentityCommand).rejects(awsError("AccessDeniedException", 403, "no"));
    ses.on(GetAccountCommand).rejects(awsError("AccessDeniedException", 403, "no"));
    const denied = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(denied.map((r) => r.fix)).toEqual([
      expect.stringContaining("ses:GetEmailIdentity"),
      expect.stringContaining("ses:GetAccount"),
    ]);
  });

  it("has nothing to check where no mail is sent", async () => {
    const results = await checkSes(
      clients.ses,
      { approvals: false, approvers: [] },
      "preprod",
      "us-east-1",
    );
    expect(results).toEqual([
      expect.objectContaining({ status: "ok", message: expect.stringContaining("sends no mail") }),
    ]);
    expect(ses.calls()).toHaveLength(0);
  });
});

describe("checkAlias", () => {
  it("passes an alias on a numbered version without weights", async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: "7", Name: "live" });
    expect(await checkAlias(clients.lambda, target, "prod")).toEqual({
      check: "alias",
      subject: "hello-service-prod:live",
      status: "ok",
      message: "on version 7, no weights",
    });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      Name: "live",
    });
  });

  it("fails $LATEST, leftover weights, a missing alias and an unreadable one", async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: "$LATEST" });
    const latest = await checkAlias(clients.lambda, target, "prod");
    expect(latest.status).toBe("fail");
    expect(latest.message).toBe(
      "points at $LATEST, not a numbered version: a rollback would have nothing to go back to",
    );
    expect(latest.fix).toContain("aws lambda publish-version --function-name hello-service-prod");

    lambda.on(GetAliasCommand).resolves({
      FunctionVersion: "7",
      RoutingConfig: { AdditionalVersionWeights: { "8": 0.1 } },
    });
    const weighted = await checkAlias(clients.lambda, target, "prod");
    expect(weighted.message).toBe(
      "on version 7 but also routes 10% to version 8: a rollout was interrupted (or one is running now)",
    );
    expect(weighted.fix).toContain(
      `--function-version 7 --routing-config '{"AdditionalVersionWeights":{}}'`,
    );

    lambda.on(GetAliasCommand).rejects(awsError("ResourceNotFoundException", 404));
    expect((await checkAlias(clients.lambda, target, "prod")).message).toContain(
      "the function or its alias does not exist",
    );

    lambda.on(GetAliasCommand).rejects(awsError("AccessDeniedException", 403, "no"));
    expect((await checkAlias(clients.lambda, target, "prod")).fix).toContain("lambda:GetAlias");
  });
});

describe("checkBucket", () => {
  const bucket = { name: "acme-artifacts-prod", what: "artifact" as const };

  it("passes a versioned bucket of this account", async () => {
    s3.on(GetBucketVersioningCommand).resolves({ Status: "Enabled" });
    expect(await checkBucket(clients.s3, bucket, ENV, "prod")).toEqual({
      check: "bucket",
      subject: "acme-artifacts-prod",
      status: "ok",
      message: "the artifact bucket: versioned",
    });
    expect(s3.commandCalls(GetBucketVersioningCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-artifacts-prod",
      ExpectedBucketOwner: "123456789012",
    });
  });

  it("fails suspended or never-enabled versioning, a missing bucket, another owner or region", async () => {
    const message = async () => (await checkBucket(clients.s3, bucket, ENV, "prod")).message;
    s3.on(GetBucketVersioningCommand).resolves({ Status: "Suspended" });
    expect(await message()).toContain("versioning is suspended");
    s3.on(GetBucketVersioningCommand).resolves({});
    expect(await message()).toContain("versioning is off");
    s3.on(GetBucketVersioningCommand).rejects(awsError("NoSuchBucket", 404));
    expect(await message()).toBe("the artifact bucket does not exist");
    s3.on(GetBucketVersioningCommand).rejects(awsError("AccessDenied", 403));
    expect(await message()).toContain("belongs to another account");
    s3.on(GetBucketVersioningCommand).rejects(awsError("PermanentRedirect", 301));
    expect(await message()).toContain("is not in us-east-1");

    s3.on(GetBucketVersioningCommand).rejects(awsError("NoSuchBucket", 404));
    const state = await checkBucket(clients.s3, { name: "s", what: "state" }, ENV, "prod");
    expect(state.fix).toContain("--state-bucket");
  });
});

describe("checkSecret", () => {
  const secret = { name: "gantry-prod-link-keys", set: "links" as const };
  const changed = new Date("2026-11-30T10:00:00Z");

  it("passes a secret with a current version, never reading its value", async () => {
    secrets.on(DescribeSecretCommand).resolves({
      Name: secret.name,
      LastChangedDate: changed,
      VersionIdsToStages: { a: ["AWSPREVIOUS"], b: ["AWSCURRENT"] },
    });
    expect(await checkSecret(clients.secrets, secret, "prod")).toEqual({
      check: "secret",
      subject: "gantry-prod-link-keys",
      status: "ok",
      message: "set (last changed 2026-11-30T10:00:00.000Z)",
    });
    expect(secrets.calls().map((c) => c.args[0].constructor.name)).toEqual([
      "DescribeSecretCommand",
    ]);
  });

  it("fails a missing secret, one without a current value, one being deleted", async () => {
    secrets.on(DescribeSecretCommand).rejects(awsError("ResourceNotFoundException", 400));
    const missing = await checkSecret(clients.secrets, secret, "prod");
    expect(missing).toMatchObject({ status: "fail", message: "does not exist" });
    expect(missing.fix).toContain("npx sst secret set ApprovalSigningKey");

    secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { a: ["AWSPENDING"] } });
    expect((await checkSecret(clients.secrets, secret, "prod")).message).toBe(
      "has no current value (no version labelled AWSCURRENT)",
    );

    secrets.on(DescribeSecretCommand).resolves({ DeletedDate: changed, VersionIdsToStages: {} });
    expect((await checkSecret(clients.secrets, secret, "prod")).message).toContain(
      "scheduled for deletion",
    );

    secrets.on(DescribeSecretCommand).rejects(awsError("AccessDeniedException", 400, "no"));
    expect((await checkSecret(clients.secrets, secret, "prod")).fix).toContain(
      "secretsmanager:DescribeSecret",
    );
  });
});

describe("callerOf, runChecks, mapLimit", () => {
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

  it("mapLimit keeps the order and the limit", async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(most).toBe(2);
  });
});
