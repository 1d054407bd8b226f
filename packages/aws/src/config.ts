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
 * Handlers spread their deps (`{ ...deps, log: deps.logger }`) as each invocation starts, which
 * reads every property: a missing setting fails the invocation before its first side effect.
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

/**
 * The deps with the function's logger as `log`, without reading any of them: unlike a spread
 * (`{ ...deps, log }`), which builds every lazy port and reads every setting, this reads a
 * setting only when the step uses it. For steps whose paths need different settings: the
 * approval gate of a stage without approvals sends no mail, and the stack gives that stage no
 * sender (the step reads its mail settings before its first side effect when it does mail).
 *
 * @example
 * ```ts
 * stepHandler(deps.logger, (event) => requestApproval(event, withLog(deps)));
 * ```
 */
export function withLog<T extends { readonly logger: L }, L>(deps: T): T & { readonly log: L } {
  return Object.create(deps, { log: { get: () => deps.logger, enumerable: true } }) as T & {
    readonly log: L;
  };
}
