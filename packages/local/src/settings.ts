import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Registry } from "@gantry/core";
import { DEFAULT_RETENTION } from "./control-plane/retention.ts";
import { type LocalConfig, LocalConfigError, loadLocalConfig } from "./local-config.ts";
import type { LocalControlPlaneOptions } from "./local-control-plane.ts";
import { placeholderCode } from "./placeholder.ts";
import { localWebRoutes } from "./web/routes.ts";

/** The project root: where the app's gantry.registry.ts and gantry.local.ts are. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The local control plane's options, and the app's local configuration they came from. */
export interface LocalSettings extends LocalControlPlaneOptions {
  /** The local configuration module that was loaded, if any. */
  readonly localConfigFile?: string;
  readonly localConfig: LocalConfig;
}

/** Thrown for a setting that cannot be used; `npm start` prints it and exits 2. */
export class SettingError extends Error {
  override readonly name = "SettingError";
}

type LogLevel = NonNullable<LocalControlPlaneOptions["functionLogLevel"]>;
const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"];

/**
 * The local control plane as `npm start` runs it, from the environment (see docs/local.md):
 * GANTRY_HOME, GANTRY_SFN_PORT, GANTRY_WEB_PORT, GANTRY_TIME_SCALE, GANTRY_TRAFFIC_RPS,
 * GANTRY_LOG_LEVEL, GANTRY_REGISTRY, GANTRY_LOCAL_CONFIG, GANTRY_SMTP_URL,
 * GANTRY_CANARY_INTERVAL, GANTRY_RETENTION_DAYS and GANTRY_RETENTION_COUNT. Each service's
 * initial code and traffic come from the app's local
 * configuration (`gantry.local.ts` at the project root, or GANTRY_LOCAL_CONFIG); a service it
 * does not mention starts on the placeholder artifact.
 *
 * @example
 * ```ts
 * const options = await localSettings(process.env);
 * const local = await startLocalControlPlane(options);
 * ```
 */
export async function localSettings(env: NodeJS.ProcessEnv = process.env): Promise<LocalSettings> {
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
  const configPath = env.GANTRY_LOCAL_CONFIG
    ? resolve(env.GANTRY_LOCAL_CONFIG)
    : join(PROJECT_ROOT, "gantry.local.ts");
  if (env.GANTRY_LOCAL_CONFIG && !existsSync(configPath))
    throw new SettingError(`GANTRY_LOCAL_CONFIG=${env.GANTRY_LOCAL_CONFIG}: no such file`);
  const localConfigFile = existsSync(configPath) ? configPath : undefined;
  let localConfig: LocalConfig = {};
  if (localConfigFile) {
    localConfig = await loadLocalConfig(localConfigFile).catch((error: unknown) => {
      if (error instanceof LocalConfigError) throw new SettingError(error.message);
      throw error;
    });
  }
  const services = localConfig.services ?? {};
  return {
    home: resolve(env.GANTRY_HOME ?? join(PROJECT_ROOT, ".gantry")),
    registry,
    sfnPort: numberFrom(env, "GANTRY_SFN_PORT", 8083, port),
    webPort: numberFrom(env, "GANTRY_WEB_PORT", 8084, port),
    timeScale,
    trafficPerSecond: numberFrom(env, "GANTRY_TRAFFIC_RPS", 20, (n) => n >= 0 && n <= 500),
    trafficEvents: (service, stage) => services[service]?.traffic?.[stage],
    // The hourly canary, in scaled time, unless GANTRY_CANARY_INTERVAL (real seconds) says otherwise.
    canaryIntervalMs:
      numberFrom(env, "GANTRY_CANARY_INTERVAL", 3600 * timeScale, (n) => n >= 0 && n <= 86_400) *
      1000,
    // Finished executions kept: as long as AWS keeps them (90 days), at most so many per machine.
    retention: {
      maxAgeDays: numberFrom(
        env,
        "GANTRY_RETENTION_DAYS",
        DEFAULT_RETENTION.maxAgeDays,
        (n) => n > 0,
      ),
      maxCount: numberFrom(
        env,
        "GANTRY_RETENTION_COUNT",
        DEFAULT_RETENTION.maxCount,
        (n) => Number.isInteger(n) && n >= 1,
      ),
    },
    initialCode: (service, stage) => services[service]?.initialCode?.(stage) ?? placeholderCode(),
    ...(env.GANTRY_SMTP_URL ? { smtpUrl: env.GANTRY_SMTP_URL } : {}),
    webRoutes: localWebRoutes(),
    functionLogLevel: level,
    ...(localConfigFile ? { localConfigFile } : {}),
    localConfig,
  };
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
