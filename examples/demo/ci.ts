/**
 * CI's part of the demo, done the way a CI job does it: with the `gantry` command. Each call is
 * `gantry <args...> --json`, run in this process through @gantry/cli's `run` (the same argument
 * parsing, commands, output and exit codes as the command line), against the demo's control
 * plane. What happened is read from the commands' JSON output (the deployment summaries, the
 * deployment records), never from the history files.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DeploymentSummary, type Io, run, sleep } from "@gantry/cli";
import { executionName } from "@gantry/core";
import type { BuiltVariant } from "../hello-service/build.ts";
import type { Plane } from "./plane.ts";

const SERVICE = "hello-service";
/** Who the demo's deployments are by (the trigger's actor). */
export const ACTOR = "demo";

/** What one `gantry` call printed, and its exit code. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A build published to the preprod bucket (`gantry artifact publish --json`). */
export interface Published extends BuiltVariant {
  readonly key: string;
  readonly bucket: string;
}

/** The part of `gantry provenance --json` the demo tells (packages/cli/src/commands/provenance.ts). */
export interface Provenance {
  readonly commit: string;
  readonly repository: { readonly name?: string; readonly verified: boolean } | null;
  readonly artifact: { readonly hops: readonly unknown[]; readonly verdict: string };
  readonly trigger: {
    readonly actor: string;
    readonly verified: { readonly issuer: string } | null;
  };
  readonly approval: { readonly by: string; readonly channel?: string } | null;
  readonly execution: { readonly arn: string };
  /** When the rollback read the alias back on the previous version alone. */
  readonly rollback: { readonly verifiedAt?: string } | null;
  /** The last version-analysis verdict of the deployment (stages with `analysis`). */
  readonly analysis?: { readonly decision: string; readonly summary: string } | null;
}

/** What `deploy --wait --json` said, and the execution name it used. */
export interface Deployment {
  readonly name: string;
  readonly summary: DeploymentSummary;
}

export class Ci {
  readonly #env: Record<string, string | undefined>;
  readonly #workDir = mkdtempSync(join(tmpdir(), "gantry-demo-ci-"));

  constructor(plane: Plane, env: NodeJS.ProcessEnv = process.env) {
    // The demo's control plane, named explicitly: whatever else the shell points `gantry` at
    // (an AWS state machine, say) does not count here.
    this.#env = {
      ...env,
      GANTRY_ENDPOINT: plane.api,
      GANTRY_WEB_ENDPOINT: plane.web,
      GANTRY_HOME: plane.home,
    };
  }

  /** Runs `gantry <args...>` and returns what it printed and its exit code. */
  async gantry(args: readonly string[], signal?: AbortSignal): Promise<CommandResult> {
    let stdout = "";
    let stderr = "";
    const io: Io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: this.#env,
      cwd: process.cwd(),
      now: () => Date.now(),
      sleep,
      interrupted: signal,
    };
    const exitCode = await run(args, io);
    return { exitCode, stdout, stderr };
  }

  /** `gantry <args...> --json`, parsed; a failure (or an exit code not allowed) throws. */
  async json<T>(args: readonly string[], allowed: readonly number[] = [0], signal?: AbortSignal) {
    const result = await this.gantry([...args, "--json"], signal);
    if (!allowed.includes(result.exitCode)) {
      throw new Error(
        `gantry ${args.join(" ")} exited ${result.exitCode}:\n${result.stderr}${result.stdout}`,
      );
    }
    return JSON.parse(result.stdout) as T;
  }

  /** `gantry provenance`: what the records say about the prod deployment of a version. */
  provenance(version: string): Promise<Provenance> {
    return this.json<Provenance>([
      "provenance",
      "--stage",
      "prod",
      "--service",
      SERVICE,
      "--version",
      version,
    ]);
  }

  /** After a build: `gantry artifact publish` (the same bytes again is fine). */
  async publish(built: BuiltVariant): Promise<Published> {
    const file = join(this.#workDir, `${built.variant}.zip`);
    writeFileSync(file, built.zip);
    const out = await this.json<{ bucket: string; key: string; sha256: string }>([
      "artifact",
      "publish",
      "--service",
      SERVICE,
      "--version",
      built.version,
      "--file",
      file,
    ]);
    if (out.sha256 !== built.sha256)
      throw new Error(`published ${out.sha256}, built ${built.sha256}`);
    return { ...built, key: out.key, bucket: out.bucket };
  }

  /**
   * `gantry deploy --wait`: starts the deployment and follows it to its end. A version deployed
   * before (an earlier demo on the same control plane) is deployed again as the next attempt,
   * as a person would after `gantry list`. `whileRunning` gets the execution's name as soon as
   * the deployment starts (the approver's part runs then); if it fails, following stops.
   * `fixFor` marks it as a fix for alarms already in ALARM (`--fix-for`, once per alarm).
   */
  async deploy(
    stage: "preprod" | "prod",
    artifact: Published,
    whileRunning?: (executionName: string) => Promise<void>,
    fixFor: readonly string[] = [],
  ): Promise<Deployment> {
    const attempt = await this.#nextAttempt(stage, artifact);
    const name = executionName({ service: SERVICE, version: artifact.version, artifact }, attempt);
    const following = new AbortController();
    const deployed = this.json<DeploymentSummary>(
      [
        "deploy",
        "--stage",
        stage,
        "--service",
        SERVICE,
        "--version",
        artifact.version,
        "--artifact-key",
        artifact.key,
        "--sha256",
        artifact.sha256,
        "--actor",
        ACTOR,
        "--attempt",
        String(attempt),
        ...fixFor.flatMap((alarm) => ["--fix-for", alarm]),
        "--wait",
      ],
      // deployed, rolled back, rejected, failed: each is a way the story can go.
      [0, 3, 4, 5],
      following.signal,
    );
    if (whileRunning) {
      const first = await Promise.race([
        whileRunning(name).then(
          () => undefined,
          (error: unknown) => ({ error }),
        ),
        deployed.then(
          () => undefined,
          () => undefined,
        ),
      ]);
      if (first) {
        following.abort();
        await deployed.catch(() => undefined);
        throw first.error;
      }
    }
    return { name, summary: await deployed };
  }

  /** Once preprod tests pass: `gantry artifact validate` (once per version; again is fine). */
  async validate(artifact: Published): Promise<void> {
    await this.json([
      "artifact",
      "validate",
      "--service",
      SERVICE,
      "--version",
      artifact.version,
      "--sha256",
      artifact.sha256,
      "--actor",
      ACTOR,
    ]);
  }

  /** The first attempt whose execution name `gantry list` does not show yet. */
  async #nextAttempt(stage: "preprod" | "prod", artifact: Published): Promise<number> {
    const { executions } = await this.json<{ executions: { name: string }[] }>([
      "list",
      "--stage",
      stage,
      "--service",
      SERVICE,
      "--limit",
      "1000",
    ]);
    const taken = new Set(executions.map((e) => e.name));
    for (let attempt = 1; attempt <= 999; attempt++) {
      const name = executionName(
        { service: SERVICE, version: artifact.version, artifact },
        attempt,
      );
      if (!taken.has(name)) return attempt;
    }
    throw new Error(`${SERVICE} ${artifact.version} has been deployed to ${stage} 999 times`);
  }

  /** Removes the zips written for publishing. */
  close(): void {
    rmSync(this.#workDir, { recursive: true, force: true });
  }
}
