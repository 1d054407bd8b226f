/**
 * The functions' and the state machine's IAM statements, as plain data: exactly what each
 * function may do, on exactly which resources; no wildcard action anywhere and no `"*"`
 * resource outside the documented exceptions.
 */
import type { Registry, Stage } from "@gantry/core";
import type { AwsEnv } from "@gantry/stacks/arns";
import {
  assertPoliciesFit,
  functionPermissions,
  holdSchedulerRoleArn,
  holdSchedulerStatements,
  holdSchedulerTrustPolicy,
  INLINE_POLICY_LIMIT,
  inlinePolicySize,
  METRICS_NAMESPACE,
  type PolicyContext,
  type PolicyFunction,
  type PolicyStatement,
  policyDocument,
  preprodReadStatements,
  preprodReadTrustPolicy,
  stateMachineStatements,
  stateMachineTrustPolicy,
  UNSCOPABLE_ACTIONS,
} from "@gantry/stacks/policy";
import { describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import { iamMatches } from "./support/iam.ts";
import { manyServices, TWO_SERVICES } from "./support/registries.ts";

/**
 * Services with two alarms each in both stages, all verifying preprod: docs/deploy.md says so.
 * (Alarms take no room: DescribeAlarms is granted on "*". The verify-preprod policy is the
 * largest; 34 services fit.)
 */
const SUPPORTED_SERVICES = 30;

const ENV: AwsEnv = { partition: "aws", region: "eu-west-1", accountId: "111111111111" };
const STATE = "gantry-state-test";
const lam = (name: string) => `arn:aws:lambda:eu-west-1:111111111111:function:${name}`;
const obj = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const logs = (fn: string, stage: Stage = "prod") =>
  `arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/gantry-${stage}-${fn}:*`;
const EXECUTIONS = "arn:aws:states:eu-west-1:111111111111:execution:gantry-prod:*";
const secret = (name: string) =>
  `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${name}-??????`;
const LINK_KEYS = secret("gantry-prod-link-keys");
const DECISION_KEYS = secret("gantry-prod-decision-keys");
const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"];

function context(stage: Stage, reg: Registry, extra: Partial<PolicyContext> = {}): PolicyContext {
  return { env: ENV, stage, registry: reg, stateBucket: STATE, ...extra };
}

/** Allowed action -> sorted resources, over all allow statements. */
function grants(statements: readonly PolicyStatement[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of statements.filter((s) => s.effect === "allow"))
    for (const a of s.actions) {
      const resources = out[a] ?? new Set<string>();
      for (const r of s.resources) resources.add(r);
      out[a] = resources;
    }
  return Object.fromEntries(
    Object.entries(out)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([a, rs]) => [a, [...rs].sort()]),
  );
}

function sorted(record: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(record)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([a, rs]) => [a, [...rs].sort()]),
  );
}

function withLogs(
  fn: string,
  rest: Record<string, string[]>,
  stage: Stage = "prod",
): Record<string, string[]> {
  return sorted({ ...Object.fromEntries(LOG_ACTIONS.map((a) => [a, [logs(fn, stage)]])), ...rest });
}

const prodTargets = [
  lam("orders-prd"),
  `${lam("orders-prd")}:*`,
  lam("billing-prd"),
  `${lam("billing-prd")}:*`,
];
const prodArtifacts = [
  obj("t-artifacts-prod", "apps/orders/*"),
  obj("t-artifacts-prod", "billing/*"),
];
const preprodArtifacts = [
  obj("t-artifacts-preprod", "apps/orders/*"),
  obj("t-artifacts-preprod", "billing/*"),
];
const STATE_BUCKET = "arn:aws:s3:::gantry-state-test";
const HOLD_SCHEDULES = "arn:aws:scheduler:eu-west-1:111111111111:schedule/gantry-prod-holds/*";
const HOLD_SCHEDULER_ROLE = "arn:aws:iam::111111111111:role/gantry-prod-hold-scheduler";

