/**
 * The function catalogue against its sources of truth: the ASL's Task timeouts, the files in
 * functions/ and the settings each of them reads.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { KEY_SECRETS } from "@gantry/aws";
import { WORKFLOW_FUNCTIONS } from "@gantry/core";
import { functionSpecs, MAX_LAMBDA_TIMEOUT_SECONDS, taskTimeouts } from "@gantry/stacks/catalog";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ASL = readFileSync(path.join(ROOT, "state-machines/workflow.asl.json"), "utf8");

/** The settings a function's source reads, found in its text. */
function settingsReadBy(file: string): string[] {
  const source = readFileSync(path.join(ROOT, "functions", `${file}.ts`), "utf8");
  const found = new Set<string>();
  for (const m of source.matchAll(/requiredEnv\("([A-Z_]+)"\)/g)) found.add(m[1] as string);
  for (const m of source.matchAll(/process\.env\.([A-Z_]+)/g)) found.add(m[1] as string);
  if (/\bstageFromEnv\b/.test(source.replace(/^import[\s\S]*?from[^\n]*\n/gm, "")))
    found.add("GANTRY_STAGE");
  // Key sets come from Secrets Manager; the environment names the secret (packages/aws/src/secrets.ts).
  for (const m of source.matchAll(/\bsecretsManagerKeys\(\s*"([a-z]+)"/g)) {
    const set = KEY_SECRETS[m[1] as keyof typeof KEY_SECRETS];
    if (!set) throw new Error(`${file}: unknown key set ${m[1]}`);
    found.add(set.setting);
  }
  return [...found].sort();
}

describe("the function catalogue", () => {
  it("covers every function in functions/ across the two stages, and nothing else", () => {
    const files = readdirSync(path.join(ROOT, "functions"))
      // Entry points are `<name>.ts`; tests and benchmarks (`x.test.ts`, `x.bench.ts`) are not,
      // nor is the tests' support module (testing.ts).
      .filter((f) => /^[a-z0-9-]+\.ts$/.test(f) && f !== "testing.ts")
      .map((f) => f.slice(0, -3))
      .sort();
    const specified = new Set(
      [...functionSpecs(ASL, "preprod"), ...functionSpecs(ASL, "prod")].map((s) => s.file),
    );
    expect([...specified].sort()).toEqual(files);
  });

  it("serves every Task of the workflow with its function", () => {
    for (const stage of ["preprod", "prod"] as const) {
      const specs = functionSpecs(ASL, stage);
      for (const [key, file] of Object.entries(WORKFLOW_FUNCTIONS))
        expect(specs.find((s) => s.workflowKey === key)?.file).toBe(file);
    }
  });

  it("gives each workflow function its Task's TimeoutSeconds", () => {
    const asl = JSON.parse(ASL) as {
      States: Record<string, { Type: string; Resource?: string; TimeoutSeconds?: number }>;
    };
    const expected: Record<string, number> = {};
    for (const state of Object.values(asl.States)) {
      const key = state.Resource?.match(/^\$\{(\w+)FunctionArn\}$/)?.[1];
      if (state.Type === "Task" && key && state.TimeoutSeconds)
        expected[key] = Math.max(expected[key] ?? 0, state.TimeoutSeconds);
    }
    expect(expected).toEqual({
      ValidateInput: 10,
      AcquireLock: 30,
      VerifyPreprod: 60,
      VerifyApproval: 30,
      CopyArtifact: 900,
      Deploy: 300,
      Canary: 120,
      // At a hold's end the version analysis may send synthetic requests to two versions.
      CheckAlarms: 120,
      Promote: 60,
      Rollback: 120,
      Finish: 60,
    });
    expect(taskTimeouts(ASL)).toEqual(expected);
    for (const spec of functionSpecs(ASL, "prod")) {
      // ApprovalGate and Hold wait on a task token (TimeoutSecondsPath): their Lambdas do not.
      if (spec.workflowKey && spec.workflowKey !== "ApprovalGate" && spec.workflowKey !== "Hold")
        expect({ fn: spec.file, timeout: spec.timeoutSeconds }).toEqual({
          fn: spec.file,
          timeout: expected[spec.workflowKey],
        });
      expect(spec.timeoutSeconds).toBeLessThanOrEqual(MAX_LAMBDA_TIMEOUT_SECONDS);
    }
  });

  it("passes each function exactly the settings its source reads", () => {
    for (const spec of functionSpecs(ASL, "prod"))
      expect({ fn: spec.file, settings: [...spec.settings].sort() }).toEqual({
        fn: spec.file,
        settings: settingsReadBy(spec.file),
      });
  });

  it("finds the settings in the sources it checks against", () => {
    // The cross-check above is only as good as this reading of the sources.
    expect(settingsReadBy("approval-gate")).toEqual([
      "GANTRY_APPROVAL_URL",
      "GANTRY_LINK_KEYS_SECRET",
      "GANTRY_SENDER",
      "GANTRY_STATE_BUCKET",
    ]);
    expect(settingsReadBy("approval-http")).toEqual([
      "GANTRY_DECISION_KEYS_SECRET",
      "GANTRY_LINK_KEYS_SECRET",
      "GANTRY_STATE_BUCKET",
    ]);
    expect(settingsReadBy("verify-approval")).toEqual([
      "GANTRY_DECISION_KEYS_SECRET",
      "GANTRY_STATE_BUCKET",
    ]);
    expect(settingsReadBy("approval-operator")).toEqual([
      "GANTRY_DECISION_KEYS_SECRET",
      "GANTRY_STAGE",
      "GANTRY_STATE_BUCKET",
    ]);
  });

  it("gives the decision keys to the approval path and VerifyApproval only, never to approval-gate", () => {
    for (const stage of ["preprod", "prod"] as const) {
      const specs = functionSpecs(ASL, stage);
      const holders = (setting: string) =>
        specs
          .filter((s) => (s.settings as readonly string[]).includes(setting))
          .map((s) => s.file)
          .sort();
      expect(holders("GANTRY_DECISION_KEYS_SECRET")).toEqual([
        "approval-http",
        "approval-operator",
        "verify-approval",
      ]);
      expect(holders("GANTRY_LINK_KEYS_SECRET")).toEqual(["approval-gate", "approval-http"]);
    }
  });

  it("deploys VerifyApproval and the operator API in both stages", () => {
    for (const stage of ["preprod", "prod"] as const) {
      const specs = functionSpecs(ASL, stage);
      expect(specs.find((s) => s.file === "verify-approval")).toMatchObject({
        component: "VerifyApproval",
        workflowKey: "VerifyApproval",
        timeoutSeconds: 30,
      });
      const operator = specs.find((s) => s.file === "approval-operator");
      expect(operator).toMatchObject({ component: "ApprovalOperator", timeoutSeconds: 30 });
      expect(operator?.workflowKey).toBeUndefined();
    }
  });

  it("describes Deploy and Canary as they work: Canary, not Deploy, gives the first traffic step", () => {
    for (const stage of ["preprod", "prod"] as const) {
      const specs = functionSpecs(ASL, stage);
      const deploy = specs.find((s) => s.workflowKey === "Deploy")?.description ?? "";
      const canary = specs.find((s) => s.workflowKey === "Canary")?.description ?? "";
      expect(deploy).toMatch(/no traffic/);
      expect(deploy).not.toMatch(/first traffic step/);
      expect(canary).toMatch(/first traffic step/);
    }
  });

  it("gives the hold functions a short Lambda timeout and the hold settings they read", () => {
    for (const stage of ["preprod", "prod"] as const) {
      const specs = functionSpecs(ASL, stage);
      expect(specs.find((s) => s.file === "hold")).toMatchObject({
        component: "Hold",
        workflowKey: "Hold",
        timeoutSeconds: 60,
      });
      const events = specs.find((s) => s.file === "hold-events");
      expect(events).toMatchObject({ component: "HoldEvents", timeoutSeconds: 60 });
      expect(events?.workflowKey).toBeUndefined();
      // Only hold creates schedules: only it knows their target and Scheduler's role.
      const holders = (setting: string) =>
        specs.filter((s) => (s.settings as readonly string[]).includes(setting)).map((s) => s.file);
      expect(holders("GANTRY_HOLD_SCHEDULER_ROLE_ARN")).toEqual(["hold"]);
      expect(holders("GANTRY_HOLD_EVENTS_ARN")).toEqual(["hold"]);
      expect(holders("GANTRY_HOLD_SCHEDULE_GROUP").sort()).toEqual(["hold", "hold-events"]);
    }
  });

  it("runs the scheduled canary in prod only", () => {
    expect(functionSpecs(ASL, "prod").some((s) => s.file === "scheduled-canary")).toBe(true);
    expect(functionSpecs(ASL, "preprod").some((s) => s.file === "scheduled-canary")).toBe(false);
  });

  it("refuses an ASL whose Task has no timeout", () => {
    const asl = JSON.parse(ASL);
    delete asl.States.Deploy.TimeoutSeconds;
    expect(() => functionSpecs(JSON.stringify(asl), "prod")).toThrow(/no TimeoutSeconds.*Deploy/);
  });
});
