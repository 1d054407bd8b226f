/** doctor's role checks (roles.ts) over a mocked IAM policy simulator. */
import { IAMClient, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { RolePlan } from "./plan.ts";
import { checkRole, PROBE_NAME, probeArn, probesOf } from "./roles.ts";
import { awsError, deployedPolicies, doctorClients, prodPlan, simulator } from "./testing.ts";

const iam = mockClient(IAMClient);

const clients = doctorClients();

beforeEach(() => {
  iam.reset();
});

const plan = prodPlan();

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

describe("conditioned grants", () => {
  const role = "arn:aws:iam::123456789012:role/gantry-prod-hold-scheduler";
  const conditioned: RolePlan = {
    fn: "hold",
    roleName: "gantry-prod-hold",
    roleArn: "arn:aws:iam::123456789012:role/gantry-prod-hold",
    statements: [
      {
        sid: "PassSchedulerRole",
        effect: "allow",
        actions: ["iam:PassRole"],
        resources: [role],
        conditions: [
          {
            test: "StringEquals",
            variable: "iam:PassedToService",
            values: ["scheduler.amazonaws.com"],
          },
        ],
      },
    ],
  };

  it("simulates a conditioned grant with the context the real call carries", async () => {
    const calls: unknown[] = [];
    iam.on(SimulatePrincipalPolicyCommand).callsFake((input) => {
      calls.push(input.ContextEntries);
      const passed = input.ContextEntries?.some(
        (c: { ContextKeyName?: string; ContextKeyValues?: string[] }) =>
          c.ContextKeyName === "iam:PassedToService" &&
          c.ContextKeyValues?.includes("scheduler.amazonaws.com"),
      );
      return {
        EvaluationResults: [
          {
            EvalActionName: "iam:PassRole",
            EvalResourceName: role,
            EvalDecision: passed ? "allowed" : "implicitDeny",
          },
        ],
      };
    });
    const result = await checkRole(clients.iam, conditioned, "prod");
    expect(calls).toEqual([
      [
        {
          ContextKeyName: "iam:PassedToService",
          ContextKeyValues: ["scheduler.amazonaws.com"],
          ContextKeyType: "string",
        },
      ],
    ]);
    expect(result.status).toBe("ok");
  });
});

describe("checkRole", () => {
  // A role of its own (stacks/policy.ts changes; these tests are about how IAM's answers read).
  const state = "arn:aws:s3:::gantry-state-prod-123456789012-us-east-1";
  const log =
    "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/gantry-prod-approval-gate:*";
  const fn = "arn:aws:lambda:us-east-1:123456789012:function:hello-service-prod";
  const sample: RolePlan = {
    fn: "approval-gate",
    roleName: "gantry-prod-approval-gate",
    roleArn: "arn:aws:iam::123456789012:role/gantry-prod-approval-gate",
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
      subject: "gantry-prod-approval-gate",
      status: "ok",
      message:
        "allows the 9 action/resource pairs approval-gate needs, and refuses the 1 it must not do",
    });
    // One simulation for the actions on named resources, one without resources (IAM's `*`)
    // for the actions AWS cannot scope.
    const [scoped, unscoped] = iam
      .commandCalls(SimulatePrincipalPolicyCommand)
      .map((call) => call.args[0].input);
    expect(scoped).toEqual({
      PolicySourceArn: "arn:aws:iam::123456789012:role/gantry-prod-approval-gate",
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
      PolicySourceArn: "arn:aws:iam::123456789012:role/gantry-prod-approval-gate",
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
      "the role does not exist (approval-gate is not deployed in this account)",
    );

    iam.on(SimulatePrincipalPolicyCommand).rejects(awsError("AccessDenied", 403, "not authorized"));
    const denied = await checkRole(clients.iam, sample, "prod");
    expect(denied.message).toBe("cannot simulate its policies: AccessDenied: not authorized");
    expect(denied.fix).toContain(
      "iam:SimulatePrincipalPolicy on arn:aws:iam::123456789012:role/gantry-prod-approval-gate",
    );
  });
});
