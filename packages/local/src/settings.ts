import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Registry, Stage } from "@gantry/core";
import { buildVariant } from "../../../examples/hello-service/build.ts";
import type { LocalControlPlaneOptions } from "./local-control-plane.ts";
import { localWebRoutes } from "./web/routes.ts";

/** The project root (where gantry.registry.ts and examples/ are). */
export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Thrown for a setting that cannot be used; `npm start` prints it and exits 2. */
export class SettingError extends Error {
  override readonly name = "SettingError";
}

type LogLevel = NonNullable<LocalControlPlaneOptions["functionLogLevel"]>;
const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"];

/**
 * The local control plane as `npm start` runs it, from the environment (see docs/local.md):
 * GANTRY_HOME, GANTRY_SFN_PORT, GANTRY_WEB_PORT, GANTRY_TIME_SCALE, GANTRY_TRAFFIC_RPS,
 * GANTRY_LOG_LEVEL, GANTRY_REGISTRY, GANTRY_SMTP_URL and GANTRY_CANARY_INTERVAL, with the example services' code and traffic.
 *
 * @example
 * ```ts
 * const options = await localSettings(process.env);
 * const local = await startLocalControlPlane(options);
 * ```
 */
export async function localSettings(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalControlPlaneOptions> {
  const port = (n: number) => Number.isInteger(n) && n >= 0 && n < 65536;
  const timeScale = numberFrom(env, "GANTRY_TIME_SCALE", 0.05, (n) => n > 0 && n <= 1);
  const level = (env.GANTRY_LOG_LEVEL ?? "WARN").toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(level))
    throw new SettingError(`GANTRY_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  const registryPath = resolve(env.GANTRY_REGISTRY ?? join(PROJECT_ROOT, "gantry.registry.ts"));
  const registry = (await import(registryPath)).default as Registry | undefined;
  if (!registry?.services)
    throw new SettingError(
      `${registryPath} does not export a registry (defineRegistry) as default`,
    );
  return {
    home: resolve(env.GANTRY_HOME ?? join(PROJECT_ROOT, ".gantry")),
    registry,
    sfnPort: numberFrom(env, "GANTRY_SFN_PORT", 8083, port),
    webPort: numberFrom(env, "GANTRY_WEB_PORT", 8084, port),
    timeScale,
    trafficPerSecond: numberFrom(env, "GANTRY_TRAFFIC_RPS", 20, (n) => n >= 0 && n <= 500),
    trafficEvents: exampleTraffic,
    // The hourly canary, in scaled time, unless GANTRY_CANARY_INTERVAL (real seconds) says otherwise.
    canaryIntervalMs:
      numberFrom(env, "GANTRY_CANARY_INTERVAL", 3600 * timeScale, (n) => n >= 0 && n <= 86_400) *
      1000,
    initialCode: (service) => (service === "hello-service" ? buildVariant("v1").zip : undefined),
    ...(env.GANTRY_SMTP_URL ? { smtpUrl: env.GANTRY_SMTP_URL } : {}),
    webRoutes: localWebRoutes(),
    functionLogLevel: level,
  };
}

/** Real users' requests for an example service's traffic (examples/<service>/traffic.json). */
export function exampleTraffic(service: string, stage: Stage): readonly unknown[] | undefined {
  const file = join(PROJECT_ROOT, "examples", service, "traffic.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown[] | undefined>)[stage];
}

function numberFrom(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  valid: (n: number) => boolean,
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !valid(value))
    throw new SettingError(`${name}=${raw} is not valid`);
  return value;
}
