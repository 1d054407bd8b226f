/**
 * Builds Gantry's Lambda functions the way SST ships them (stacks/bundling.ts), for the bundle
 * benchmark and the bundle test.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FUNCTION_CATALOG } from "@gantry/core";
import { NODEJS_BUNDLING } from "@gantry/stacks/bundling";
import { build } from "esbuild";

const FUNCTIONS_DIR = fileURLToPath(new URL("../../functions/", import.meta.url));

/** A function's package: its entry file and what it weighs. */
export interface FunctionBundle {
  readonly name: string;
  /** The file Lambda imports (`<name>.mjs`). */
  readonly entry: string;
  readonly files: number;
  /** Every file in the package. */
  readonly totalBytes: number;
  /** The entry and the chunks it imports statically: what is read at init. */
  readonly initBytes: number;
}

/**
 * Every function of the catalogue, by name (functions/catalog.test.ts checks that each has its
 * `functions/<name>.ts` and that there is no other).
 */
export function functionNames(): string[] {
  return FUNCTION_CATALOG.map((entry) => entry.file as string).sort();
}

/** Bundles one function into `outdir/<name>/` with the shipping settings. */
export async function bundleFunction(name: string, outdir: string): Promise<FunctionBundle> {
  const dir = join(outdir, name);
  const result = await build({
    entryPoints: [join(FUNCTIONS_DIR, `${name}.ts`)],
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    target: "node24",
    format: NODEJS_BUNDLING.format,
    minify: NODEJS_BUNDLING.minify,
    splitting: NODEJS_BUNDLING.splitting,
    mainFields: NODEJS_BUNDLING.esbuild.mainFields,
    legalComments: "none",
    metafile: true,
    // Some dependencies still call require(): give each ES module one (SST does the same).
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: "silent",
  });
  const outputs = result.metafile.outputs;
  // Dynamically imported modules are entry points too: find the function's own.
  const entryKey = Object.keys(outputs).find((key) =>
    outputs[key]?.entryPoint?.endsWith(`functions/${name}.ts`),
  );
  if (!entryKey) throw new Error(`esbuild produced no entry point for ${name}`);

  // Follow static imports only: dynamically imported chunks are read when first used.
  const atInit = new Set<string>();
  const visit = (key: string) => {
    if (atInit.has(key)) return;
    atInit.add(key);
    for (const imported of outputs[key]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
    }
  };
  visit(entryKey);
  const bytes = (keys: Iterable<string>) =>
    [...keys].reduce((sum, key) => sum + (outputs[key]?.bytes ?? 0), 0);

  return {
    name,
    entry: join(dir, `${name}.mjs`),
    files: Object.keys(outputs).length,
    totalBytes: bytes(Object.keys(outputs)),
    initBytes: bytes(atInit),
  };
}
