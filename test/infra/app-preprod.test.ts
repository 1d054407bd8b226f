/**
 * sst.config.ts for preprod with a separate prod account: no hourly canary, no sender needed
 * (nothing in preprod asks for approval), and the read role and bucket grants prod relies on.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type FunctionCall, fakeFunctionClass } from "./support/fake-function.ts";
import {
  ENV,
  installMocks,
  ofType,
  one,
  outputValue,
  type Registered,
  settled,
} from "./support/pulumi-mocks.ts";

let registered: Registered[];
const calls: FunctionCall[] = [];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  registered = await installMocks("preprod");
  const g = globalThis as Record<string, unknown> & { sst: { aws: Record<string, unknown> } };
  g.sst.aws.Function = fakeFunctionClass(calls, ENV);
  g.$config = (c: unknown) => c;
  for (const name of ["GANTRY_SENDER", "GANTRY_SENDER_IDENTITY", "GANTRY_PREPROD_ROLE_ARN"])
    delete process.env[name];
  Object.assign(process.env, {
    GANTRY_PROD_ACCOUNT_ID: "222222222222",
    SST_SECRET_ApprovalSigningKey: "p".repeat(44),
    SST_SECRET_ApprovalDecisionKey: "q".repeat(44),
  });
  const config = (await import("../../sst.config.ts")).default;
  outputs = (await config.run()) ?? {};
  for (const [key, value] of Object.entries(outputs))
    outputs[key] = value && typeof value === "object" ? await outputValue(value as never) : value;
  await settled();
});

describe("preprod with a separate prod account", () => {
  it("outputs the read role for prod's GANTRY_PREPROD_ROLE_ARN", () => {
    expect(outputs).toMatchObject({
      stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-preprod",
      artifactBucket: "acme-gantry-artifacts-preprod",
      preprodReadRoleArn: "arn:aws:iam::123456789012:role/gantry-preprod-verify-read",
    });
  });

  it("has no hourly canary and sends no mail", () => {
    expect(calls.map((c) => c.args.name)).not.toContain("gantry-preprod-scheduled-canary");
    expect(ofType(registered, "aws:scheduler/schedule:Schedule")).toEqual([]);
    expect(
      ofType(registered, "aws:cloudwatch/eventRule:EventRule").map((r) => r.name),
    ).not.toContain("HourlyCanaryRule");
    expect(ofType(registered, "aws:sesv2/emailIdentity:EmailIdentity")).toEqual([]);
    const env = calls.find((c) => c.args.name === "gantry-preprod-approval-gate")?.args.environment;
    expect(env).not.toHaveProperty("GANTRY_SENDER");
  });

  it("has its own key secrets and an operator API, named for preprod", () => {
    expect(
      ofType(registered, "aws:secretsmanager/secret:Secret").map((r) => r.inputs.name),
    ).toEqual(["gantry-preprod-link-keys", "gantry-preprod-decision-keys"]);
    expect(outputs.operatorUrl).toBe(
      "https://gantry-preprod-approval-operator.lambda-url.us-east-1.on.aws/",
    );
    const operator = calls.find((c) => c.args.name === "gantry-preprod-approval-operator");
    expect(operator?.args.url).toEqual({ authorization: "iam" });
  });

  it("lets only preprod's approval path write decision records", () => {
    const policy = JSON.parse(
      one(registered, "aws:s3/bucketPolicy:BucketPolicy", "StateBucketPolicy").inputs
        .policy as string,
    );
    expect(
      policy.Statement.find((s: { Sid: string }) => s.Sid === "OnlyTheApprovalPathWritesDecisions")
        ?.Condition,
    ).toEqual({
      ArnNotEquals: {
        "aws:PrincipalArn": [
          "arn:aws:iam::123456789012:role/gantry-preprod-approval-http",
          "arn:aws:iam::123456789012:role/gantry-preprod-approval-operator",
        ],
      },
    });
  });

  it("lets prod's CopyArtifact read the preprod artifacts", () => {
    const policy = JSON.parse(
      one(registered, "aws:s3/bucketPolicy:BucketPolicy", "ArtifactBucketPolicy").inputs
        .policy as string,
    );
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      "DenyInsecureTransport",
      "ProdCopyArtifactReads",
      "ProdCopyArtifactLists",
    ]);
  });
});
