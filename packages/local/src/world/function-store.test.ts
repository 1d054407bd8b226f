/**
 * Functions on disk (function-store.ts), through LocalFunctions: a zip that would write outside
 * its directory, and versions and aliases that survive a restart.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUpFixtures, fixture, HELLO, HELLO_V2, withFunction } from "./testing.ts";

afterEach(cleanUpFixtures);

describe("LocalFunctions: on disk", () => {
  it("refuses a zip-slip archive without writing anything outside the function's directory", async () => {
    const f = fixture();
    const sha256 = await withFunction(f, "hello", HELLO);
    const evil = zipSync({ "index.mjs": strToU8(HELLO_V2), "../../../evil.mjs": strToU8("pwned") });
    f.objects.set("artifacts/evil.zip", evil);

    await expect(
      f.functions.updateCode("hello", { bucket: "artifacts", key: "evil.zip" }),
    ).rejects.toMatchObject({
      name: "InvalidParameterValueException",
      message: expect.stringMatching(/Could not unzip.*evil\.mjs/),
    });
    expect(existsSync(join(f.dir, "evil.mjs"))).toBe(false);
    expect(readdirSync(join(f.dir, "functions", "hello", "code")).sort()).toEqual([
      sha256,
      "package.json",
    ]);
    expect(await f.functions.getVersion("hello", "$LATEST")).toMatchObject({ codeSha256: sha256 });
    await expect(f.functions.createFunction("evil", "live", evil)).rejects.toMatchObject({
      name: "InvalidParameterValueException",
    });
    expect(f.functions.hasFunction("evil")).toBe(false);
  });

  it("keeps versions and aliases across a restart, and runs them", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    await f.functions.updateCode("hello", v2.ref);
    await f.functions.publishVersion("hello", { codeSha256: v2.sha256, description: "v2" });
    await f.functions.updateAlias("hello", "live", { version: "1", weights: { "2": 0.5 } });
    const described = await f.functions.describe("hello");
    await f.functions.close();
    await expect(f.functions.invoke("hello", "1", {})).rejects.toThrow(/closed/);

    const restarted = f.reopen();
    expect(await restarted.describe("hello")).toEqual(described);
    expect(await restarted.getAlias("hello", "live")).toEqual(described?.aliases[0]);
    f.draws.push(0.4, 0.6);
    expect((await restarted.invoke("hello", "live", { name: "X" })).payload).toMatchObject({
      body: "hi X",
    });
    expect((await restarted.invoke("hello", "live", { name: "Y" })).payload).toMatchObject({
      body: "hello Y",
    });
    // Every write went through a temporary file and a rename: none is left behind.
    expect(readdirSync(join(f.dir, "functions", "hello")).sort()).toEqual([
      "code",
      "function.json",
    ]);
  });
});
