/**
 * What a deploy prints: timestamped lines in a CI log (no TTY), a live redrawn display on a
 * terminal, and exactly one JSON document with --json.
 *
 * The terminal is real: the command runs under util-linux `script`, which gives it a
 * pseudo-terminal as stdout, so `process.stdout.isTTY` is true and the live display is chosen by
 * itself (no flag or variable forces it).
 */
import { execFileSync, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_BUNDLE, cliEnv, deployArgs, runCli, writeBuild } from "../support/cli.ts";
import { type LocalProcess, ROOT, startLocalProcess } from "../support/local-process.ts";

let local: LocalProcess;
/** One build per test, each different from what preprod runs before it, so traffic shifts. */
const builds = {
  plain: writeBuild("v2"),
  terminal: writeBuild("v4-prod-bug"),
  json: writeBuild("v1"),
};

beforeAll(async () => {
  local = await startLocalProcess();
  for (const build of Object.values(builds)) {
    const result = await runCli(
      [
        "artifact",
        "publish",
        "--service",
        "hello-service",
        "--version",
        build.version,
        "--file",
        build.file,
      ],
      { local },
    );
    if (result.code !== 0) throw new Error(result.stderr);
  }
});

afterAll(async () => {
  await local?.kill();
});

/**
 * Runs the command with a pseudo-terminal as its stdout (util-linux `script`); the terminal
 * shows stdout and stderr together unless stderr is discarded.
 */
function runInTerminal(
  args: readonly string[],
  options: { discardStderr?: boolean } = {},
): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, CLI_BUNDLE, ...args].map(
    (a) => `'${a.replace(/'/g, "'\\''")}'`,
  );
  const command = `${quoted.join(" ")}${options.discardStderr ? " 2>/dev/null" : ""}`;
  return new Promise((resolve) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: ROOT,
      env: { ...cliEnv({ local }), TERM: "xterm-256color", COLUMNS: "120", LINES: "40" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += String(chunk);
    });
    child.once("exit", (code) => setImmediate(() => resolve({ code, output })));
  });
}

describe("deploy output", () => {
  it("without a TTY: plain lines, each starting with an ISO 8601 timestamp, no escape codes", async () => {
    const result = await runCli(
      deployArgs("preprod", builds.plain, "--wait", "--actor", "ci-bot"),
      { local },
    );
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}\S/);
    }
    expect(result.stdout).not.toContain("\x1b");
    // Each state as it ends (and starts, when it takes a while), the traffic, the total time.
    for (const state of [
      "ValidateInput",
      "AcquireLock",
      "ApprovalGate",
      "Deploy",
      "Canary",
      "Promote",
      "Finish",
    ]) {
      expect(result.stdout).toMatch(new RegExp(` {2}${state} done \\(\\d`));
    }
    expect(result.stdout).toMatch(/traffic: 50% on version \d+, 50% on version \d+/);
    expect(result.stdout).toMatch(/in \d+(\.\d)? s/);
  });

  it("on a terminal: a live display redrawn in place with ANSI sequences", async () => {
    execFileSync("script", ["--version"]); // util-linux is part of every Debian system
    const { code, output } = await runInTerminal(
      deployArgs("preprod", builds.terminal, "--wait", "--actor", "ci-bot"),
    );
    expect(code, output).toBe(0);
    expect(output).toContain("\x1b[?25l"); // cursor hidden while drawing
    // Back up over the live lines (ESC [ n F) and clear them (ESC [ J), again and again.
    const redraws = output
      .split("\x1b[")
      .filter((part, i, all) => /^\d+F$/.test(part) && all[i + 1]?.startsWith("J"));
    expect(redraws.length).toBeGreaterThan(3);
    expect(output).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] hello-service [0-9a-f]{12} → preprod · \S+/); // the live line
    expect(output).toContain("✓"); // finished states scroll up with a check mark
    expect(output).toMatch(/\[█+░*\] 50% on version/); // the traffic bar
    expect(output).toContain("Deployed hello-service");
    expect(output).toContain("\x1b[?25h"); // cursor shown again
    // No timestamped log lines on a terminal.
    expect(output).not.toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}/m);
  });

  it("--json: stdout is exactly one JSON document, even on a terminal (progress goes to stderr)", async () => {
    const { code, output } = await runInTerminal(
      deployArgs("preprod", builds.json, "--wait", "--json", "--actor", "ci-bot"),
      { discardStderr: true },
    );
    expect(code, output).toBe(0);
    const text = output.replace(/\r\n/g, "\n").trim();
    expect(text.startsWith("{") && text.endsWith("}")).toBe(true);
    const summary = JSON.parse(text);
    expect(Object.keys(summary)).toEqual([
      "executionArn",
      "name",
      "stateMachineArn",
      "stage",
      "service",
      "version",
      "artifact",
      "actor",
      "trigger",
      "status",
      "result",
      "exitCode",
      "outcome",
      "error",
      "cause",
      "startedAt",
      "stoppedAt",
      "durationSeconds",
      "states",
      "traffic",
      "approval",
      "rollback",
      "fixFor",
      "analysis",
    ]);
    expect(summary).toMatchObject({ status: "SUCCEEDED", result: "deployed", exitCode: 0 });
    expect(summary.states[0]).toMatchObject({ name: "ValidateInput", type: "Task" });
    expect(typeof summary.states[0].durationSeconds).toBe("number");
  });
});
