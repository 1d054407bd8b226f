/**
 * Runs the local control plane as `npm start` does (packages/local/src/main.ts), as a child
 * process with its own data directory and free ports, so tests can drive it over HTTP with the
 * real SDK clients and kill it for real.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { executionName, hexToBase64, isApprovalRecordKey, validationKey } from "@gantry/core";
import {
  artifactKey,
  type BuiltVariant,
  buildVariant,
  type Variant,
} from "../../examples/hello-service/build.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MAIN = join(ROOT, "packages/local/src/main.ts");
export const PREPROD_BUCKET = "acme-gantry-artifacts-preprod";
export const PROD_BUCKET = "acme-gantry-artifacts-prod";
export const LOCAL_ACCOUNT_ARN = "arn:aws:states:us-east-1:000000000000";
export const STATE_MACHINE = {
  preprod: `${LOCAL_ACCOUNT_ARN}:stateMachine:gantry-preprod`,
  prod: `${LOCAL_ACCOUNT_ARN}:stateMachine:gantry-prod`,
} as const;

export const credentials = { accessKeyId: "local", secretAccessKey: "local" };

export interface LocalProcess {
  readonly home: string;
  readonly sfnEndpoint: string;
  readonly webEndpoint: string;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly child: ChildProcess;
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface LocalProcessOptions {
  readonly home?: string;
  readonly timeScale?: number;
  readonly trafficRps?: number;
  readonly env?: Record<string, string>;
}

export async function startLocalProcess(options: LocalProcessOptions = {}): Promise<LocalProcess> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "gantry-e2e-"));
  rmSync(join(home, "endpoints.json"), { force: true });
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      GANTRY_HOME: home,
      GANTRY_SFN_PORT: "0",
      GANTRY_WEB_PORT: "0",
      GANTRY_TIME_SCALE: String(options.timeScale ?? 0.01),
      GANTRY_TRAFFIC_RPS: String(options.trafficRps ?? 20),
      GANTRY_LOG_LEVEL: "ERROR",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );

  const endpoints = await waitFor(
    () => {
      const file = join(home, "endpoints.json");
      if (!existsSync(file)) return undefined;
      const parsed = JSON.parse(readFileSync(file, "utf8")) as {
        sfn: string;
        web: string;
        pid: number;
      };
      return parsed.pid === child.pid ? parsed : undefined;
    },
    15_000,
    () => `the control plane did not start:\n${output}`,
    exited,
  );
  const clientConfig = { endpoint: endpoints.sfn, region: "us-east-1", credentials };
  return {
    home,
    sfnEndpoint: endpoints.sfn,
    webEndpoint: endpoints.web,
    sfn: new SFNClient(clientConfig),
    s3: new S3Client({ ...clientConfig, forcePathStyle: true }),
    child,
    output: () => output,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls until `probe` returns a value, or fails with `describe()`. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  describe: () => string,
  abort?: Promise<unknown>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let aborted = false;
  void abort?.then(() => {
    aborted = true;
  });
  while (Date.now() < deadline && !aborted) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(describe());
}

/** What CI does after a build: upload the artifact with its SHA-256 to the preprod bucket. */
export async function publish(
  local: LocalProcess,
  variant: Variant,
): Promise<BuiltVariant & { key: string }> {
  const built = buildVariant(variant);
  const key = artifactKey(built);
  await local.s3.send(
    new PutObjectCommand({
      Bucket: PREPROD_BUCKET,
      Key: key,
      Body: built.zip,
      ChecksumSHA256: hexToBase64(built.sha256),
    }),
  );
  return { ...built, key };
}

/** What CI does once preprod tests pass: the validation record. */
export async function validate(
  local: LocalProcess,
  built: { version: string; sha256: string },
): Promise<void> {
  await local.s3
    .send(
      new PutObjectCommand({
        Bucket: PREPROD_BUCKET,
        Key: validationKey("hello-service", built.version),
        Body: JSON.stringify({
          service: "hello-service",
          version: built.version,
          sha256: built.sha256,
          validatedAt: new Date().toISOString(),
          validatedBy: "e2e-tests",
        }),
        IfNoneMatch: "*",
      }),
    )
    .catch((error: Error) => {
      if (error.name !== "PreconditionFailed") throw error; // validated before: the record stays as it was
    });
}

export function requestFor(
  built: { version: string; sha256: string; key: string },
  actor = "octocat",
) {
  return {
    service: "hello-service",
    version: built.version,
    artifact: { key: built.key, sha256: built.sha256 },
    trigger: { actor },
  };
}

/**
 * StartExecution with the deterministic name `gantry deploy` would use. Without an attempt, a
 * version this control plane deployed before gets the next free attempt (a new name).
 */
export async function startDeployment(
  local: LocalProcess,
  stage: "preprod" | "prod",
  request: ReturnType<typeof requestFor>,
  attempt?: number,
) {
  const start = (n: number) =>
    local.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE[stage],
        name: executionName(request, n),
        input: JSON.stringify(request),
      }),
    );
  if (attempt !== undefined) return start(attempt);
  for (let n = 1; ; n++) {
    const started = await start(n).catch((error: Error) => {
      if (error.name === "ExecutionAlreadyExists" && n < 50) return undefined;
      throw error;
    });
    if (started) return started;
  }
}

export async function waitForStatus(
  local: LocalProcess,
  executionArn: string,
  statuses: readonly string[] = ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"],
  timeoutMs = 60_000,
): Promise<DescribeExecutionCommandOutput> {
  return waitFor(
    async () => {
      const out = await local.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return statuses.includes(out.status ?? "") ? out : undefined;
    },
    timeoutMs,
    () => `${executionArn} did not reach ${statuses.join("/")}`,
  );
}

/**
 * The server-side task token of an execution's approval, read from the state bucket on disk as
 * the approval pages would: the approval record names the execution, the token record apart.
 */
export async function pendingApprovalToken(
  local: LocalProcess,
  executionArn: string,
): Promise<string> {
  const state = join(local.home, "buckets/gantry-state-prod/objects");
  const approvalId = await waitFor(
    () => {
      const dir = join(state, "approvals");
      if (!existsSync(dir)) return undefined;
      for (const file of readdirSync(dir)) {
        if (!isApprovalRecordKey(`approvals/${file}`)) continue;
        const record = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
          id: string;
          execution: { id: string };
        };
        if (record.execution.id === executionArn) return record.id;
      }
      return undefined;
    },
    20_000,
    () => `no approval was requested for ${executionArn}`,
  );
  return (
    JSON.parse(readFileSync(join(state, "approval-tokens", `${approvalId}.json`), "utf8")) as {
      taskToken: string;
    }
  ).taskToken;
}

/** Deploys a variant to preprod, waits for success and validates it, ready for prod. */
export async function throughPreprod(local: LocalProcess, variant: Variant) {
  const built = await publish(local, variant);
  const request = requestFor(built);
  const started = await startDeployment(local, "preprod", request);
  const done = await waitForStatus(local, started.executionArn as string);
  if (done.status !== "SUCCEEDED")
    throw new Error(`preprod deployment of ${variant} ${done.status}: ${done.error} ${done.cause}`);
  await validate(local, built);
  return { built, request };
}
