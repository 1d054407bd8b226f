/**
 * The function catalogue (`FUNCTION_CATALOG` in `@gantry/core`) against this package: every
 * entry has its entry point `functions/<file>.ts`, exported by the package as `./<file>`, with
 * `createHandler`, `awsDeps` and `handler`, and a logger named after it; and every entry point
 * here is in the catalogue.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "@aws-lambda-powertools/logger";
import { FUNCTION_CATALOG } from "@gantry/core";
import { describe, expect, it, vi } from "vitest";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

const DIR = new URL("./", import.meta.url);
const catalogued = FUNCTION_CATALOG.map((entry) => entry.file as string).sort();

/** The entry points in this directory: `<name>.ts`, not tests nor the tests' support module. */
function entryPoints(): string[] {
  return readdirSync(DIR)
    .filter((f) => /^[a-z0-9-]+\.ts$/.test(f) && f !== "testing.ts")
    .map((f) => f.slice(0, -3))
    .sort();
}

interface FunctionModule {
  readonly createHandler?: unknown;
  readonly awsDeps?: () => { readonly log: Logger };
  readonly handler?: unknown;
}

describe("the function catalogue and functions/", () => {
  it("has an entry point for every catalogue entry, and no entry point outside it", () => {
    expect(entryPoints()).toEqual(catalogued);
  });

  it("exports exactly the catalogue's entry points from the package", () => {
    const manifest = JSON.parse(readFileSync(new URL("package.json", DIR), "utf8")) as {
      exports: Record<string, string>;
    };
    expect(manifest.exports).toEqual(
      Object.fromEntries(catalogued.map((file) => [`./${file}`, `./${file}.ts`])),
    );
  });

  it.each(catalogued)(
    "%s exports createHandler, awsDeps and handler, and logs as itself",
    async (file) => {
      // By the package's own entry point, as the local control plane imports it.
      const entryPoint = `@gantry/functions/${file}`;
      const module = (await import(/* @vite-ignore */ entryPoint)) as FunctionModule;
      expect(typeof module.createHandler).toBe("function");
      expect(typeof module.awsDeps).toBe("function");
      expect(typeof module.handler).toBe("function");
      // Building the deps builds nothing but what is read: here, the logger.
      const log = module.awsDeps?.().log;
      expect(log?.getPersistentLogAttributes()).toMatchObject({ function: file });
    },
  );
});