/** Every function's exact grants in prod, with two services and preprod in the same account. */
const EXPECTED_PROD: Record<PolicyFunction, Record<string, string[]>> = {
  "validate-input": withLogs("validate-input", {}),
  "acquire-lock": withLogs("acquire-lock", {
    "s3:GetObject": [obj(STATE, "locks/*")],
    "s3:PutObject": [obj(STATE, "locks/*")],
    "s3:ListBucket": [STATE_BUCKET],
    "states:DescribeExecution": [EXECUTIONS],
  }),
  "verify-preprod": withLogs("verify-preprod", {
    // Only orders verifies preprod; billing's preprod is not readable.
    "s3:GetObject": [
      obj("t-artifacts-preprod", "apps/orders/*"),
      obj("t-artifacts-preprod", "validations/orders/*"),
    ],
    "s3:ListBucket": ["arn:aws:s3:::t-artifacts-preprod"],
    "lambda:GetAlias": [lam("orders-pre"), `${lam("orders-pre")}:*`],
    "lambda:GetFunctionConfiguration": [lam("orders-pre"), `${lam("orders-pre")}:*`],
    // Composite alarms are only returned to a caller allowed DescribeAlarms on "*".
    "cloudwatch:DescribeAlarms": ["*"],
  }),
  "approval-gate": withLogs("approval-gate", {
    // The incident check: is a watched alarm already in ALARM when the deployment starts?
    "cloudwatch:DescribeAlarms": ["*"],
    "s3:PutObject": [obj(STATE, "approvals/*"), obj(STATE, "approval-tokens/*")],
    "s3:GetObject": [obj(STATE, "approvals/*")],
    "s3:ListBucket": [STATE_BUCKET],
    "secretsmanager:GetSecretValue": [LINK_KEYS],
    "ses:SendEmail": ["arn:aws:ses:eu-west-1:111111111111:identity/acme.dev"],
    "states:SendTaskSuccess": ["*"],
  }),
  "verify-approval": withLogs("verify-approval", {
    "s3:GetObject": [obj(STATE, "approvals/*")],
    "s3:PutObject": [obj(STATE, "approvals/*.void.json")],
    "s3:ListBucket": [STATE_BUCKET],
    "secretsmanager:GetSecretValue": [DECISION_KEYS],
  }),
  "copy-artifact": withLogs("copy-artifact", {
    "s3:GetObject": [...preprodArtifacts, ...prodArtifacts],
    "s3:GetObjectVersion": preprodArtifacts,
    "s3:PutObject": prodArtifacts,
    "s3:PutObjectTagging": prodArtifacts,
    "s3:AbortMultipartUpload": prodArtifacts,
    "s3:ListBucket": ["arn:aws:s3:::t-artifacts-preprod", "arn:aws:s3:::t-artifacts-prod"],
  }),
  deploy: withLogs("deploy", {
    "lambda:GetAlias": prodTargets,
    "lambda:GetFunctionConfiguration": prodTargets,
    "lambda:UpdateFunctionCode": prodTargets,
    "lambda:PublishVersion": prodTargets,
    "s3:GetObject": prodArtifacts,
    "s3:GetObjectVersion": prodArtifacts,
  }),
  canary: withLogs("canary", {
    "lambda:InvokeFunction": [`${lam("orders-prd")}:*`, `${lam("billing-prd")}:*`],
    // After its checks pass, Canary gives the version the first traffic step.
    "lambda:GetAlias": prodTargets,
    "lambda:UpdateAlias": prodTargets,
  }),
  "check-alarms": withLogs("check-alarms", {
    "cloudwatch:DescribeAlarms": ["*"],
    "lambda:GetAlias": prodTargets,
    "lambda:UpdateAlias": prodTargets,
    // The version analysis: per-version metrics (no resource-level permissions), and synthetic
    // requests to the versions of orders only (billing's analysis never synthesizes).
    "cloudwatch:GetMetricData": ["*"],
    "lambda:InvokeFunction": [`${lam("orders-prd")}:*`],
  }),
  hold: withLogs("hold", {
    "s3:PutObject": [obj(STATE, "holds/*")],
    "cloudwatch:DescribeAlarms": ["*"],
    "scheduler:CreateSchedule": [HOLD_SCHEDULES],
    // Only to Scheduler (a condition): see "holds" below.
    "iam:PassRole": [HOLD_SCHEDULER_ROLE],
  }),
  "hold-events": withLogs("hold-events", {
    "s3:GetObject": [obj(STATE, "holds/*")],
    "s3:DeleteObject": [obj(STATE, "holds/*")],
    "s3:ListBucket": [STATE_BUCKET],
    "states:SendTaskSuccess": ["*"],
    "states:SendTaskFailure": ["*"],
    "scheduler:DeleteSchedule": [HOLD_SCHEDULES],
  }),
  promote: withLogs("promote", {
    "lambda:GetAlias": prodTargets,
    "lambda:UpdateAlias": prodTargets,
  }),
  rollback: withLogs("rollback", {
    "lambda:GetAlias": prodTargets,
    "lambda:UpdateAlias": prodTargets,
  }),
  finish: withLogs("finish", {
    "s3:GetObject": [obj(STATE, "locks/*")],
    "s3:DeleteObject": [obj(STATE, "locks/*")],
    "s3:PutObject": [obj(STATE, "deployments/*")],
    "s3:ListBucket": [STATE_BUCKET],
  }),
  "approval-http": withLogs("approval-http", {
    "s3:GetObject": [obj(STATE, "approvals/*"), obj(STATE, "approval-tokens/*")],
    "s3:PutObject": [obj(STATE, "approvals/*.decision.json")],
    "s3:ListBucket": [STATE_BUCKET],
    "secretsmanager:GetSecretValue": [LINK_KEYS, DECISION_KEYS],
    "states:DescribeExecution": [EXECUTIONS],
    "states:SendTaskSuccess": ["*"],
    "states:SendTaskFailure": ["*"],
  }),
  "approval-operator": withLogs("approval-operator", {
    "s3:GetObject": [
      obj(STATE, "approvals/*"),
      obj(STATE, "approval-tokens/*"),
      obj(STATE, "locks/*"),
    ],
    "s3:DeleteObject": [obj(STATE, "locks/*")],
    "s3:PutObject": [obj(STATE, "approvals/*.decision.json"), obj(STATE, "audit/locks/*")],
    "s3:ListBucket": [STATE_BUCKET],
    "secretsmanager:GetSecretValue": [DECISION_KEYS],
    "states:DescribeExecution": [EXECUTIONS],
    "states:SendTaskSuccess": ["*"],
    "states:SendTaskFailure": ["*"],
  }),
  reconcile: withLogs("reconcile", {
    "states:GetExecutionHistory": [EXECUTIONS],
    "lambda:GetAlias": prodTargets,
    "lambda:UpdateAlias": prodTargets,
    // deployments/*: a failed rollback it retries is read first (a repeat finds it reconciled).
    "s3:GetObject": [obj(STATE, "locks/*"), obj(STATE, "deployments/*")],
    "s3:DeleteObject": [obj(STATE, "locks/*")],
    "s3:PutObject": [obj(STATE, "deployments/*")],
    "s3:ListBucket": [STATE_BUCKET],
  }),
  "scheduled-canary": withLogs("scheduled-canary", {
    "lambda:InvokeFunction": [`${lam("orders-prd")}:current`, `${lam("billing-prd")}:live`],
  }),
};

