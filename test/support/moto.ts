/**
 * A private moto_server for one integration test file: started on a free port of 127.0.0.1,
 * in memory only, and stopped (with its whole process group) when the file is done.
 *
 * moto_server is required: when it is missing the suite fails with an explicit error, it is
 * never skipped.
 *
 * @example
 * ```ts
 * let moto: Moto;
 * beforeAll(async () => { moto = await startMoto(); });
 * afterAll(() => moto?.stop());
 * const s3 = new S3Client(s3Config(moto.endpoint));
 * const lambda = new LambdaClient(awsConfig(moto.endpoint));
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

export interface Moto {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Kills the server; resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 30_000;

/** Client settings for moto: a fixed region and fake static credentials. */
export function awsConfig(endpoint: string) {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  };
}

/** Client settings for S3 on moto: path-style addressing (no bucket subdomains on 127.0.0.1). */
export function s3Config(endpoint: string) {
  return { ...awsConfig(endpoint), forcePathStyle: true };
}

/** The account moto puts in every ARN. */
export const MOTO_ACCOUNT = "123456789012";

export async function startMoto(): Promise<Moto> {
  const executable = findOnPath("moto_server");
  if (!executable) {
    throw new Error(
      'moto_server not found: install moto[server] (pip install "moto[server]==5.2.1") and put ' +
        "moto_server on PATH; the integration tests need it and are never skipped",
    );
  }
  const port = await freePort();
  const endpoint = `http://${HOST}:${port}`;
  const child = spawn(executable, ["-H", HOST, "-p", String(port)], {
    // Its own process group, so stop() also ends whatever the pyenv shim started.
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Should the test process end without afterAll (a crash), the server does not outlive it.
  const onExit = () => killGroup(child, "SIGKILL");
  process.once("exit", onExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", onExit);
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitUntilAnswering(endpoint, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`moto_server could not start: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`, {
        signal: AbortSignal.timeout(1_000),
      });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer at ${endpoint} within ${START_TIMEOUT_MS} ms`);
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}
