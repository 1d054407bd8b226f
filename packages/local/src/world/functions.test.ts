/**
 * LocalFunctions as a whole: a function created from a zip, then deployed as Gantry does (update
 * the code, publish, shift weighted traffic), running each version's code.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { TargetNotFound } from "@gantry/core";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUpFixtures, fixture, HELLO, HELLO_V2, withFunction } from "./testing.ts";
import { createZip } from "./zip.ts";

afterEach(cleanUpFixtures);

describe("LocalFunctions: functions, versions, aliases", () => {
  it("creates a function whose version 1 and alias run the zip's code, once", async () => {
    const f = fixture();
    const sha256 = await withFunction(f, "hello", HELLO);

    expect(f.functions.hasFunction("hello")).toBe(true);
    expect(f.functions.hasFunction("nope")).toBe(false);
    expect(await f.functions.getVersion("hello", "1")).toMatchObject({
      version: "1",
      codeSha256: sha256,
    });
    expect(await f.functions.getVersion("hello", "$LATEST")).toMatchObject({
      version: "$LATEST",
      codeSha256: sha256,
    });
    expect(await f.functions.getVersion("hello", "live")).toMatchObject({
      version: "1",
      codeSha256: sha256,
    });
    const live = await f.functions.getAlias("hello", "live");
    expect(live).toMatchObject({ name: "live", version: "1", weights: {} });
    expect(live?.revisionId).toEqual(expect.any(String));

    const result = await f.functions.invoke("hello", "live", { name: "Ada" });
    expect(result).toMatchObject({
      executedVersion: "1",
      payload: { statusCode: 200, body: "hello Ada", functionName: "hello", functionVersion: "1" },
    });
    expect(result.functionError).toBeUndefined();
    const payload = result.payload as { requestId: string; remainingMs: number };
    expect(payload.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.remainingMs).toBeGreaterThan(2000);
    expect(payload.remainingMs).toBeLessThanOrEqual(3000);

    // Creating it again changes nothing, whatever the code.
    const again = await f.functions.createFunction(
      "hello",
      "live",
      createZip({ "index.mjs": HELLO_V2 }),
    );
    expect(again.versions).toEqual([expect.objectContaining({ version: "1", codeSha256: sha256 })]);
    expect(await f.functions.getAlias("hello", "live")).toEqual(live);
    expect(await f.functions.listFunctions()).toEqual([{ name: "hello", aliases: [live] }]);

    // More aliases, and names that are not Lambda's (or would leave the directory).
    const beta = await f.functions.createAlias("hello", "beta", "1");
    expect(beta).toMatchObject({ name: "beta", version: "1", weights: {} });
    expect((await f.functions.listFunctions())[0]?.aliases.map((a) => a.name)).toEqual([
      "beta",
      "live",
    ]);
    const conflict = { name: "ResourceConflictException" };
    await expect(f.functions.createAlias("hello", "beta", "1")).rejects.toMatchObject(conflict);
    await expect(f.functions.createAlias("hello", "gamma", "3")).rejects.toBeInstanceOf(
      TargetNotFound,
    );
    const invalid = { name: "InvalidParameterValueException" };
    await expect(f.functions.createAlias("hello", "12", "1")).rejects.toMatchObject(invalid);
    const zip = createZip({ "index.mjs": HELLO });
    await expect(f.functions.createFunction("../escape", "live", zip)).rejects.toMatchObject(
      invalid,
    );
    await expect(f.functions.createFunction("ok", "$LATEST", zip)).rejects.toMatchObject(invalid);
    expect(readdirSync(join(f.dir, "functions"))).toEqual(["hello"]);
  });

  it("deploys as Gantry does: update code, publish (hex digests), shift weighted traffic", async () => {
    const f = fixture();
    const v1 = await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });

    const latest = await f.functions.updateCode("hello", v2.ref);
    expect(latest).toEqual({
      version: "$LATEST",
      codeSha256: v2.sha256,
      revisionId: expect.any(String),
    });
    expect(latest.codeSha256).toMatch(/^[0-9a-f]{64}$/);
    const published = await f.functions.publishVersion("hello", {
      codeSha256: v2.sha256,
      ...(latest.revisionId ? { revisionId: latest.revisionId } : {}),
      description: "gantry hello v2",
    });
    expect(published).toMatchObject({ version: "2", codeSha256: v2.sha256 });

    // Same code again: Lambda hands back the version it already has.
    const relatest = await f.functions.updateCode("hello", v2.ref);
    expect(relatest.revisionId).not.toBe(latest.revisionId);
    const republished = await f.functions.publishVersion("hello", {
      codeSha256: v2.sha256,
      description: "again",
    });
    expect(republished.version).toBe("2");
    expect((await f.functions.describe("hello"))?.versions).toEqual([
      expect.objectContaining({ version: "1", codeSha256: v1, description: "" }),
      expect.objectContaining({
        version: "2",
        codeSha256: v2.sha256,
        description: "gantry hello v2",
      }),
    ]);

    const before = await f.functions.getAlias("hello", "live");
    const shifted = await f.functions.updateAlias("hello", "live", {
      version: "1",
      weights: { "2": 0.25 },
      ...(before?.revisionId ? { revisionId: before.revisionId } : {}),
    });
    expect(shifted).toMatchObject({ name: "live", version: "1", weights: { "2": 0.25 } });
    expect(shifted.revisionId).not.toBe(before?.revisionId);

    // Draws below the weight go to version 2, the rest to the primary.
    f.draws.push(0.1, 0.3, 0.2499, 0.25, 0.99, 0);
    const executed: string[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await f.functions.invoke("hello", "live", { name: "Ada" });
      executed.push(result.executedVersion);
      bodies.push((result.payload as { body: string }).body);
    }
    expect(executed).toEqual(["2", "1", "2", "1", "1", "2"]);
    expect(bodies).toEqual(["hi Ada", "hello Ada", "hi Ada", "hello Ada", "hello Ada", "hi Ada"]);

    // Versions and $LATEST can be invoked directly (no draw needed).
    expect((await f.functions.invoke("hello", "1", { name: "B" })).payload).toMatchObject({
      body: "hello B",
    });
    expect(await f.functions.invoke("hello", "2", { name: "C" })).toMatchObject({
      executedVersion: "2",
      payload: { body: "hi C" },
    });
    expect(await f.functions.invoke("hello", "$LATEST", { name: "D" })).toMatchObject({
      executedVersion: "$LATEST",
      payload: { body: "hi D" },
    });

    // Promote, then clear the weights.
    const promoted = await f.functions.updateAlias("hello", "live", { version: "2", weights: {} });
    expect(promoted).toMatchObject({ version: "2", weights: {} });
    expect((await f.functions.invoke("hello", "live", { name: "E" })).executedVersion).toBe("2");
  });
});