/** Every policy the tests look at, in every mode. */
function everyPolicy(): { where: string; statements: PolicyStatement[] }[] {
  const all: { where: string; statements: PolicyStatement[] }[] = [];
  const contexts: [string, PolicyContext][] = [];
  for (const reg of [registry, TWO_SERVICES, manyServices(3)]) {
    contexts.push(["preprod", context("preprod", reg)]);
    contexts.push(["prod", context("prod", reg, { senderIdentity: "gantry@acme.dev" })]);
    contexts.push([
      "prod cross-account",
      context("prod", reg, {
        preprodRoleArn: "arn:aws:iam::222222222222:role/gantry-preprod-verify-read",
      }),
    ]);
  }
  for (const [where, ctx] of contexts)
    for (const [fn, statements] of Object.entries(functionPermissions(ctx)))
      all.push({ where: `${where} ${fn}`, statements });
  all.push({
    where: "state machine",
    statements: stateMachineStatements([lam("gantry-prod-deploy")]),
  });
  all.push({ where: "preprod read role", statements: preprodReadStatements(TWO_SERVICES, ENV) });
  return all;
}

describe("function permissions", () => {
  it("grant each prod function exactly what its code calls, on exactly its resources", () => {
    const permissions = functionPermissions(
      context("prod", TWO_SERVICES, { senderIdentity: "acme.dev" }),
    );
    expect(Object.keys(permissions).sort()).toEqual(Object.keys(EXPECTED_PROD).sort());
    for (const fn of Object.keys(EXPECTED_PROD) as PolicyFunction[])
      expect({ fn, grants: grants(permissions[fn]) }).toEqual({ fn, grants: EXPECTED_PROD[fn] });
  });

  it("let Canary give the version that passed its checks the first traffic step, and Deploy move no traffic", () => {
    // canary.ts calls shiftTraffic (GetAlias, UpdateAlias on the target's alias) once every
    // check passes; Deploy only publishes the version.
    for (const ctx of [context("prod", TWO_SERVICES), context("preprod", registry)]) {
      const permissions = functionPermissions(ctx);
      for (const { functionName, alias } of Object.values(ctx.registry.services).map(
        (s) => s.stages[ctx.stage],
      )) {
        const aliasArn = `${lam(functionName)}:${alias}`;
        for (const action of ["lambda:GetAlias", "lambda:UpdateAlias"]) {
          expect({
            action,
            aliasArn,
            canary: allows(permissions.canary, action, aliasArn),
          }).toEqual({ action, aliasArn, canary: true });
          expect(allows(permissions.canary, action, lam(functionName))).toBe(true);
        }
        expect(allows(permissions.deploy, "lambda:UpdateAlias", aliasArn)).toBe(false);
        expect(allows(permissions.deploy, "lambda:UpdateAlias", lam(functionName))).toBe(false);
      }
    }
  });

  it('let whoever reads the registry\'s alarms read composite ones too: DescribeAlarms on "*"', () => {
    // CloudWatch returns composite alarms only to a caller allowed DescribeAlarms on "*", and
    // the alarm reader asks for them (AlarmTypes: MetricAlarm, CompositeAlarm).
    const readers = [
      functionPermissions(context("prod", TWO_SERVICES))["check-alarms"],
      functionPermissions(context("preprod", TWO_SERVICES))["check-alarms"],
      functionPermissions(context("prod", TWO_SERVICES))["verify-preprod"],
      preprodReadStatements(TWO_SERVICES, ENV),
    ];
    for (const statements of readers) {
      const alarmStatements = statements.filter((s) =>
        s.actions.includes("cloudwatch:DescribeAlarms"),
      );
      expect(alarmStatements.map((s) => s.resources)).toEqual([["*"]]);
    }
    // A stage that names no alarm reads none.
    const noAlarms: Registry = {
      ...TWO_SERVICES,
      services: { billing: TWO_SERVICES.services.billing as Registry["services"][string] },
    };
    expect(
      JSON.stringify(functionPermissions(context("preprod", noAlarms))["check-alarms"]),
    ).not.toContain("cloudwatch:");
  });

  it("let only CheckAlarms read version metrics and send synthetic requests, and only where the registry analyses", () => {
    const prod = functionPermissions(context("prod", TWO_SERVICES));
    const readers = Object.entries(prod)
      .filter(([, statements]) => JSON.stringify(statements).includes("cloudwatch:GetMetricData"))
      .map(([fn]) => fn);
    expect(readers).toEqual(["check-alarms"]);
    expect(prod["check-alarms"].filter((s) => s.sid === "ReadVersionMetrics")).toEqual([
      {
        sid: "ReadVersionMetrics",
        effect: "allow",
        actions: ["cloudwatch:GetMetricData"],
        resources: ["*"],
      },
    ]);
    // The alias is what traffic goes through; synthetic requests go to versions (`fn:*` covers
    // both, as Canary's grant does), and never to another stage's or another service's function.
    expect(allows(prod["check-alarms"], "lambda:InvokeFunction", `${lam("orders-prd")}:7`)).toBe(
      true,
    );
    expect(allows(prod["check-alarms"], "lambda:InvokeFunction", `${lam("billing-prd")}:7`)).toBe(
      false,
    );
    expect(allows(prod["check-alarms"], "lambda:InvokeFunction", lam("orders-prd"))).toBe(false);
    // Preprod's stages have no analysis: neither grant.
    const preprod = JSON.stringify(functionPermissions(context("preprod", TWO_SERVICES)));
    expect(preprod).not.toContain("cloudwatch:GetMetricData");
    expect(
      JSON.stringify(functionPermissions(context("preprod", TWO_SERVICES))["check-alarms"]),
    ).not.toContain("lambda:InvokeFunction");
    // maxSyntheticRequests 0 may not synthesize either.
    const noSynthetic: Registry = {
      ...TWO_SERVICES,
      services: {
        orders: {
          ...(TWO_SERVICES.services.orders as Registry["services"][string]),
          stages: {
            ...(TWO_SERVICES.services.orders as Registry["services"][string]).stages,
            prod: {
              ...(TWO_SERVICES.services.orders as Registry["services"][string]).stages.prod,
              analysis: { maxSyntheticRequests: 0 },
            },
          },
        },
      },
    };
    const checkAlarms = functionPermissions(context("prod", noSynthetic))["check-alarms"];
    expect(grants(checkAlarms)["cloudwatch:GetMetricData"]).toEqual(["*"]);
    expect(grants(checkAlarms)["lambda:InvokeFunction"]).toBeUndefined();
  });

  it("never let approval-gate write a decision, even under approvals/*", () => {
    const denies = functionPermissions(context("prod", TWO_SERVICES))["approval-gate"].filter(
      (s) => s.effect === "deny",
    );
    expect(denies).toEqual([
      {
        sid: "NeverWriteDecisions",
        effect: "deny",
        actions: ["s3:PutObject"],
        resources: [obj(STATE, "approvals/*.decision.json")],
      },
    ]);
    const others = Object.entries(functionPermissions(context("prod", TWO_SERVICES)))
      .filter(([fn]) => fn !== "approval-gate")
      .flatMap(([, statements]) => statements.filter((s) => s.effect === "deny"));
    expect(others).toEqual([]);
  });

  it("give preprod functions preprod resources only", () => {
    const permissions = functionPermissions(context("preprod", TWO_SERVICES));
    const text = JSON.stringify(permissions);
    for (const prodName of ["orders-prd", "billing-prd", "t-artifacts-prod", "gantry-prod"])
      expect(text).not.toContain(prodName);
    // Nothing in preprod verifies preprod: VerifyPreprod can only write its logs.
    expect(Object.keys(grants(permissions["verify-preprod"])).sort()).toEqual(LOG_ACTIONS);
    // CopyArtifact reads the build bucket and writes the preprod artifact bucket.
    expect(grants(permissions["copy-artifact"])["s3:PutObject"]).toEqual([
      obj("t-artifacts-preprod", "apps/orders/*"),
      obj("t-artifacts-preprod", "billing/*"),
    ]);
    expect(grants(permissions["copy-artifact"])["s3:GetObjectVersion"]).toEqual([
      obj("t-builds", "apps/orders/*"),
      obj("t-builds", "billing/*"),
    ]);
  });

  it("only read where source and artifact bucket are one (nothing to copy)", () => {
    const permissions = functionPermissions(context("preprod", registry));
    expect(grants(permissions["copy-artifact"])).toEqual(
      withLogs(
        "copy-artifact",
        {
          "s3:GetObject": [obj("acme-gantry-artifacts-preprod", "hello-service/*")],
          "s3:GetObjectVersion": [obj("acme-gantry-artifacts-preprod", "hello-service/*")],
          "s3:ListBucket": ["arn:aws:s3:::acme-gantry-artifacts-preprod"],
        },
        "preprod",
      ),
    );
  });

  it("let prod VerifyPreprod only assume the preprod read role when preprod is another account", () => {
    const roleArn = "arn:aws:iam::222222222222:role/gantry-preprod-verify-read";
    const permissions = functionPermissions(
      context("prod", TWO_SERVICES, { preprodRoleArn: roleArn }),
    );
    expect(grants(permissions["verify-preprod"])).toEqual(
      withLogs("verify-preprod", { "sts:AssumeRole": [roleArn] }),
    );
  });

  it("send mail only when there is a sender identity", () => {
    const permissions = functionPermissions(context("prod", TWO_SERVICES));
    expect(JSON.stringify(permissions["approval-gate"])).not.toContain("ses:");
  });

  it("never grant PutMetricData: metrics go out as EMF log lines (Powertools Metrics)", () => {
    const metricStatements = everyPolicy().flatMap(({ statements }) =>
      statements.filter((s) => s.actions.some((a) => a.startsWith("cloudwatch:Put"))),
    );
    expect(metricStatements).toEqual([]);
    expect(METRICS_NAMESPACE).toBe("Gantry");
  });

  it(`stay within IAM's inline policy size for ${SUPPORTED_SERVICES} services`, () => {
    const reg = manyServices(SUPPORTED_SERVICES);
    for (const stage of ["preprod", "prod"] as const) {
      const permissions = functionPermissions(context(stage, reg, { senderIdentity: "acme.dev" }));
      for (const [fn, statements] of Object.entries(permissions))
        expect({ fn, stage, size: inlinePolicySize(statements) <= INLINE_POLICY_LIMIT }).toEqual({
          fn,
          stage,
          size: true,
        });
    }
  });

  it("refuse, before deploying anything, a registry whose policies IAM would reject", () => {
    const permissions = functionPermissions(context("prod", manyServices(40)));
    expect(() => assertPoliciesFit(permissions)).toThrow(
      /verify-preprod: its policy would have \d+ characters; IAM allows 10240/,
    );
    expect(() =>
      assertPoliciesFit(functionPermissions(context("prod", manyServices(SUPPORTED_SERVICES)))),
    ).not.toThrow();
  });
});

