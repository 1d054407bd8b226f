import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Registry, serviceOf } from "@gantry/core";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

/** The registry the command checks requests against, and where it came from. */
export interface LoadedRegistry {
  readonly registry: Registry;
  /** The file it was loaded from, or "built-in" for the copy bundled at build time. */
  readonly source: string;
}

const REGISTRY_FILE = "gantry.registry.ts";

/**
 * The project's gantry.registry.ts as it was when the command was built, and that file's SHA-256:
 * build.ts loads the registry and stamps both in. Both are undefined when the command runs from
 * its sources (the tests, on a Node that loads TypeScript), which import the file instead.
 */
declare const GANTRY_BUILT_IN_REGISTRY: Registry | undefined;
declare const GANTRY_REGISTRY_SHA256: string | undefined;
const builtIn: Registry | undefined =
  typeof GANTRY_BUILT_IN_REGISTRY === "object" ? GANTRY_BUILT_IN_REGISTRY : undefined;
const BUILT_IN_SHA256 =
  typeof GANTRY_REGISTRY_SHA256 === "string" ? GANTRY_REGISTRY_SHA256 : undefined;

/**
 * The project root: the nearest directory upwards from `cwd` with a `gantry.registry.ts`, else
 * the repository this command was built in.
 */
export function projectRoot(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, REGISTRY_FILE))) return dir;
    if (dirname(dir) === dir) break;
  }
  // The bundle lives at packages/cli/dist/gantry.mjs; the sources at packages/cli/src/*.ts.
  return fileURLToPath(new URL("../../../", import.meta.url));
}

/**
 * Loads the service registry: `--registry FILE` / GANTRY_REGISTRY, else the project's
 * `gantry.registry.ts`. The copy bundled into the command at build time is used while the file
 * has the same bytes; an edited file is imported at run time, so an edit counts at once. A Node
 * that cannot load TypeScript (before 22.18) gets the bundled copy, with a note on stderr.
 *
 * @example
 * ```ts
 * const { registry } = await loadRegistry({ cwd: process.cwd(), env: process.env });
 * Object.keys(registry.services); // ["hello-service"]
 * ```
 */
export async function loadRegistry(options: {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file?: string | undefined;
  readonly warn?: (message: string) => void;
}): Promise<LoadedRegistry> {
  const explicit = options.file ?? options.env.GANTRY_REGISTRY;
  const file = explicit
    ? resolve(options.cwd, explicit)
    : join(projectRoot(options.cwd), REGISTRY_FILE);
  if (!existsSync(file)) {
    if (explicit || !builtIn) {
      throw new CliError(ExitCode.Usage, `the registry file does not exist: ${file}`, [
        "pass --registry FILE (or GANTRY_REGISTRY) naming a module whose default export is the registry",
      ]);
    }
    return { registry: builtIn, source: "built-in" };
  }
  if (builtIn && BUILT_IN_SHA256 && sha256Of(file) === BUILT_IN_SHA256) {
    return { registry: builtIn, source: file };
  }
  if (builtIn && file.endsWith(".ts") && !canLoadTypeScript()) {
    options.warn?.(
      `Node ${process.versions.node} cannot load ${file}; using the registry built into the command ` +
        "(rebuild it with `npm run build:cli` after changing the registry, or run it on Node 24)",
    );
    return { registry: builtIn, source: "built-in" };
  }
  let loaded: unknown;
  try {
    loaded = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new CliError(
      ExitCode.Failed,
      `cannot load the service registry ${file}: ${error instanceof Error ? error.message : String(error)}`,
      ["fix gantry.registry.ts (npm test checks it), or pass --registry FILE"],
    );
  }
  if (!isRegistry(loaded)) {
    throw new CliError(
      ExitCode.Failed,
      `${file} does not export a service registry as its default export`,
      ["export default defineRegistry({ stages: {...}, services: {...} })"],
    );
  }
  return { registry: loaded, source: file };
}

function sha256Of(file: string): string | undefined {
  try {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch {
    return undefined;
  }
}

function canLoadTypeScript(): boolean {
  const features = process.features as { typescript?: unknown };
  return Boolean(features.typescript);
}

function isRegistry(value: unknown): value is Registry {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { stages?: unknown; services?: unknown };
  return typeof v.stages === "object" && v.stages !== null && typeof v.services === "object";
}

/**
 * Refuses a service the registry does not know, listing the ones it does (exit 2).
 */
export function requireService(registry: Registry, service: string): void {
  if (serviceOf(registry, service)) return;
  const known = Object.keys(registry.services).sort();
  throw new CliError(
    ExitCode.Usage,
    `unknown service: ${service}`,
    [
      known.length > 0 ? `known services: ${known.join(", ")}` : "the registry has no services yet",
      "register a service in gantry.registry.ts, then deploy Gantry (`npx sst deploy --stage <stage>`)",
    ],
    { field: "service", known },
  );
}
