import { HistoryReader } from "@gantry/core";
import { regressedVerdict, testVerdict, verifiedTrigger } from "@gantry/core/testing";
import { describe, expect, it } from "vitest";
import type { DeploymentSummary } from "../summary.ts";
import { statusLines } from "./status.ts";

const base: DeploymentSummary = {
  executionArn: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:x",
  name: "x",
  stateMachineArn: null,
  stage: "prod",
  service: "hello-service",
  version: "3f2a9c1e0b12aabbccddeeff0011223344556677",
  artifact: { key: null, sha256: null },
  actor: "octocat",
  trigger: null,
  status: "RUNNING",
  result: "running",
  exitCode: 0,
  outcome: null,
  error: null,
  cause: null,
  startedAt: null,
  stoppedAt: null,
  durationSeconds: null,
  states: [],
  traffic: null,
  approval: null,
  rollback: null,
  fixFor: [],
  analysis: [],
};
const progress = new HistoryReader().progress;

describe("gantry status", () => {
  it("shows a verified trigger compactly", () => {
    const text = statusLines(
      {
        ...base,
        trigger: {
          actor: "octocat",
          ciRunUrl: null,
          verified: verifiedTrigger({ sha: base.version as string, runId: "42" }),
        },
      },
      progress,
      0,
    ).join("\n");
    expect(text).toMatch(
      /trigger +octocat — verified by token\.actions\.githubusercontent\.com: acme\/hello-service@refs\/heads\/main, commit 3f2a9c1e0b12, run 42/,
    );
  });

  it("marks an unverified trigger, and the input's actor before ValidateInput, as a claim", () => {
    const unverified = {
      ...base,
      trigger: { actor: "dependabot[bot]", ciRunUrl: null, verified: null },
    };
    expect(statusLines(unverified, progress, 0).join("\n")).toMatch(
      /trigger +dependabot\[bot\] \(unverified claim\)/,
    );
    expect(statusLines(base, progress, 0).join("\n")).toMatch(
      /trigger +octocat \(unverified claim\)/,
    );
  });

  it("prints one line per verdict of the version analysis, the failing one with its reason", () => {
    const failed = regressedVerdict({ weight: 25, stepIndex: 1 });
    const text = statusLines(
      {
        ...base,
        fixFor: ["hello-prod-errors"],
        analysis: [
          { ...testVerdict(), state: "CheckAlarms" },
          { ...failed, state: "CheckAlarms" },
        ],
      },
      progress,
      0,
    ).join("\n");
    expect(text).toMatch(
      /\n {2}analysis +at 10%: pass — version 2 0 of 130 failed \(0\.0%\) vs version 1 1 of 1,170 \(0\.1%\), Fisher p = 0\.91; p99 1\.05x\n {2} +at 25%: FAILED VersionRegressed — version 2 failed 31 of 120/,
    );
    expect(text).toMatch(/fix for +hello-prod-errors \(in ALARM when it started/);
  });

  it("prints no analysis line for a deployment without version analysis", () => {
    expect(statusLines(base, progress, 0).join("\n")).not.toMatch(/analysis|fix for/);
  });
});
