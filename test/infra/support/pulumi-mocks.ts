/**
 * Runs Gantry's stack modules under Pulumi's mocks, offline: the SST globals a `run()` gets
 * ($app, $util, $interpolate, aws, sst, ...) are provided from the platform `sst install`
 * generated in .sst/platform, and every resource registration is recorded with its inputs.
 *
 * The modules and the mocks must share one @pulumi/pulumi instance: both are loaded from
 * .sst/platform/node_modules, as SST itself loads them.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = path.resolve(import.meta.dirname, "../../..");
export const PLATFORM = path.join(ROOT, ".sst/platform");

if (!existsSync(path.join(PLATFORM, "node_modules/@pulumi/aws"))) {
  throw new Error(
    ".sst/platform is missing: run `npm run test:infra` (it runs `sst install` offline first)",
  );
}

const platformRequire = createRequire(path.join(PLATFORM, "package.json"));
// biome-ignore lint/suspicious/noExplicitAny: the platform's modules are untyped here
export const pulumi: any = platformRequire("@pulumi/pulumi");
// biome-ignore lint/suspicious/noExplicitAny: the platform's modules are untyped here
export const awsSdk: any = platformRequire("@pulumi/aws");

export const ENV = { partition: "aws", region: "us-east-1", accountId: "123456789012" } as const;

/** One resource as the program registered it. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/** What a created resource reports back: its inputs plus an ARN shaped like AWS's. */
function mockState(type: string, name: string, inputs: Record<string, unknown>) {
  const physical = String(inputs.name ?? inputs.bucket ?? name);
  const region = `${ENV.region}:${ENV.accountId}`;
  const arns: Record<string, string> = {
    "aws:sfn/stateMachine:StateMachine": `arn:aws:states:${region}:stateMachine:${physical}`,
    "aws:sns/topic:Topic": `arn:aws:sns:${region}:${physical}`,
    "aws:cloudwatch/eventRule:EventRule": `arn:aws:events:${region}:rule/${physical}`,
    "aws:scheduler/schedule:Schedule": `arn:aws:scheduler:${region}:schedule/default/${physical}`,
    "aws:cloudwatch/logGroup:LogGroup": `arn:aws:logs:${region}:log-group:${physical}`,
    "aws:cloudwatch/metricAlarm:MetricAlarm": `arn:aws:cloudwatch:${region}:alarm:${physical}`,
    "aws:iam/role:Role": `arn:aws:iam::${ENV.accountId}:role/${physical}`,
    "aws:s3/bucket:Bucket": `arn:aws:s3:::${physical}`,
  };
  // Secrets Manager appends "-" and six random characters to a secret's ARN; a version's ARN
  // is its secret's (whose id is that ARN).
  if (type === "aws:secretsmanager/secret:Secret")
    arns[type] = `arn:aws:secretsmanager:${region}:secret:${physical}-${SECRET_SUFFIX}`;
  if (type === "aws:secretsmanager/secretVersion:SecretVersion")
    arns[type] = String(inputs.secretId);
  return { ...inputs, name: inputs.name ?? physical, arn: arns[type] ?? `arn:aws:mock:::${name}` };
}

interface PolicyDocumentStatement {
  readonly sid?: string;
  readonly effect?: string;
  readonly actions?: readonly string[];
  readonly resources?: readonly string[];
}

/** The JSON `aws.iam.getPolicyDocument` returns for its `statements`. */
function policyJson(inputs: Record<string, unknown>): Record<string, unknown> {
  const one = (values: readonly string[] | undefined) =>
    values && values.length === 1 ? values[0] : values;
  const statements = (inputs.statements ?? []) as PolicyDocumentStatement[];
  return {
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      ...(s.sid ? { Sid: s.sid } : {}),
      Effect: s.effect ?? "Allow",
      ...(s.actions ? { Action: one(s.actions) } : {}),
      ...(s.resources ? { Resource: one(s.resources) } : {}),
    })),
  };
}

/** The random suffix the mocks give every Secrets Manager secret's ARN. */
export const SECRET_SUFFIX = "Ab12Cd";

/** A resource's id: a secret's is its ARN, as in AWS; anything else's is made up. */
function mockId(type: string, name: string, state: { arn: string }): string {
  return type === "aws:secretsmanager/secret:Secret" ? state.arn : `${name}-id`;
}

/**
 * Installs the mocks and the SST globals for one stage, and returns the registrations as they
 * arrive. Call once per test file (each file runs in its own worker).
 */
export async function installMocks(stage: "preprod" | "prod"): Promise<Registered[]> {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: { type: string; name: string; inputs: Record<string, unknown> }) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state = mockState(args.type, args.name, args.inputs);
        return { id: mockId(args.type, args.name, state), state };
      },
      call(args: { token: string; inputs: Record<string, unknown> }) {
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ENV.accountId, arn: `arn:aws:iam::${ENV.accountId}:user/ci` };
          case "aws:index/getRegion:getRegion":
            return { name: ENV.region, region: ENV.region };
          case "aws:index/getPartition:getPartition":
            return { partition: ENV.partition, dnsSuffix: "amazonaws.com" };
          case "aws:iam/getPolicyDocument:getPolicyDocument":
            // What the provider renders (a one-element list as a plain string): CronV2 builds
            // its role's policy with it.
            return { json: JSON.stringify(policyJson(args.inputs)) };
          default:
            throw new Error(`unexpected invoke ${args.token}`);
        }
      },
    },
    "gantry",
    stage,
    false,
  );
  const g = globalThis as Record<string, unknown>;
  g.aws = awsSdk;
  g.$app = { name: "gantry", stage, removal: "retain", protect: stage === "prod", providers: {} };
  g.$dev = false;
  g.$cli = { command: "deploy", paths: { root: ROOT, platform: PLATFORM }, home: "aws" };
  g.$util = pulumi;
  g.$output = pulumi.output;
  g.$resolve = pulumi.all;
  g.$interpolate = pulumi.interpolate;
  g.$concat = pulumi.concat;
  g.$jsonStringify = pulumi.jsonStringify;
  g.$jsonParse = pulumi.jsonParse;
  const component = (file: string) =>
    import(pathToFileURL(path.join(PLATFORM, "src/components", file)).href);
  const [{ CronV2 }, { Secret }] = await Promise.all([
    component("aws/cron-v2.ts"),
    component("secret.ts"),
  ]);
  // Only CronV2: the deprecated Cron is absent, so a module that still uses it fails here.
  g.sst = { aws: { CronV2 }, Secret };
  return registered;
}

/** The value of an output, once known. */
export function outputValue<T>(output: { apply(f: (v: T) => unknown): unknown }): Promise<T> {
  return new Promise((resolve) => {
    output.apply((v: T) => {
      resolve(v);
      return v;
    });
  });
}

/** Lets pending registrations reach the mocks. */
export async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

export function ofType(registered: readonly Registered[], type: string): Registered[] {
  return registered.filter((r) => r.type === type);
}

export function one(registered: readonly Registered[], type: string, name: string): Registered {
  const found = registered.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = ofType(registered, type).map((r) => r.name);
    throw new Error(`no ${type} named ${name} (have: ${names.join(", ") || "none"})`);
  }
  return found;
}