describe("holds", () => {
  const permissions = functionPermissions(context("prod", TWO_SERVICES));
  const schedule =
    "arn:aws:scheduler:eu-west-1:111111111111:schedule/gantry-prod-holds/gantry-prod-hold-abc";

  it("let hold create schedules and hold-events delete them, in the stage's group only", () => {
    expect(allows(permissions.hold, "scheduler:CreateSchedule", schedule)).toBe(true);
    expect(allows(permissions["hold-events"], "scheduler:DeleteSchedule", schedule)).toBe(true);
    const otherGroup = schedule.replace("gantry-prod-holds", "default");
    expect(allows(permissions.hold, "scheduler:CreateSchedule", otherGroup)).toBe(false);
    expect(allows(permissions.hold, "scheduler:DeleteSchedule", schedule)).toBe(false);
    expect(allows(permissions["hold-events"], "scheduler:CreateSchedule", schedule)).toBe(false);
    expect(whoMay(permissions, "scheduler:CreateSchedule", schedule)).toEqual(["hold"]);
    expect(whoMay(permissions, "iam:PassRole", HOLD_SCHEDULER_ROLE)).toEqual(["hold"]);
  });

  it("let hold pass Scheduler's role to Scheduler only", () => {
    const pass = permissions.hold.find((s) => s.actions.includes("iam:PassRole"));
    expect(pass?.conditions).toEqual([
      {
        test: "StringEquals",
        variable: "iam:PassedToService",
        values: ["scheduler.amazonaws.com"],
      },
    ]);
    expect(policyDocument([pass as PolicyStatement]).Statement[0]?.Condition).toEqual({
      StringEquals: { "iam:PassedToService": ["scheduler.amazonaws.com"] },
    });
  });

  it("keep the watches (task tokens) to hold and hold-events: nothing else reads holds/", () => {
    const watch = state("holds/executions/abc.json");
    expect(whoMay(permissions, "s3:GetObject", watch)).toEqual(["hold-events"]);
    expect(whoMay(permissions, "s3:PutObject", watch)).toEqual(["hold"]);
    expect(whoMay(permissions, "s3:DeleteObject", watch)).toEqual(["hold-events"]);
    // And they reach no other record.
    expect(allows(permissions["hold-events"], "s3:GetObject", state("locks/x.json"))).toBe(false);
    expect(allows(permissions.hold, "s3:PutObject", state("approvals/x.json"))).toBe(false);
  });

  it("let Scheduler's role invoke hold-events only, and be assumed by Scheduler for this account", () => {
    const holdEvents = lam("gantry-prod-hold-events");
    const statements = holdSchedulerStatements(holdEvents);
    expect(grants(statements)).toEqual({ "lambda:InvokeFunction": [holdEvents] });
    expect(allows(statements, "lambda:InvokeFunction", lam("gantry-prod-deploy"))).toBe(false);
    expect(allows(statements, "lambda:InvokeFunction", `${holdEvents}:1`)).toBe(false);
    expect(holdSchedulerTrustPolicy(ENV).Statement).toEqual([
      {
        Sid: "SchedulerForThisAccount",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
      },
    ]);
  });

  it("name the scheduler role the functions' settings point at", () => {
    expect(holdSchedulerRoleArn(ENV, "prod")).toBe(HOLD_SCHEDULER_ROLE);
  });
});

