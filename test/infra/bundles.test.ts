/**
 * Every function as SST ships it (stacks/bundling.ts: ESM, code splitting, the SDK's ES module
 * builds) loads in a fresh Node process and exports a handler, without reading any setting:
 * the split chunks resolve, and nothing at import time needs the environment.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction, type FunctionBundle, functionNames } from "../support/function-bundles.ts";

let dir: string;
const bundles = new Map<string, FunctionBundle>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-bundles-"));
  for (const name of functionNames()) bundles.set(name, await bundleFunction(name, dir));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What importing the bundle exposes, from a process with no Gantry or AWS settings. */
function importIn(entry: string): { handler: string; exports: string[] } {
  const probe = `const m = await import(process.argv[1]); console.log(JSON.stringify({ handler: typeof m.handler, exports: Object.keys(m).sort() }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", probe, entry], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
  });
  return JSON.parse(out) as { handler: string; exports: string[] };
}

describe("the shipped function bundles", () => {
  it("covers every function in functions/", () => {
    expect([...bundles.keys()]).toEqual(functionNames());
    expect(bundles.size).toBeGreaterThanOrEqual(14);
  });

  it.each(functionNames())("%s imports cold and exports its handler", (name) => {
    const bundle = bundles.get(name);
    if (!bundle) throw new Error(`${name} was not bundled`);
    const loaded = importIn(bundle.entry);
    expect(loaded.handler).toBe("function");
    expect(loaded.exports).toEqual(expect.arrayContaining(["awsDeps", "createHandler", "handler"]));
  });
});
