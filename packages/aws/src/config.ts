import { ConfigurationError, STAGES, type Stage } from "@gantry/core";

/**
 * Reads a setting the infrastructure gives a function. Missing settings fail the invocation with
 * ConfigurationError naming the variable, instead of a confusing AWS error later.
 */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`${name} is not set`);
  return value;
}

/** The stage this deployment of Gantry serves (GANTRY_STAGE). */
export function stageFromEnv(): Stage {
  const stage = requiredEnv("GANTRY_STAGE");
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new ConfigurationError(`GANTRY_STAGE must be one of ${STAGES.join(", ")}, got ${stage}`);
  }
  return stage as Stage;
}

/**
 * An object whose properties are built on first read and then kept. Function modules export
 * `handler = createHandler(awsDeps())` at import time; with lazy ports, importing a function
 * (as the local control plane does, to reach its factory) creates no clients and reads no
 * settings. In Lambda the ports are built during the first invocation and reused after.
 * Handlers pass their deps on as they are, never spread (a spread reads every property): a port
 * is built, and its setting read, only when the step uses it, so each path of a function reads
 * only the settings it needs (the approval gate of a stage without approvals reads no sender).
 * A missing setting fails the invocation with ConfigurationError when it is first used; steps
 * that must not act half-configured take the ports they will need before their first side
 * effect.
 *
 * @example
 * ```ts
 * const deps = lazy({ records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")) });
 * ```
 */
export function lazy<T extends object>(factories: { [K in keyof T]: () => T[K] }): T {
  const built = new Map<keyof T, T[keyof T]>();
  const target = {} as T;
  for (const key of Object.keys(factories) as (keyof T)[]) {
    Object.defineProperty(target, key, {
      enumerable: true,
      get() {
        if (!built.has(key)) built.set(key, factories[key]());
        return built.get(key);
      },
    });
  }
  return target;
}