/** Whether a policy allows an action on a resource: some Allow matches and no Deny does. */
function allows(statements: readonly PolicyStatement[], action: string, resource: string): boolean {
  const hit = (s: PolicyStatement) =>
    s.actions.includes(action) && s.resources.some((r) => iamMatches(r, resource));
  return (
    statements.some((s) => s.effect === "allow" && hit(s)) &&
    !statements.some((s) => s.effect === "deny" && hit(s))
  );
}

/** The functions whose policies allow an action on a resource. */
function whoMay(
  permissions: Record<PolicyFunction, PolicyStatement[]>,
  action: string,
  resource: string,
): string[] {
  return Object.entries(permissions)
    .filter(([, statements]) => allows(statements, action, resource))
    .map(([fn]) => fn)
    .sort();
}

const ID = "AbCdEfGhIjKlMnOpQrStUvWx";
const state = (key: string) => obj(STATE, key);

describe("who may do what with approvals", () => {
  const contexts = [
    context("prod", TWO_SERVICES, { senderIdentity: "acme.dev" }),
    context("preprod", TWO_SERVICES),
    context("prod", registry, { senderIdentity: "gantry@acme.dev" }),
  ];

  it("reads IAM wildcards as IAM does (the checks below rely on it)", () => {
    expect(
      iamMatches(obj(STATE, "approvals/*.decision.json"), state(`approvals/${ID}.decision.json`)),
    ).toBe(true);
    expect(iamMatches(obj(STATE, "approvals/*.decision.json"), state(`approvals/${ID}.json`))).toBe(
      false,
    );
    expect(iamMatches(obj(STATE, "approvals/*"), state(`approvals/by-execution/${ID}.json`))).toBe(
      true,
    );
    expect(iamMatches(DECISION_KEYS, `${DECISION_KEYS.slice(0, -6)}Ab12Cd`)).toBe(true);
    expect(iamMatches(DECISION_KEYS, `${DECISION_KEYS.slice(0, -7)}-old-Ab12Cd`)).toBe(false);
    expect(iamMatches(DECISION_KEYS, `${DECISION_KEYS.slice(0, -6)}Ab12C`)).toBe(false);
    expect(iamMatches("arn:aws:s3:::a.b/c", "arn:aws:s3:::aXb/c")).toBe(false);
  });

  it("lets only approval-http and approval-operator write a decision record, and nobody delete one", () => {
    for (const ctx of contexts) {
      const permissions = functionPermissions(ctx);
      for (const key of [
        `approvals/${ID}.decision.json`,
        `approvals/by-execution/${ID}.decision.json`,
      ])
        expect({
          stage: ctx.stage,
          key,
          writers: whoMay(permissions, "s3:PutObject", state(key)),
        }).toEqual({
          stage: ctx.stage,
          key,
          writers: ["approval-http", "approval-operator"],
        });
      for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"])
        expect(whoMay(permissions, action, state(`approvals/${ID}.decision.json`))).toEqual([]);
    }
  });

  it("lets VerifyApproval write nothing but void records under approvals/", () => {
    const verify = functionPermissions(contexts[0] as PolicyContext)["verify-approval"];
    expect(allows(verify, "s3:PutObject", state(`approvals/${ID}.void.json`))).toBe(true);
    for (const key of [
      `approvals/${ID}.json`,
      `approvals/${ID}.decision.json`,
      `approvals/${ID}.notified.json`,
      `approvals/by-execution/${ID}.json`,
      `approval-tokens/${ID}.json`,
      "locks/orders.json",
      "deployments/orders/x.json",
    ])
      expect({ key, writes: allows(verify, "s3:PutObject", state(key)) }).toEqual({
        key,
        writes: false,
      });
    expect(allows(verify, "s3:GetObject", state(`approval-tokens/${ID}.json`))).toBe(false);
    expect(allows(verify, "states:SendTaskSuccess", "*")).toBe(false);
  });

  it("lets only the decision path read task tokens, and only approval-gate store them", () => {
    for (const ctx of contexts) {
      const permissions = functionPermissions(ctx);
      const token = state(`approval-tokens/${ID}.json`);
      expect(whoMay(permissions, "s3:GetObject", token)).toEqual([
        "approval-http",
        "approval-operator",
      ]);
      expect(whoMay(permissions, "s3:PutObject", token)).toEqual(["approval-gate"]);
    }
  });

  it("gives the decision keys to the approval path and VerifyApproval, the link keys to whoever signs or verifies links", () => {
    for (const ctx of contexts) {
      const permissions = functionPermissions(ctx);
      const keys = (set: "link" | "decision", stage = ctx.stage) =>
        `arn:aws:secretsmanager:eu-west-1:111111111111:secret:gantry-${stage}-${set}-keys-Ab12Cd`;
      expect(whoMay(permissions, "secretsmanager:GetSecretValue", keys("decision"))).toEqual([
        "approval-http",
        "approval-operator",
        "verify-approval",
      ]);
      expect(whoMay(permissions, "secretsmanager:GetSecretValue", keys("link"))).toEqual([
        "approval-gate",
        "approval-http",
      ]);
      const other = ctx.stage === "prod" ? "preprod" : "prod";
      for (const set of ["link", "decision"] as const)
        expect(whoMay(permissions, "secretsmanager:GetSecretValue", keys(set, other))).toEqual([]);
    }
  });

  it("lets the canaries touch neither the state bucket nor a key", () => {
    for (const ctx of contexts) {
      const permissions = functionPermissions(ctx);
      for (const fn of ["canary", "scheduled-canary"] as const) {
        const actions = permissions[fn].flatMap((s) => s.actions);
        expect({ fn, s3OrSecrets: actions.filter((a) => /^(s3|secretsmanager):/.test(a)) }).toEqual(
          {
            fn,
            s3OrSecrets: [],
          },
        );
      }
    }
  });

  it("lets only the lock's releasers and the operator API delete a lock, and only the operator API write lock-break audit records", () => {
    for (const ctx of contexts) {
      const permissions = functionPermissions(ctx);
      expect(whoMay(permissions, "s3:DeleteObject", state("locks/orders.json")).sort()).toEqual([
        "approval-operator",
        "finish",
        "reconcile",
      ]);
      expect(
        whoMay(permissions, "s3:PutObject", state("audit/locks/orders/2026-11-30T17-00-00Z.json")),
      ).toEqual(["approval-operator"]);
      // The operator API may break a lock, never take or write one.
      expect(
        allows(permissions["approval-operator"], "s3:PutObject", state("locks/orders.json")),
      ).toBe(false);
    }
  });

  it("lets only the approval functions and hold-events complete a task", () => {
    const permissions = functionPermissions(contexts[0] as PolicyContext);
    expect(whoMay(permissions, "states:SendTaskSuccess", "*")).toEqual([
      "approval-gate",
      "approval-http",
      "approval-operator",
      "hold-events",
    ]);
    expect(whoMay(permissions, "states:SendTaskFailure", "*")).toEqual([
      "approval-http",
      "approval-operator",
      "hold-events",
    ]);
  });
});

