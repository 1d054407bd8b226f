/**
 * Makes sure .sst/platform (SST's component types and its pinned @pulumi/aws) exists for the
 * installed `sst`, running `sst install` with the settings that keep it offline apart from the
 * npm registry: no Pulumi download (SST_SKIP_DEPENDENCY_CHECK), npm instead of Bun (SST_NO_BUN),
 * no telemetry. Skips the install when the platform already matches the sst version.
 *
 *   node test/infra/install-platform.ts
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const platform = path.join(root, ".sst/platform");
const wanted = JSON.parse(readFileSync(path.join(root, "node_modules/sst/package.json"), "utf8"))
  .version as string;
const versionFile = path.join(platform, "version");
const installed = existsSync(versionFile) ? readFileSync(versionFile, "utf8").trim() : undefined;
const complete =
  existsSync(path.join(platform, "config.d.ts")) &&
  existsSync(path.join(platform, "node_modules/@pulumi/aws/package.json"));

if (installed === wanted && complete) {
  console.log(`.sst/platform is SST ${wanted}: nothing to install`);
} else {
  const started = Date.now();
  console.log(`sst install (SST ${wanted}, offline settings) ...`);
  const result = spawnSync(
    path.join(root, "node_modules/.bin/sst"),
    // Any Gantry stage will do: install only reads the app's providers.
    ["install", "--stage", "preprod"],
    {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        SST_NO_BUN: "1",
        SST_SKIP_DEPENDENCY_CHECK: "1",
        SST_TELEMETRY_DISABLED: "1",
      },
    },
  );
  if (result.status !== 0) {
    console.error(`sst install failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
  console.log(`sst install took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
