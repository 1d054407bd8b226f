/**
 * The conformance suite's harness: the targets (the local control plane, and moto_server as a
 * reference), the real clients that drive them (the AWS CLI v2, boto3, the JS SDK v3), and the
 * table of checks each client file declares.
 *
 * Every check is one test that can fail. A check runs against both targets unless it is about
 * the local subset's own boundary (`only: "local"`). Where moto departs from what AWS documents,
 * the check says how (`moto: "..."`) and runs as `it.fails` on moto: the reference keeps being
 * checked, and the day moto behaves as AWS does, the suite says so. Results are collected by the
 * JSON reporter and turned into docs/local.md's table by test/conformance/update-docs.ts.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { describe, inject, it } from "vitest";

export type TargetName = "local" | "moto";
export type ClientName = "aws-cli" | "boto3" | "js-sdk";

export interface ConformanceTarget {
  readonly name: TargetName;
  readonly endpoint: string;
  /** Two buckets: the local control plane's artifact buckets, created the same on moto. */
  readonly bucket: string;
  readonly other: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    conformanceTargets: Record<TargetName, ConformanceTarget>;
  }
}

export const AWS_CLI = "/usr/bin/aws";
const BOTO3_CLIENT = fileURLToPath(new URL("./boto3_client.py", import.meta.url));

export interface Check {
  /** The S3 operation (or CLI command) the check is about: a row of the table. */
  readonly operation: string;
  /** What it verifies. */
  readonly name: string;
  /** Checks of the local subset's own boundary run against the local control plane only. */
  readonly only?: TargetName;
  /** How moto departs from AWS's documented behaviour here (the check is expected to fail there). */
  readonly moto?: string;
  readonly timeout?: number;
  run(target: ConformanceTarget, scratch: string): Promise<void>;
}

/** Declares one client's checks against every target. */
export function conformance(client: ClientName, checks: readonly Check[]): void {
  describe(client, () => {
    for (const targetName of ["local", "moto"] as const) {
      describe(targetName, () => {
        for (const check of checks) {
          // A check of the local subset's own boundary has no meaning on moto: not declared there.
          if (check.only && check.only !== targetName) continue;
          const title = `${check.operation} — ${check.name}`;
          const run = async () => {
            const target = inject("conformanceTargets")[targetName];
            await check.run(target, mkdtempSync(join(tmpdir(), `conformance-${client}-`)));
          };
          const options = { timeout: check.timeout ?? 60_000 };
          if (targetName === "moto" && check.moto)
            it.fails(`${title} [moto differs: ${check.moto}]`, options, run);
          else it(title, options, run);
        }
      });
    }
  });
}

/** A key no other check (or run) uses. */
export function uniqueKey(client: ClientName, name: string): string {
  return `conformance/${client}/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}/${name}`;
}

export interface ProcessRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv },
): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { ...options, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let cliHome: string | undefined;

/** The AWS CLI v2 (Debian's 2.9.x) against a target, with its default transfer settings. */
export function aws(
  target: ConformanceTarget,
  args: readonly string[],
  cwd?: string,
): Promise<ProcessRun> {
  if (!existsSync(AWS_CLI)) throw new Error(`${AWS_CLI} not found: apt-get install awscli`);
  cliHome ??= mkdtempSync(join(tmpdir(), "conformance-aws-home-"));
  return exec(AWS_CLI, [...args, "--endpoint-url", target.endpoint, "--output", "json"], {
    ...(cwd ? { cwd } : {}),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: cliHome,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
      AWS_MAX_ATTEMPTS: "1",
    },
  });
}

/** `aws ...` that must succeed; its stdout parsed as JSON when there is any. */
export async function awsOk(target: ConformanceTarget, args: readonly string[], cwd?: string) {
  const result = await aws(target, args, cwd);
  if (result.code !== 0)
    throw new Error(`aws ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  const text = result.stdout.trim();
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output, checked field by field
  return (text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : { text }) as any;
}

export interface Boto3Result {
  // biome-ignore lint/suspicious/noExplicitAny: boto3's response, checked field by field
  readonly ok?: any;
  readonly error?: { code: string; status: number; message: string };
}

/** boto3 (moto's Python) against a target: one action of boto3_client.py. */
export async function boto3(
  target: ConformanceTarget,
  action: string,
  args: Record<string, unknown>,
): Promise<Boto3Result> {
  const result = await exec(
    "python3",
    [BOTO3_CLIENT, JSON.stringify({ endpoint: target.endpoint, action, args })],
    { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" } },
  );
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Boto3Result;
  } catch {
    throw new Error(`boto3 ${action} failed (${result.code}): ${result.stderr || result.stdout}`);
  }
}

/** A boto3 call that must succeed. */
export async function boto3Ok(
  target: ConformanceTarget,
  method: string,
  params: Record<string, unknown>,
) {
  const result = await boto3(target, "call", { method, params });
  if (result.error) throw new Error(`boto3 ${method}: ${JSON.stringify(result.error)}`);
  return result.ok;
}

/** The JS SDK v3 S3 client against a target (path-style; its default checksums). */
export function jsClient(target: ConformanceTarget): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The S3 error code the CLI printed (`An error occurred (Code) when calling ...`). */
export function cliErrorCode(run: ProcessRun): string | undefined {
  return /An error occurred \(([^)]+)\)/.exec(run.stderr)?.[1];
}
