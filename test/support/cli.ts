/**
 * Runs the BUILT `gantry` command (packages/cli/dist/gantry.mjs, as `npm install` leaves it) as
 * a child process, the way CI runs it: its own environment, stdout and stderr apart, an exit code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  artifactKey,
  type BuiltVariant,
  buildVariant,
  type Variant,
} from "../../examples/hello-service/build.ts";
import { type LocalProcess, ROOT } from "./local-process.ts";

export const CLI_BUNDLE = join(ROOT, "packages/cli/dist/gantry.mjs");
export const CLI_LAUNCHER = join(ROOT, "packages/cli/bin/gantry.mjs");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** The control plane: its GANTRY_HOME is passed, so the command finds it by endpoints.json. */
  readonly local?: LocalProcess;
  /** Extra environment (on top of a clean one: PATH, HOME, and GANTRY_HOME for `local`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Run this instead of the bundle (e.g. the bin launcher). */
  readonly entry?: string;
}

/** A running `gantry` process. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits. */
  readonly done: Promise<CliResult>;
  /** Waits until stdout (or stderr) matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** The clean environment a CI job would give the command. */
export function cliEnv(options: CliOptions = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    // No AWS: keep the SDK from probing the instance metadata service.
    AWS_EC2_METADATA_DISABLED: "true",
    ...(options.local ? { GANTRY_HOME: options.local.home } : {}),
    ...options.env,
  };
}

/** Starts `gantry <args>` and returns at once. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [options.entry ?? CLI_BUNDLE, ...args], {
    cwd: ROOT,
    env: cliEnv(options),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const timeoutMs = options.timeoutMs ?? 90_000;
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `gantry ${args.join(" ")} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    async waitForOutput(pattern, waitMs = 30_000) {
      const deadline = Date.now() + waitMs;
      while (!pattern.test(stdout) && !pattern.test(stderr)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `no ${pattern} in the output of gantry ${args.join(" ")}:\n${stdout}\n${stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** Runs `gantry <args>` to the end. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/** Writes a variant's zip to a fresh directory, as a build step would. */
export function writeBuild(variant: Variant): BuiltVariant & { file: string; key: string } {
  const built = buildVariant(variant);
  const dir = mkdtempSync(join(tmpdir(), "gantry-cli-build-"));
  const file = join(dir, "build.zip");
  writeFileSync(file, built.zip);
  return { ...built, file, key: artifactKey(built) };
}

/** `key=...` / `sha256=...` lines, as `gantry artifact publish` prints them. */
export function outputs(stdout: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const match = /^([a-z0-9]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) values[match[1]] = match[2] ?? "";
  }
  return values;
}

/** The deploy flags for a published build. */
export function deployArgs(
  stage: "preprod" | "prod",
  built: { version: string; sha256: string; key: string },
  ...extra: string[]
): string[] {
  return [
    "deploy",
    "--stage",
    stage,
    "--service",
    "hello-service",
    "--version",
    built.version,
    "--artifact-key",
    built.key,
    "--sha256",
    built.sha256,
    ...extra,
  ];
}

/** What CI does before prod, with the command: publish, deploy preprod --wait, validate. */
export async function throughPreprodWithCli(
  local: LocalProcess,
  variant: Variant,
): Promise<BuiltVariant & { file: string; key: string }> {
  const build = writeBuild(variant);
  const published = await runCli(
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
  if (published.code !== 0) throw new Error(`publish failed:\n${published.stderr}`);
  const deployed = await runCli(deployArgs("preprod", build, "--wait", "--actor", "ci-bot"), {
    local,
  });
  if (deployed.code !== 0) {
    throw new Error(
      `preprod deploy of ${variant} failed (${deployed.code}):\n${deployed.stdout}\n${deployed.stderr}`,
    );
  }
  const validated = await runCli(
    [
      "artifact",
      "validate",
      "--service",
      "hello-service",
      "--version",
      build.version,
      "--sha256",
      build.sha256,
      "--actor",
      "ci-bot",
    ],
    { local },
  );
  if (validated.code !== 0) throw new Error(`validate failed:\n${validated.stderr}`);
  return build;
}
