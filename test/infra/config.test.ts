/** Stage-aware settings: which stages exist and what each stage's settings must look like. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { checkStage, readConfig, stageHasApprovals } from "@gantry/stacks/config";
import {
  defaultStateBucketName,
  functionName,
  functionRoleName,
  stateMachineName,
  stateMachineRoleName,
} from "@gantry/stacks/names";
import { describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";

const ROLE = "arn:aws:iam::333333333333:role/gantry-preprod-verify-read";

describe("stages", () => {
  it("are preprod and prod; anything else is refused with the command to run", () => {
    expect(checkStage("preprod")).toBe("preprod");
    expect(checkStage("prod")).toBe("prod");
    for (const stage of ["dev", "production", "Prod", ""])
      expect(() => checkStage(stage)).toThrow(
        /Gantry deploys only to the stages preprod and prod.*npx sst deploy --stage prod/,
      );
  });

  it("name the state machines as the local control plane does", () => {
    expect(stateMachineName("prod")).toBe("gantry-prod");
    expect(functionName("preprod", "acquire-lock")).toBe("gantry-preprod-acquire-lock");
    expect(defaultStateBucketName("prod", "123456789012", "eu-west-1")).toBe(
      "gantry-state-prod-123456789012-eu-west-1",
    );
  });
});

describe("one stage per account", () => {
  it("follows from role names that carry the stage but not the region, and the docs say so", () => {
    // IAM role names are global to an account: the same stage in two regions of one account
    // would collide on them.
    expect(functionRoleName("prod", "deploy")).toBe("gantry-prod-deploy");
    expect(stateMachineRoleName("prod")).toBe("gantry-prod-state-machine");
    const deployDoc = readFileSync(path.join(import.meta.dirname, "../../docs/deploy.md"), "utf8");
    expect(deployDoc).toMatch(/One stage per account\b/);
    expect(deployDoc).not.toMatch(/per account and region/i);
  });
});

describe("readConfig", () => {
  it("reads a complete prod configuration", () => {
    expect(
      readConfig(
        "prod",
        {
          GANTRY_SENDER: "gantry@acme.dev",
          GANTRY_SENDER_IDENTITY: "acme.dev",
          GANTRY_PREPROD_ROLE_ARN: ROLE,
          GANTRY_LOG_LEVEL: "debug",
          GANTRY_NOTIFY_EMAILS: "ops@acme.dev, oncall@acme.dev",
        },
        registry,
      ),
    ).toEqual({
      stage: "prod",
      sender: "gantry@acme.dev",
      senderIdentity: "acme.dev",
      preprodRoleArn: ROLE,
      logLevel: "DEBUG",
      notifyEmails: ["ops@acme.dev", "oncall@acme.dev"],
    });
  });

  it("defaults: INFO logs, the sender address as its own identity, no subscribers", () => {
    expect(readConfig("prod", { GANTRY_SENDER: "gantry@acme.dev" }, registry)).toEqual({
      stage: "prod",
      sender: "gantry@acme.dev",
      senderIdentity: "gantry@acme.dev",
      logLevel: "INFO",
      notifyEmails: [],
    });
  });

  it("needs a sender only where the registry asks for approvals", () => {
    expect(stageHasApprovals(registry, "prod")).toBe(true);
    expect(stageHasApprovals(registry, "preprod")).toBe(false);
    expect(() => readConfig("prod", {}, registry)).toThrow(/GANTRY_SENDER is not set/);
    expect(readConfig("preprod", {}, registry)).toEqual({
      stage: "preprod",
      logLevel: "INFO",
      notifyEmails: [],
    });
  });

  it("refuses settings that are malformed or belong to the other stage", () => {
    const sender = { GANTRY_SENDER: "gantry@acme.dev" };
    const cases: [string, Record<string, string>, RegExp][] = [
      ["prod", { GANTRY_SENDER: "not-an-address" }, /GANTRY_SENDER must be an email/],
      ["prod", { ...sender, GANTRY_SENDER_IDENTITY: "other.dev" }, /sender address or its domain/],
      [
        "prod",
        { ...sender, GANTRY_PREPROD_ROLE_ARN: "arn:aws:iam::1:user/x" },
        /must be an IAM role ARN/,
      ],
      ["preprod", { GANTRY_PREPROD_ROLE_ARN: ROLE }, /is a prod setting/],
      ["prod", { ...sender, GANTRY_PROD_ACCOUNT_ID: "222222222222" }, /is a preprod setting/],
      ["preprod", { GANTRY_PROD_ACCOUNT_ID: "2222" }, /must be 12 digits/],
      ["prod", { ...sender, GANTRY_LOG_LEVEL: "TRACE" }, /GANTRY_LOG_LEVEL must be one of/],
      ["prod", { ...sender, GANTRY_STATE_BUCKET: "Bad_Bucket" }, /must be an S3 bucket name/],
      [
        "prod",
        { ...sender, GANTRY_NOTIFY_EMAILS: "ops@acme.dev,nobody" },
        /"nobody" is not an address/,
      ],
      ["staging", sender, /only to the stages preprod and prod/],
    ];
    for (const [stage, env, message] of cases)
      expect(() => readConfig(stage, env, registry)).toThrow(message);
  });
});
