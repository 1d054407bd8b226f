/**
 * Builds the `gantry` command: one esbuild bundle, `packages/cli/dist/gantry.mjs`, that runs on
 * Node 20 and later (the launcher in `bin/` may be started by an older `node` than the project's).
 * `npm run build:cli` runs this; the root "prepare" script runs it on every `npm install`.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The bundle's path. */
export const BUNDLE = here("./dist/gantry.mjs");

/**
 * The app's service registry, which the command carries a copy of (for a Node that cannot load
 * gantry.registry.ts, or a directory without one). It is build input, like the sources: read
 * from the project root when the command is built, not imported by the command's modules.
 */
const REGISTRY_FILE = here("../../gantry.registry.ts");

/** Bundles the command into {@link BUNDLE} and returns its size in bytes. */
export async function buildCli(): Promise<number> {
  const { version } = JSON.parse(readFileSync(here("./package.json"), "utf8")) as {
    version: string;
  };
  const registry: unknown = (
    (await import(pathToFileURL(REGISTRY_FILE).href)) as { default: unknown }
  ).default;
  // Written aside and renamed into place: a test suite running the bundle while another
  // suite's setup rebuilds it never sees half a file.
  const staging = `${BUNDLE}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const result = await build({
    entryPoints: [here("./src/main.ts")],
    outfile: staging,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Prefer the SDK's ES module builds; CommonJS dependencies still get a working `require`.
    mainFields: ["module", "main"],
    banner: {
      js: [
        "#!/usr/bin/env node",
        'import { createRequire as __gantryCreateRequire } from "node:module";',
        "const require = __gantryCreateRequire(import.meta.url);",
      ].join("\n"),
    },
    define: {
      GANTRY_CLI_VERSION: JSON.stringify(version),
      // The registry bundled in; the command imports gantry.registry.ts itself only when the
      // file no longer has these bytes (importing it costs half a second).
      GANTRY_BUILT_IN_REGISTRY: JSON.stringify(registry),
      GANTRY_REGISTRY_SHA256: JSON.stringify(
        createHash("sha256").update(readFileSync(REGISTRY_FILE)).digest("hex"),
      ),
    },
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
  });
  renameSync(staging, BUNDLE);
  const output = result.metafile?.outputs;
  return output ? Object.values(output).reduce((sum, o) => sum + o.bytes, 0) : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const bytes = await buildCli();
  console.log(
    `built packages/cli/dist/gantry.mjs (${(bytes / 1024 / 1024).toFixed(1)} MiB) in ${Date.now() - started} ms`,
  );
}