describe("every policy", () => {
  it("has no wildcard action", () => {
    for (const { where, statements } of everyPolicy())
      for (const s of statements)
        for (const action of s.actions)
          expect({ where, action, wildcard: action.includes("*") }).toEqual({
            where,
            action,
            wildcard: false,
          });
  });

  it('uses "*" resources only for the documented exceptions, and exactly these', () => {
    const starred = new Set<string>();
    for (const { where, statements } of everyPolicy()) {
      for (const s of statements.filter((s) => s.resources.includes("*"))) {
        expect({ where, sid: s.sid, onlyStar: s.resources }).toEqual({
          where,
          sid: s.sid,
          onlyStar: ["*"],
        });
        for (const action of s.actions) {
          expect({ where, action, documented: action in UNSCOPABLE_ACTIONS }).toEqual({
            where,
            action,
            documented: true,
          });
          starred.add(action);
        }
      }
    }
    expect([...starred].sort()).toEqual(Object.keys(UNSCOPABLE_ACTIONS).sort());
    expect(Object.keys(UNSCOPABLE_ACTIONS).sort()).toEqual([
      "cloudwatch:DescribeAlarms",
      "cloudwatch:GetMetricData",
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
      "states:SendTaskFailure",
      "states:SendTaskSuccess",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]);
  });

  it("names concrete resources elsewhere: no wildcard account, region, service or bucket", () => {
    for (const { where, statements } of everyPolicy()) {
      for (const s of statements) {
        for (const resource of s.resources.filter((r) => r !== "*")) {
          const [arn, partition, service, region, account, ...rest] = resource.split(":");
          const name = rest.join(":");
          // A wildcard only after a concrete prefix: `fn:*`, `execution:sm:*`, and for S3 a
          // key prefix (never a whole bucket's objects).
          const star = name.indexOf("*");
          const key = service === "s3" ? name.slice(name.indexOf("/") + 1) : "";
          // `?` only as the six random characters AWS appends to a secret's ARN.
          const questionMarks = (resource.match(/\?/g) ?? []).length;
          const secretSuffixOnly =
            questionMarks === 0 ||
            (service === "secretsmanager" &&
              questionMarks === 6 &&
              /^secret:gantry-(preprod|prod)-[a-z-]+-\?{6}$/.test(name));
          const concrete =
            secretSuffixOnly &&
            arn === "arn" &&
            partition === "aws" &&
            /^[a-z0-9-]+$/.test(service ?? "") &&
            !(region ?? "").includes("*") &&
            !(account ?? "").includes("*") &&
            (star === -1 ||
              (star === name.lastIndexOf("*") &&
                star > 0 &&
                (service !== "s3" || (name.includes("/") && key.indexOf("*") > 0))));
          expect({ where, resource, concrete }).toEqual({ where, resource, concrete: true });
        }
      }
    }
  });

  it("uses unique alphanumeric statement ids and never an empty resource list", () => {
    for (const { where, statements } of everyPolicy()) {
      const sids = statements.map((s) => s.sid);
      expect({ where, unique: new Set(sids).size === sids.length }).toEqual({
        where,
        unique: true,
      });
      for (const s of statements) {
        expect(s.sid).toMatch(/^[A-Za-z0-9]+$/);
        expect(s.resources.length).toBeGreaterThan(0);
        expect(s.actions.length).toBeGreaterThan(0);
      }
    }
  });
});

