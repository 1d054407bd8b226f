import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { STAGES, type Stage } from "@gantry/core";

/**
 * The app's local configuration: what the local control plane runs each registered service's
 * functions with, and what steady traffic it sends them. It belongs to the app, like the
 * registry: `gantry.local.ts` next to `gantry.registry.ts` (or the module GANTRY_LOCAL_CONFIG
 * names), loaded by `npm start`. The local control plane knows no service of its own; a service
 * the configuration does not mention starts on the placeholder artifact (placeholder.ts).
 */
export interface LocalServiceConfig {
  /**
   * The Lambda zip the service's function starts with in a stage, used once: when the local
   * world has no such function yet. Default: the placeholder, which answers 200 to everything.
   */
  readonly initialCode?: (stage: Stage) => Uint8Array;
  /**
   * The requests the steady local traffic sends to the stage's alias (real users' requests,
   * say). Default: the service's canary events.
   */
  readonly traffic?: Partial<Record<Stage, readonly unknown[]>>;
}

export interface LocalConfig {
  /** By service name, as the registry names them; services the registry lacks are ignored. */
  readonly services?: Readonly<Record<string, LocalServiceConfig>>;
  /** Lines `npm start` prints under "Next, in another terminal" (say, how to run a demo). */
  readonly hints?: readonly string[];
}

/** Thrown for a local configuration that cannot be used; `npm start` prints it and exits 2. */
export class LocalConfigError extends Error {
  override readonly name = "LocalConfigError";
}

/**
 * Checks a local configuration and returns it: the default export of `gantry.local.ts`.
 *
 * @example
 * ```ts
 * // gantry.local.ts
 * import { defineLocalConfig } from "@gantry/local/config";
 * export default defineLocalConfig({
 *   services: {
 *     "my-service": {
 *       initialCode: () => readFileSync("build/my-service.zip"),
 *       traffic: { prod: [{ rawPath: "/orders", requestContext: { http: { method: "GET" } } }] },
 *     },
 *   },
 * });
 * ```
 */
export function defineLocalConfig(config: LocalConfig): LocalConfig {
  const problems: string[] = [];
  if (typeof config !== "object" || config === null) {
    throw new LocalConfigError("the local configuration must be an object");
  }
  if (config.hints !== undefined) {
    if (!Array.isArray(config.hints) || config.hints.some((h) => typeof h !== "string"))
      problems.push("hints: must be an array of strings");
  }
  const services = config.services ?? {};
  if (typeof services !== "object" || services === null || Array.isArray(services)) {
    problems.push("services: must be an object keyed by service name");
  } else {
    for (const [name, service] of Object.entries(services)) {
      if (typeof service !== "object" || service === null) {
        problems.push(`services.${name}: must be an object`);
        continue;
      }
      if (service.initialCode !== undefined && typeof service.initialCode !== "function")
        problems.push(`services.${name}.initialCode: must be a function (stage) => zip bytes`);
      const traffic = service.traffic;
      if (traffic === undefined) continue;
      if (typeof traffic !== "object" || traffic === null) {
        problems.push(`services.${name}.traffic: must be an object keyed by stage`);
        continue;
      }
      for (const [stage, events] of Object.entries(traffic)) {
        if (!(STAGES as readonly string[]).includes(stage))
          problems.push(`services.${name}.traffic.${stage}: not a stage (${STAGES.join(", ")})`);
        else if (!Array.isArray(events) || events.length === 0)
          problems.push(`services.${name}.traffic.${stage}: must be a non-empty array of events`);
      }
    }
  }
  if (problems.length > 0) {
    throw new LocalConfigError(`invalid local configuration:\n  ${problems.join("\n  ")}`);
  }
  return config;
}

/**
 * Imports a local configuration module (its default export) and checks it.
 *
 * @example
 * ```ts
 * const config = await loadLocalConfig("/path/to/app/gantry.local.ts");
 * ```
 */
export async function loadLocalConfig(file: string): Promise<LocalConfig> {
  if (!existsSync(file))
    throw new LocalConfigError(`the local configuration ${file} does not exist`);
  let loaded: unknown;
  try {
    loaded = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new LocalConfigError(
      `cannot load the local configuration ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (loaded === undefined)
    throw new LocalConfigError(
      `${file} has no default export (export default defineLocalConfig({...}))`,
    );
  try {
    return defineLocalConfig(loaded as LocalConfig);
  } catch (error) {
    throw new LocalConfigError(`${file}: ${(error as Error).message}`);
  }
}
