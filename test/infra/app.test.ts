/**
 * sst.config.ts itself, run under Pulumi mocks for prod with a recording stand-in for
 * sst.aws.Function: the wiring between the modules (which function gets which settings,
 * permissions and URL; what the Cron and the rules point at; the outputs CI reads).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { functionSpecs } from "@gantry/stacks/catalog";
import { readConfig } from "@gantry/stacks/config";
import { functionEnvironment, holdResources } from "@gantry/stacks/environment";
import { defaultStateBucketName } from "@gantry/stacks/names";
import { functionPermissions } from "@gantry/stacks/policy";
import { beforeAll, describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import { type FunctionCall, fakeFunctionClass } from "./support/fake-function.ts";
import { iamMatches } from "./support/iam.ts";
import {
  ENV,
  installMocks,
  ofType,
  one,
  outputValue,
  type Registered,
  ROOT,
  SECRET_SUFFIX,
  settled,
} from "./support/pulumi-mocks.ts";

const ASL = readFileSync(path.join(ROOT, "state-machines/workflow.asl.json"), "utf8");
const SIGNING_KEY = "k".repeat(44);
const DECISION_KEY = "d".repeat(44);
const secretArn = (name: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-${SECRET_SUFFIX}`;
const LINK_KEYS_ARN = secretArn("gantry-prod-link-keys");
const DECISION_KEYS_ARN = secretArn("gantry-prod-decision-keys");
const STATE_BUCKET = defaultStateBucketName("prod", ENV.accountId, ENV.region);

let registered: Registered[];
const calls: FunctionCall[] = [];
// biome-ignore lint/suspicious/noExplicitAny: the SST config object
let config: any;
let outputs: Record<string, unknown>;

function call(file: string): FunctionCall {
  const found = calls.find((c) => c.args.name === `gantry-prod-${file}`);
  if (!found) throw new Error(`no function ${file}`);
  return found;
}

async function resolved(value: unknown): Promise<unknown> {
  return value && typeof value === "object" && "apply" in value
    ? outputValue(value as never)
    : value;
}

async function environmentOf(file: string): Promise<Record<string, unknown>> {
  const env = call(file).args.environment as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) out[k] = await resolved(v);
  return out;
}

beforeAll(async () => {
  registered = await installMocks("prod");
  const g = globalThis as Record<string, unknown> & { sst: { aws: Record<string, unknown> } };
  g.sst.aws.Function = fakeFunctionClass(calls, ENV);
  g.$config = (c: unknown) => c;
  Object.assign(process.env, {
    GANTRY_SENDER: "gantry@acme.dev",
    GANTRY_SENDER_IDENTITY: "acme.dev",
    GANTRY_LOG_LEVEL: "WARN",
    SST_SECRET_ApprovalSigningKey: SIGNING_KEY,
    SST_SECRET_ApprovalDecisionKey: DECISION_KEY,
  });
  config = (await import("../../sst.config.ts")).default;
  outputs = await config.run();
  for (const key of Object.keys(outputs)) outputs[key] = await resolved(outputs[key]);
  await settled();
});

describe("the app", () => {
  it("is gantry, on AWS, keeping its buckets; prod is protected from sst remove", async () => {
    expect(await config.app({ stage: "prod" })).toEqual({
      name: "gantry",
      home: "aws",
      removal: "retain",
      protect: true,
    });
    expect((await config.app({ stage: "preprod" })).protect).toBe(false);
    await expect(config.app({ stage: "dev" })).rejects.toThrow(
      /only to the stages preprod and prod/,
    );
  });

  it("outputs what CI needs", () => {
    expect(outputs).toEqual({
      stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-prod",
      approvalUrl: "https://gantry-prod-approval-http.lambda-url.us-east-1.on.aws/",
      operatorUrl: "https://gantry-prod-approval-operator.lambda-url.us-east-1.on.aws/",
      artifactBucket: "acme-gantry-artifacts-prod",
      stateBucket: STATE_BUCKET,
      notificationsTopicArn: "arn:aws:sns:us-east-1:123456789012:gantry-prod-notifications",
    });
  });
});

describe("every function", () => {
  it("is the stage's catalogue, built from its file in functions/", () => {
    const specs = functionSpecs(ASL, "prod");
    expect(calls.map((c) => c.args.name).sort()).toEqual(
      specs.map((s) => `gantry-prod-${s.file}`).sort(),
    );
    for (const spec of specs) {
      const { args } = call(spec.file);
      expect(args).toMatchObject({
        handler: `functions/${spec.file}.handler`,
        runtime: "nodejs24.x",
        architecture: "arm64",
        timeout: `${spec.timeoutSeconds} seconds`,
        memory: "512 MB",
        nodejs: {
          format: "esm",
          minify: true,
          splitting: true,
          esbuild: { mainFields: ["module", "main"] },
        },
      });
      expect(existsSync(path.join(ROOT, "functions", `${spec.file}.ts`))).toBe(true);
    }
  });

  it("has Powertools settings, and only the settings it reads", async () => {
    const expected: Record<string, string[]> = {
      "validate-input": ["GANTRY_STAGE"],
      "acquire-lock": ["GANTRY_STATE_BUCKET"],
      "verify-preprod": [],
      "approval-gate": [
        "GANTRY_APPROVAL_URL",
        "GANTRY_LINK_KEYS_SECRET",
        "GANTRY_SENDER",
        "GANTRY_STATE_BUCKET",
      ],
      "verify-approval": ["GANTRY_DECISION_KEYS_SECRET", "GANTRY_STATE_BUCKET"],
      "copy-artifact": [],
      deploy: [],
      canary: [],
      "check-alarms": [],
      promote: [],
      rollback: [],
      finish: ["GANTRY_STATE_BUCKET"],
      "approval-http": [
        "GANTRY_DECISION_KEYS_SECRET",
        "GANTRY_LINK_KEYS_SECRET",
        "GANTRY_STATE_BUCKET",
      ],
      "approval-operator": ["GANTRY_DECISION_KEYS_SECRET", "GANTRY_STAGE", "GANTRY_STATE_BUCKET"],
      hold: [
        "GANTRY_HOLD_EVENTS_ARN",
        "GANTRY_HOLD_SCHEDULER_ROLE_ARN",
        "GANTRY_HOLD_SCHEDULE_GROUP",
        "GANTRY_STATE_BUCKET",
      ],
      "hold-events": ["GANTRY_HOLD_SCHEDULE_GROUP", "GANTRY_STATE_BUCKET"],
      reconcile: ["GANTRY_STATE_BUCKET"],
      "scheduled-canary": ["GANTRY_STAGE"],
    };
    expect(Object.keys(expected).sort()).toEqual(calls.map((c) => c.args.name.slice(12)).sort());
    for (const [file, settings] of Object.entries(expected)) {
      const env = await environmentOf(file);
      expect({
        file,
        powertools: Object.keys(env)
          .filter((k) => k.startsWith("POWERTOOLS_"))
          .sort(),
      }).toEqual({
        file,
        powertools: [
          "POWERTOOLS_LOGGER_LOG_EVENT",
          "POWERTOOLS_LOG_LEVEL",
          "POWERTOOLS_METRICS_NAMESPACE",
          "POWERTOOLS_SERVICE_NAME",
        ],
      });
      expect(env).toMatchObject({
        POWERTOOLS_SERVICE_NAME: "gantry",
        POWERTOOLS_LOG_LEVEL: "WARN",
        POWERTOOLS_LOGGER_LOG_EVENT: "false",
      });
      expect({
        file,
        settings: Object.keys(env)
          .filter((k) => k.startsWith("GANTRY_"))
          .sort(),
      }).toEqual({
        file,
        settings,
      });
    }
    expect(await environmentOf("approval-gate")).toMatchObject({
      GANTRY_STATE_BUCKET: STATE_BUCKET,
      GANTRY_APPROVAL_URL: "https://gantry-prod-approval-http.lambda-url.us-east-1.on.aws/",
      GANTRY_SENDER: "gantry@acme.dev",
      GANTRY_LINK_KEYS_SECRET: LINK_KEYS_ARN,
    });
    expect(await environmentOf("approval-http")).toMatchObject({
      GANTRY_LINK_KEYS_SECRET: LINK_KEYS_ARN,
      GANTRY_DECISION_KEYS_SECRET: DECISION_KEYS_ARN,
    });
    for (const file of ["verify-approval", "approval-operator"])
      expect(await environmentOf(file)).toMatchObject({
        GANTRY_DECISION_KEYS_SECRET: DECISION_KEYS_ARN,
      });
    expect(await environmentOf("scheduled-canary")).toMatchObject({ GANTRY_STAGE: "prod" });
    // hold points its schedules at hold-events and Scheduler's role, by their fixed names.
    expect(await environmentOf("hold")).toMatchObject({
      GANTRY_HOLD_SCHEDULE_GROUP: "gantry-prod-holds",
      GANTRY_HOLD_EVENTS_ARN: `arn:aws:lambda:${ENV.region}:${ENV.accountId}:function:gantry-prod-hold-events`,
      GANTRY_HOLD_SCHEDULER_ROLE_ARN: `arn:aws:iam::${ENV.accountId}:role/gantry-prod-hold-scheduler`,
    });
    expect(await environmentOf("hold-events")).toMatchObject({
      GANTRY_HOLD_SCHEDULE_GROUP: "gantry-prod-holds",
    });
  });

  it("gets exactly the settings its catalogue entry lists (those configured for the stage)", async () => {
    // GANTRY_PREPROD_ROLE_ARN is unset here: preprod is in the same account.
    const configured = (setting: string) => setting !== "GANTRY_PREPROD_ROLE_ARN";
    for (const spec of functionSpecs(ASL, "prod")) {
      const env = await environmentOf(spec.file);
      expect({
        file: spec.file,
        settings: Object.keys(env)
          .filter((k) => !k.startsWith("POWERTOOLS_"))
          .sort(),
      }).toEqual({ file: spec.file, settings: spec.settings.filter(configured).sort() });
    }
  });

  it("gets the environment stacks/environment.ts computes, which the contract suites run its handler in", async () => {
    const config = readConfig("prod", process.env, registry);
    for (const spec of functionSpecs(ASL, "prod")) {
      expect({ file: spec.file, env: await environmentOf(spec.file) }).toEqual({
        file: spec.file,
        env: functionEnvironment<string>(spec, "prod", config, {
          stateBucket: STATE_BUCKET,
          approvalUrl: "https://gantry-prod-approval-http.lambda-url.us-east-1.on.aws/",
          keySecretArns: { links: LINK_KEYS_ARN, decisions: DECISION_KEYS_ARN },
          holds: holdResources(ENV, "prod"),
        }),
      });
    }
  });

  it("never carries a key in its environment: only the secrets' ARNs", async () => {
    for (const c of calls) {
      const env = await environmentOf(c.args.name.slice(12));
      expect(Object.keys(env).filter((k) => /SIGNING|_KEY$|_KEY_/.test(k))).toEqual([]);
      const text = JSON.stringify(env);
      expect({
        fn: c.args.name,
        hasKey: text.includes(SIGNING_KEY) || text.includes(DECISION_KEY),
      }).toEqual({
        fn: c.args.name,
        hasKey: false,
      });
    }
  });

  it("may read the key secrets its environment names, and no other", async () => {
    for (const c of calls) {
      const env = await environmentOf(c.args.name.slice(12));
      const named = [env.GANTRY_LINK_KEYS_SECRET, env.GANTRY_DECISION_KEYS_SECRET].filter(
        (v): v is string => typeof v === "string",
      );
      const readable = [LINK_KEYS_ARN, DECISION_KEYS_ARN]
        .sort()
        .filter((arn) =>
          (c.args.permissions as { effect: string; actions: string[]; resources: string[] }[]).some(
            (p) =>
              p.effect === "allow" &&
              p.actions.includes("secretsmanager:GetSecretValue") &&
              p.resources.some((r) => iamMatches(r, arn)),
          ),
        );
      expect({ fn: c.args.name, readable }).toEqual({ fn: c.args.name, readable: named.sort() });
    }
  });

  it("has exactly its own permissions", () => {
    const permissions = functionPermissions({
      env: ENV,
      stage: "prod",
      registry,
      stateBucket: STATE_BUCKET,
      senderIdentity: "acme.dev",
    });
    for (const c of calls) {
      const file = (c.args.name as string).replace("gantry-prod-", "") as keyof typeof permissions;
      expect({ file, permissions: c.args.permissions }).toEqual({
        file,
        permissions: permissions[file].map(({ sid: _sid, ...rest }) => ({
          ...rest,
          actions: [...rest.actions],
          resources: [...rest.resources],
        })),
      });
    }
  });

  it("runs under a role named after it, without the blanket logging policy", () => {
    for (const c of calls) {
      const role: Record<string, unknown> = {
        managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
      };
      c.args.transform.role(role);
      expect(role).toEqual({ name: c.args.name, managedPolicyArns: [] });
    }
  });

  it("is private, except the approval pages (public) and the operator API (IAM) behind Function URLs", () => {
    expect(
      calls
        .filter((c) => c.args.url)
        .map((c) => [c.args.name, c.args.url])
        .sort(),
    ).toEqual([
      ["gantry-prod-approval-http", { authorization: "none" }],
      ["gantry-prod-approval-operator", { authorization: "iam" }],
    ]);
  });
});

describe("the rest of the graph", () => {
  it("runs the hourly canary on the scheduled-canary function", () => {
    expect(
      (
        one(registered, "aws:scheduler/schedule:Schedule", "HourlyCanarySchedule").inputs
          .target as {
          arn: string;
        }
      ).arn,
    ).toBe("arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-scheduled-canary");
  });

  it("sends the registry's alarms entering ALARM to hold-events, and gives holds their group and Scheduler's role", () => {
    const holdEvents = "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-hold-events";
    expect(
      one(registered, "aws:cloudwatch/eventTarget:EventTarget", "HoldAlarmsToHoldEvents").inputs
        .arn,
    ).toBe(holdEvents);
    expect(
      one(registered, "aws:lambda/permission:Permission", "HoldAlarmsInvokeHoldEvents").inputs
        .function,
    ).toBe(holdEvents);
    // The names the hold function's settings point at (environment.ts, holdResources).
    const holds = holdResources(ENV, "prod");
    expect(
      one(registered, "aws:scheduler/scheduleGroup:ScheduleGroup", "HoldSchedules").inputs.name,
    ).toBe(holds.scheduleGroup);
    const role = one(registered, "aws:iam/role:Role", "HoldSchedulerRole").inputs;
    expect(`arn:aws:iam::${ENV.accountId}:role/${String(role.name)}`).toBe(holds.schedulerRoleArn);
    expect(holds.eventsFunctionArn).toBe(holdEvents);
  });

  it("sends abandoned executions to the reconcile function", () => {
    expect(
      one(registered, "aws:cloudwatch/eventTarget:EventTarget", "AbandonedExecutionsToReconcile")
        .inputs.arn,
    ).toBe("arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-reconcile");
  });

  it("wires the state machine to the workflow functions", () => {
    const definition = one(registered, "aws:sfn/stateMachine:StateMachine", "Workflow").inputs
      .definition as string;
    expect(definition).toContain(
      '"Resource": "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-copy-artifact"',
    );
    expect(definition).toContain(
      '"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-approval-gate"',
    );
    expect(definition).toContain(
      '"Resource": "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-verify-approval"',
    );
    expect(definition).not.toContain("approval-operator");
  });

  it("keeps each key set in its own Secrets Manager secret, as the JSON the functions read", async () => {
    const secrets = ofType(registered, "aws:secretsmanager/secret:Secret");
    expect(secrets.map((r) => [r.name, r.inputs.name, r.inputs.recoveryWindowInDays])).toEqual([
      ["LinkKeys", "gantry-prod-link-keys", 0],
      ["DecisionKeys", "gantry-prod-decision-keys", 0],
    ]);
    const versions = ofType(registered, "aws:secretsmanager/secretVersion:SecretVersion");
    expect(versions.map((r) => [r.name, r.inputs.secretId])).toEqual([
      ["LinkKeysValue", LINK_KEYS_ARN],
      ["DecisionKeysValue", DECISION_KEYS_ARN],
    ]);
    // Pulumi marks a secret value with this signature; SST encrypts it in its state.
    const SECRET_SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
    const value = (name: string) => {
      const input = versions.find((r) => r.name === name)?.inputs.secretString;
      expect(input).toMatchObject(SECRET_SIG);
      return JSON.parse(String((input as { value: unknown }).value));
    };
    expect(value("LinkKeysValue")).toEqual({ current: SIGNING_KEY, previous: "" });
    expect(value("DecisionKeysValue")).toEqual({ current: DECISION_KEY, previous: "" });
  });

  it("lets only the approval path's roles write decision records into the state bucket", () => {
    const policy = JSON.parse(
      one(registered, "aws:s3/bucketPolicy:BucketPolicy", "StateBucketPolicy").inputs
        .policy as string,
    );
    const deny = policy.Statement.find(
      (s: { Sid: string }) => s.Sid === "OnlyTheApprovalPathWritesDecisions",
    );
    expect(deny).toMatchObject({
      Effect: "Deny",
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${STATE_BUCKET}/approvals/*.decision.json`,
      Condition: {
        ArnNotEquals: {
          "aws:PrincipalArn": [
            "arn:aws:iam::123456789012:role/gantry-prod-approval-http",
            "arn:aws:iam::123456789012:role/gantry-prod-approval-operator",
          ],
        },
      },
    });
    // The roles it exempts are the ones the functions run under.
    for (const arn of deny.Condition.ArnNotEquals["aws:PrincipalArn"] as string[]) {
      const name = arn.slice(arn.indexOf("role/") + 5);
      const c = calls.find((c) => c.args.name === name);
      expect(c).toBeDefined();
      const role: Record<string, unknown> = {};
      c?.args.transform.role(role);
      expect(role.name).toBe(name);
    }
  });

  it("creates the SES identity approval mail is sent from", () => {
    expect(
      one(registered, "aws:sesv2/emailIdentity:EmailIdentity", "ApprovalSender").inputs,
    ).toMatchObject({
      emailIdentity: "acme.dev",
    });
  });
});