describe("the state machine's role", () => {
  it("may invoke its own functions (and their versions), and deliver logs and traces", () => {
    const arns = [lam("gantry-prod-deploy"), lam("gantry-prod-finish")];
    const statements = stateMachineStatements(arns);
    expect(grants(statements)["lambda:InvokeFunction"]).toEqual(
      [...arns, ...arns.map((a) => `${a}:*`)].sort(),
    );
    const scoped = statements.filter((s) => !s.resources.includes("*"));
    expect(scoped.map((s) => s.sid)).toEqual(["InvokeWorkflowFunctions"]);
  });

  it("is assumable by Step Functions for this state machine only", () => {
    const machine = "arn:aws:states:eu-west-1:111111111111:stateMachine:gantry-prod";
    expect(stateMachineTrustPolicy(ENV, machine).Statement).toEqual([
      {
        Sid: "StepFunctionsForThisStateMachine",
        Effect: "Allow",
        Principal: { Service: "states.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": "111111111111" },
          ArnEquals: { "aws:SourceArn": machine },
        },
      },
    ]);
  });
});

describe("the preprod read role (separate prod account)", () => {
  it("allows what VerifyPreprod reads, for services that verify, in the preprod account", () => {
    const preprodEnv: AwsEnv = { ...ENV, accountId: "333333333333" };
    const g = grants(preprodReadStatements(TWO_SERVICES, preprodEnv));
    expect(g).toEqual({
      "cloudwatch:DescribeAlarms": ["*"],
      "lambda:GetAlias": [
        "arn:aws:lambda:eu-west-1:333333333333:function:orders-pre",
        "arn:aws:lambda:eu-west-1:333333333333:function:orders-pre:*",
      ],
      "lambda:GetFunctionConfiguration": [
        "arn:aws:lambda:eu-west-1:333333333333:function:orders-pre",
        "arn:aws:lambda:eu-west-1:333333333333:function:orders-pre:*",
      ],
      "s3:GetObject": [
        obj("t-artifacts-preprod", "apps/orders/*"),
        obj("t-artifacts-preprod", "validations/orders/*"),
      ],
      "s3:ListBucket": ["arn:aws:s3:::t-artifacts-preprod"],
    });
  });

  it("trusts only the prod VerifyPreprod role", () => {
    expect(preprodReadTrustPolicy("aws", "222222222222").Statement).toEqual([
      {
        Sid: "ProdVerifyPreprodOnly",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::222222222222:root" },
        Action: "sts:AssumeRole",
        Condition: {
          ArnEquals: {
            "aws:PrincipalArn": "arn:aws:iam::222222222222:role/gantry-prod-verify-preprod",
          },
        },
      },
    ]);
  });

  it("is empty when no service verifies preprod", () => {
    const none: Registry = {
      ...TWO_SERVICES,
      services: { billing: TWO_SERVICES.services.billing as Registry["services"][string] },
    };
    expect(preprodReadStatements(none, ENV)).toEqual([]);
  });
});

describe("policyDocument", () => {
  it("writes IAM JSON: Sid, Effect, Action and Resource per statement", () => {
    const doc = policyDocument(functionPermissions(context("prod", TWO_SERVICES)).finish);
    expect(doc.Version).toBe("2012-10-17");
    expect(doc.Statement.find((s) => s.Sid === "ReleaseLocks")).toEqual({
      Sid: "ReleaseLocks",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:DeleteObject"],
      Resource: [obj(STATE, "locks/*")],
    });
  });
});
