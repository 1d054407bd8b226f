import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError, UsageError } from "./errors.ts";
import {
  executionArnFor,
  localStateMachineArn,
  parseExecutionArn,
  resolveTarget,
} from "./target.ts";

function home(endpoints?: object): string {
  const dir = mkdtempSync(join(tmpdir(), "gantry-target-"));
  if (endpoints) writeFileSync(join(dir, "endpoints.json"), JSON.stringify(endpoints));
  return dir;
}

const base = { command: "list", cwd: process.cwd() };

describe("resolveTarget", () => {
  it("uses --endpoint (or GANTRY_ENDPOINT) for a local control plane", () => {
    const target = resolveTarget({
      ...base,
      options: { endpoint: "http://127.0.0.1:9/" },
      env: { GANTRY_HOME: home() },
    });
    expect(target).toMatchObject({
      kind: "local",
      endpoint: "http://127.0.0.1:9",
      chosenBy: "--endpoint",
    });
    expect(target.stateMachineArn("prod")).toBe(localStateMachineArn("prod"));
    const fromEnv = resolveTarget({
      ...base,
      options: {},
      env: { GANTRY_ENDPOINT: "http://127.0.0.1:7", GANTRY_HOME: home() },
    });
    expect(fromEnv.endpoint).toBe("http://127.0.0.1:7");
  });

  it("uses the running control plane from endpoints.json, with its web endpoint", () => {
    const dir = home({
      sfn: "http://127.0.0.1:8083",
      web: "http://127.0.0.1:8084",
      pid: process.pid,
    });
    const target = resolveTarget({ ...base, options: {}, env: { GANTRY_HOME: dir } });
    expect(target).toMatchObject({
      kind: "local",
      endpoint: "http://127.0.0.1:8083",
      webEndpoint: "http://127.0.0.1:8084",
    });
  });

  it("says how to start one when the recorded one is gone", () => {
    const dir = home({ sfn: "http://127.0.0.1:8083", pid: 2 ** 22 + 12345 });
    try {
      resolveTarget({ ...base, options: {}, env: { GANTRY_HOME: dir } });
      throw new Error("expected an error");
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).message).toContain("is not running");
      expect((error as CliError).hints[0]).toContain("npm start");
    }
  });

  it("targets AWS with a state machine ARN per stage, region from the ARN", async () => {
    const env = {
      GANTRY_HOME: home(),
      GANTRY_PROD_STATE_MACHINE_ARN:
        "arn:aws:states:eu-west-1:123456789012:stateMachine:gantry-prod",
    };
    const target = resolveTarget({ ...base, options: {}, env });
    expect(target.kind).toBe("aws");
    expect(target.knownStages()).toEqual(["prod"]);
    expect(target.stateMachineArn("prod")).toBe(env.GANTRY_PROD_STATE_MACHINE_ARN);
    expect(() => target.stateMachineArn("preprod")).toThrow(UsageError);
    expect(await target.sfn.config.region()).toBe("eu-west-1");
    const byArn = resolveTarget({
      ...base,
      options: {},
      env: { GANTRY_HOME: home() },
      executionRef: "arn:aws:states:us-west-2:123456789012:execution:gantry-prod:x",
    });
    expect(byArn.kind).toBe("aws");
    expect(await byArn.sfn.config.region()).toBe("us-west-2");
  });
});

describe("one state machine for every stage", () => {
  it("counts it once, as the stage its name says", () => {
    const target = resolveTarget({
      ...base,
      options: {
        "state-machine-arn": "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-prod",
      },
      env: { GANTRY_HOME: home() },
    });
    expect(target.knownStages()).toEqual(["prod"]);
    const generic = resolveTarget({
      ...base,
      options: {},
      env: {
        GANTRY_HOME: home(),
        GANTRY_STATE_MACHINE_ARN: "arn:aws:states:us-east-1:1:stateMachine:deployments",
      },
    });
    expect(generic.knownStages()).toEqual(["preprod"]);
  });
});

describe("ARNs", () => {
  it("derives and parses execution ARNs", () => {
    const arn = executionArnFor(localStateMachineArn("preprod"), "hello-1");
    expect(arn).toBe("arn:aws:states:us-east-1:000000000000:execution:gantry-preprod:hello-1");
    expect(parseExecutionArn(arn)).toEqual({
      region: "us-east-1",
      account: "000000000000",
      stateMachine: "gantry-preprod",
      name: "hello-1",
    });
    expect(parseExecutionArn("hello-1")).toBeUndefined();
  });
});
