#!/usr/bin/env node
// The `gantry` command's launcher: the command itself is the esbuild bundle in ../dist, built by
// `npm run build:cli` (which `npm install` runs through the root "prepare" script).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/gantry.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write(
    "gantry: the command is not built (packages/cli/dist/gantry.mjs is missing).\n" +
      "  Build it with `npm run build:cli` at the repository root (`npm install` also builds it).\n",
  );
  process.exit(5);
}
await import(bundle.href);
