/**
 * sst.config.ts itself, run under Pulumi mocks for prod with a recording stand-in for
 * sst.aws.Function: the wiring between the modules (which function gets which settings,
 * permissions and URL; what the Cron and the rules point at; the outputs CI reads).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import { functionSpecs } from "../../stacks/catalog.ts";
import { defaultStateBucketName } from "../../stacks/names.ts";
import { functionPermissions } from "../../stacks/policy.ts";
import { type FunctionCall, fakeFunctionClass } from "./support/fake-function.ts";
import {
  ENV,
  installMocks,
  one,
  outputValue,
  type Registered,
  ROOT,
  settled,
} from "./support/pulumi-mocks.ts";

const ASL = readFileSync(path.join(ROOT, "state-machines/deployment.asl.json"), "utf8");
const SIGNING_KEY = "k".repeat(44);
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
      "request-approval": [
        "GANTRY_APPROVAL_URL",
        "GANTRY_SENDER",
        "GANTRY_SIGNING_KEY",
        "GANTRY_SIGNING_KEY_PREVIOUS",
        "GANTRY_STATE_BUCKET",
      ],
      "copy-artifact": [],
      deploy: [],
      canary: [],
      "check-alarms": [],
      promote: [],
      rollback: [],
      finish: ["GANTRY_STATE_BUCKET"],
      "approval-http": ["GANTRY_SIGNING_KEY", "GANTRY_SIGNING_KEY_PREVIOUS", "GANTRY_STATE_BUCKET"],
      reconcile: ["GANTRY_STATE_BUCKET"],
      "scheduled-canary": ["GANTRY_STAGE"],
    };
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
    expect(await environmentOf("request-approval")).toMatchObject({
      GANTRY_STATE_BUCKET: STATE_BUCKET,
      GANTRY_APPROVAL_URL: "https://gantry-prod-approval-http.lambda-url.us-east-1.on.aws/",
      GANTRY_SENDER: "gantry@acme.dev",
      GANTRY_SIGNING_KEY: SIGNING_KEY,
      GANTRY_SIGNING_KEY_PREVIOUS: "",
    });
    expect(await environmentOf("scheduled-canary")).toMatchObject({ GANTRY_STAGE: "prod" });
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

  it("is private, except the approval pages behind a Function URL", () => {
    expect(calls.filter((c) => c.args.url).map((c) => [c.args.name, c.args.url])).toEqual([
      ["gantry-prod-approval-http", { authorization: "none" }],
    ]);
  });
});

describe("the rest of the graph", () => {
  it("runs the hourly canary on the scheduled-canary function", () => {
    expect(
      one(registered, "aws:cloudwatch/eventTarget:EventTarget", "HourlyCanaryTarget").inputs.arn,
    ).toBe("arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-scheduled-canary");
  });

  it("sends abandoned executions to the reconcile function", () => {
    expect(
      one(registered, "aws:cloudwatch/eventTarget:EventTarget", "AbandonedExecutionsToReconcile")
        .inputs.arn,
    ).toBe("arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-reconcile");
  });

  it("wires the state machine to the workflow functions", () => {
    const definition = one(registered, "aws:sfn/stateMachine:StateMachine", "Pipeline").inputs
      .definition as string;
    expect(definition).toContain(
      '"Resource": "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-copy-artifact"',
    );
    expect(definition).toContain(
      '"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-request-approval"',
    );
  });

  it("creates the SES identity approval mail is sent from", () => {
    expect(
      one(registered, "aws:sesv2/emailIdentity:EmailIdentity", "ApprovalSender").inputs,
    ).toMatchObject({
      emailIdentity: "acme.dev",
    });
  });
});
