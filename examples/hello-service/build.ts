/**
 * Packages hello-service's versions into Lambda zips: `node examples/hello-service/build.ts`
 * writes `dist/<variant>.zip` and `dist/manifest.json`. The zips are deterministic (fixed
 * timestamps), so a variant always has the same SHA-256, and each variant gets a stable
 * 40-hex "commit" to deploy it as.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { zipSync } from "fflate";

export const VARIANTS = [
  "v1",
  "v2",
  "v3-broken",
  "v4-prod-bug",
  "v5-flaky",
  "v6-expiring-token",
  "v7-token-fix",
] as const;
export type Variant = (typeof VARIANTS)[number];

export interface BuiltVariant {
  readonly variant: Variant;
  /** The git-commit-shaped version the demo deploys this variant as. */
  readonly version: string;
  readonly sha256: string;
  readonly zip: Uint8Array;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const FIXED_TIME = new Date("2026-01-01T00:00:00Z");

export function buildVariant(variant: Variant): BuiltVariant {
  const source = readFileSync(here(`./versions/${variant}.mjs`));
  const zip = zipSync(
    { "index.mjs": [source, { mtime: FIXED_TIME }] },
    { level: 6, mtime: FIXED_TIME },
  );
  return {
    variant,
    version: createHash("sha1").update(`hello-service:${variant}:`).update(source).digest("hex"),
    sha256: createHash("sha256").update(zip).digest("hex"),
    zip,
  };
}

/** The artifact key CI would publish a build under. */
export function artifactKey(built: BuiltVariant): string {
  return `hello-service/${built.version}/${built.sha256.slice(0, 16)}.zip`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(here("./dist"), { recursive: true });
  const manifest: Record<string, { version: string; sha256: string; file: string; key: string }> =
    {};
  for (const variant of VARIANTS) {
    const built = buildVariant(variant);
    writeFileSync(here(`./dist/${variant}.zip`), built.zip);
    manifest[variant] = {
      version: built.version,
      sha256: built.sha256,
      file: `dist/${variant}.zip`,
      key: artifactKey(built),
    };
  }
  writeFileSync(here("./dist/manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(JSON.stringify(manifest, null, 2));
}
