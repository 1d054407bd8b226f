/**
 * The GitHub Actions integration cannot run here, so it is checked as far as it can be: the
 * composite action, the reusable workflow and the workflow in docs/ci.md parse, reference only
 * inputs and outputs that exist, and assume roles through OIDC; the action's script runs under
 * bash with the real command (and with a stand-in for a finished deployment) and sets its outputs.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CLI_BUNDLE } from "../support/cli.ts";
import { ROOT } from "../support/local-process.ts";

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  shell?: string;
}

const ACTION = join(ROOT, ".github/actions/gantry-deploy/action.yml");
const WORKFLOW = join(ROOT, ".github/workflows/gantry-deploy.yml");

function load<T>(file: string): T {
  return parse(readFileSync(file, "utf8")) as T;
}

/** Every `${{ <prefix>.<name> }}` reference in a text. */
function references(text: string, prefix: string): string[] {
  const pattern = new RegExp(`${prefix.replace(".", "\\.")}\\.([A-Za-z0-9_-]+)`, "g");
  return [...text.matchAll(pattern)].map((m) => m[1] as string);
}

interface Action {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

describe("the composite action", () => {
  const action = load<Action>(ACTION);
  const step = action.runs.steps.find((s) => s.id === "deploy") as Step;

  it("is a composite action whose outputs come from its deploy step", () => {
    expect(action.runs.using).toBe("composite");
    expect(Object.keys(action.outputs)).toEqual(
      expect.arrayContaining(["status", "outcome", "execution-arn"]),
    );
    for (const [name, output] of Object.entries(action.outputs)) {
      expect(output.value).toBe(`\${{ steps.deploy.outputs.${name} }}`);
    }
    for (const required of ["stage", "service", "artifact-key", "sha256"]) {
      expect(action.inputs[required]?.required).toBe(true);
    }
    const text = readFileSync(ACTION, "utf8");
    for (const input of references(text, "inputs")) {
      expect(Object.keys(action.inputs), `inputs.${input}`).toContain(input);
    }
    expect(step.shell).toBe("bash");
    expect(step.run).toContain("gantry");
    expect(step.run).toMatch(/--wait --json/);
  });

  /** Runs the step's script as the runner would, with `npx` standing for the given command. */
  function runStep(npx: string, inputs: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), "gantry-action-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "npx"), `#!/usr/bin/env bash\n${npx}\n`);
    chmodSync(join(bin, "npx"), 0o755);
    const output = join(dir, "github-output");
    writeFileSync(output, "");
    const env: Record<string, string> = {
      PATH: `${bin}:${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME ?? "",
      RUNNER_TEMP: dir,
      GITHUB_OUTPUT: output,
      GITHUB_RUN_ID: "42",
      GITHUB_JOB: "prod",
      GANTRY_HOME: dir, // no local control plane here
    };
    for (const [name, template] of Object.entries(step.env ?? {})) {
      const input = /\$\{\{ inputs\.([A-Za-z0-9_-]+) \}\}/.exec(template)?.[1] ?? "";
      env[name] = inputs[input] ?? action.inputs[input]?.default ?? "";
    }
    const result = spawnSync(
      "bash",
      ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run ?? ""],
      {
        cwd: ROOT,
        env,
        encoding: "utf8",
      },
    );
    const outputs = Object.fromEntries(
      readFileSync(output, "utf8")
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    return { code: result.status, stderr: result.stderr, outputs };
  }

  it("runs the real command and fails the step with its exit code (invalid input: 2)", () => {
    const { code, stderr, outputs } = runStep(
      `[ "$1 $2" = "--no gantry" ] || exit 99\nshift 2\nexec "${process.execPath}" "${CLI_BUNDLE}" "$@"`,
      {
        stage: "prod",
        service: "billing",
        "artifact-key": "billing/x.zip",
        sha256: "0".repeat(64),
        version: "abcdef1",
      },
    );
    expect(code, stderr).toBe(2);
    expect(stderr).toContain("--service: is not a registered service");
    expect(outputs).toEqual({
      status: "",
      outcome: "invalid",
      "execution-arn": "",
      "exit-code": "2",
    });
  });

  it("exposes how a finished deployment ended (rolled back: 3)", () => {
    const doc = {
      executionArn: "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:x",
      status: "FAILED",
      result: "rolled-back",
    };
    const { code, outputs } = runStep(
      `[ "$1 $2 $3" = "--no gantry deploy" ] || exit 99\necho '${JSON.stringify(doc)}'\nexit 3`,
      { stage: "prod", service: "hello-service", "artifact-key": "k.zip", sha256: "0".repeat(64) },
    );
    expect(code).toBe(3);
    expect(outputs).toEqual({
      status: "FAILED",
      outcome: "rolled-back",
      "execution-arn": doc.executionArn,
      "exit-code": "3",
    });
  });
});

describe("the reusable workflow", () => {
  const workflow = load<{
    on: {
      workflow_call: {
        inputs: Record<string, unknown>;
        outputs: Record<string, { value: string }>;
      };
    };
    permissions: Record<string, string>;
    jobs: Record<string, { steps: Step[]; outputs: Record<string, string>; environment: string }>;
  }>(WORKFLOW);
  const action = load<Action>(ACTION);

  it("assumes the stage's role through OIDC and runs the action with inputs it has", () => {
    expect(workflow.permissions["id-token"]).toBe("write");
    const job = workflow.jobs.deploy;
    expect(job).toBeDefined();
    const steps = job?.steps ?? [];
    const credentials = steps.find((s) =>
      s.uses?.startsWith("aws-actions/configure-aws-credentials@"),
    );
    expect(credentials?.with?.["role-to-assume"]).toBe(`\${{ inputs.role-arn }}`);
    const deploy = steps.find((s) => s.uses === "./.github/actions/gantry-deploy");
    expect(deploy?.id).toBe("deploy");
    for (const key of Object.keys(deploy?.with ?? {})) {
      expect(Object.keys(action.inputs), key).toContain(key);
    }
    // npm ci before the action: it builds the command.
    expect(steps.findIndex((s) => s.run === "npm ci")).toBeLessThan(steps.indexOf(deploy as Step));
    const text = readFileSync(WORKFLOW, "utf8");
    for (const input of references(text, "inputs")) {
      expect(Object.keys(workflow.on.workflow_call.inputs), `inputs.${input}`).toContain(input);
    }
    for (const output of Object.values(workflow.on.workflow_call.outputs)) {
      const name = /jobs\.deploy\.outputs\.([a-z-]+)/.exec(output.value)?.[1] ?? "";
      expect(job?.outputs[name]).toBe(`\${{ steps.deploy.outputs.${name} }}`);
    }
  });
});

describe("docs/ci.md", () => {
  const text = readFileSync(join(ROOT, "docs/ci.md"), "utf8");
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

  it("every YAML example parses", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks) expect(() => parse(block)).not.toThrow();
  });

  it("the GitHub workflow builds once, then preprod, preprod tests, validate, prod, with separate OIDC roles", () => {
    const workflow = parse(blocks[0] as string) as {
      permissions: Record<string, string>;
      jobs: Record<string, { needs?: string | string[]; steps: Step[] }>;
    };
    expect(workflow.permissions["id-token"]).toBe("write");
    const order: string[] = [];
    const roles: Record<string, string> = {};
    for (const [name, job] of Object.entries(workflow.jobs)) {
      for (const step of job.steps) {
        const role = step.with?.["role-to-assume"];
        if (typeof role === "string") roles[name] = role;
        const command = `${step.run ?? ""} ${step.uses ?? ""} ${JSON.stringify(step.with ?? {})}`;
        if (command.includes("gantry artifact publish")) order.push("publish");
        if (command.includes("gantry deploy --stage preprod")) order.push("deploy preprod");
        if (command.includes("test:preprod")) order.push("preprod tests");
        if (command.includes("gantry artifact validate")) order.push("validate");
        if (step.uses === "./.github/actions/gantry-deploy" && step.with?.stage === "prod") {
          order.push("deploy prod");
        }
      }
    }
    expect(order).toEqual([
      "publish",
      "deploy preprod",
      "preprod tests",
      "validate",
      "deploy prod",
    ]);
    expect(roles.build).toBe(roles.preprod);
    expect(roles.prod).toBeDefined();
    expect(roles.prod).not.toBe(roles.preprod);
    expect(workflow.jobs.prod?.needs).toEqual(["build", "preprod"]);
  });

  it("documents every exit code the command uses", () => {
    for (const code of [0, 2, 3, 4, 5]) expect(text).toMatch(new RegExp(`^\\| ${code} +\\|`, "m"));
  });
});
