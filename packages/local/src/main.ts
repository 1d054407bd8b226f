/**
 * `npm start`: the embedded local control plane with the demo services.
 *
 * Environment: GANTRY_HOME (data directory, default `.gantry` at the project root),
 * GANTRY_SFN_PORT (default 8083), GANTRY_WEB_PORT (default 8084), GANTRY_TIME_SCALE (default
 * 0.05: a policy minute lasts 3 seconds), GANTRY_TRAFFIC_RPS (default 20 per alias),
 * GANTRY_LOG_LEVEL (the functions' logs, default WARN), GANTRY_REGISTRY (a module whose default
 * export is the service registry, default `gantry.registry.ts`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Registry, Stage } from "@gantry/core";
import { buildVariant } from "../../../examples/hello-service/build.ts";
import { startLocalControlPlane } from "./local-control-plane.ts";
import { silenceNegativeTimeoutWarnings } from "./quiet-warnings.ts";
import { localWebRoutes } from "./web/routes.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function numberFromEnv(name: string, fallback: number, check: (n: number) => boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) {
    console.error(`gantry: ${name}=${raw} is not valid`);
    process.exit(2);
  }
  return value;
}

const home = resolve(process.env.GANTRY_HOME ?? join(ROOT, ".gantry"));
const sfnPort = numberFromEnv(
  "GANTRY_SFN_PORT",
  8083,
  (n) => Number.isInteger(n) && n >= 0 && n < 65536,
);
const webPort = numberFromEnv(
  "GANTRY_WEB_PORT",
  8084,
  (n) => Number.isInteger(n) && n >= 0 && n < 65536,
);
const timeScale = numberFromEnv("GANTRY_TIME_SCALE", 0.05, (n) => n > 0 && n <= 1);
const trafficPerSecond = numberFromEnv("GANTRY_TRAFFIC_RPS", 20, (n) => n >= 0 && n <= 500);
/** The registry: the project's, or another module's default export (GANTRY_REGISTRY). */
const registryPath = resolve(process.env.GANTRY_REGISTRY ?? join(ROOT, "gantry.registry.ts"));
const registry = (await import(registryPath)).default as Registry;
const logLevel = (process.env.GANTRY_LOG_LEVEL ?? "WARN").toUpperCase() as
  | "DEBUG"
  | "INFO"
  | "WARN"
  | "ERROR"
  | "SILENT";

silenceNegativeTimeoutWarnings();
mkdirSync(home, { recursive: true });
const pidFile = join(home, "control-plane.pid");
claimDataDirectory(pidFile);

/** Real users' requests for the prod traffic generator, per example service. */
function trafficEvents(service: string, stage: Stage): readonly unknown[] | undefined {
  const file = join(ROOT, "examples", service, "traffic.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown[] | undefined>)[stage];
}

try {
  const local = await startLocalControlPlane({
    home,
    registry,
    sfnPort,
    webPort,
    timeScale,
    trafficPerSecond,
    trafficEvents,
    // The hourly canary, in scaled time.
    canaryIntervalMs: 3_600_000 * timeScale,
    initialCode: (service) => (service === "hello-service" ? buildVariant("v1").zip : undefined),
    webRoutes: localWebRoutes(),
    functionLogLevel: logLevel,
  });
  writeFileSync(
    join(home, "endpoints.json"),
    JSON.stringify({ sfn: local.sfnEndpoint, web: local.webEndpoint, pid: process.pid }),
  );

  console.log(
    [
      "Gantry local control plane is running.",
      `  Step Functions + S3 API  ${local.sfnEndpoint}   state machines gantry-preprod, gantry-prod`,
      `  Console and approvals    ${local.webEndpoint}   approval emails: ${local.webEndpoint}/outbox`,
      `  Data                     ${home}   (1 policy minute = ${Math.round(60 * timeScale * 10) / 10} s)`,
      "Next: `npm run demo` in another terminal deploys hello-service end to end, or see README.md",
      "      for `npx gantry deploy` and the AWS CLI. Ctrl-C stops the control plane.",
    ].join("\n"),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(
      `\n${signal}: stopping running executions (their locks are released), then exiting.`,
    );
    await local.close();
    rmSync(pidFile, { force: true });
    rmSync(join(home, "endpoints.json"), { force: true });
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  rmSync(pidFile, { force: true });
  console.error(
    `gantry: could not start the local control plane: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}

/** One control plane per data directory: a second one would race the first on its files. */
function claimDataDirectory(file: string): void {
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, "utf8"));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      console.error(
        `gantry: another control plane (pid ${pid}) is using ${home}; stop it or set GANTRY_HOME`,
      );
      process.exit(1);
    }
  }
  writeFileSync(file, String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
