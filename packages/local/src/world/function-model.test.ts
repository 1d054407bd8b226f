/**
 * Lambda's rules for versions and aliases (function-model.ts), through LocalFunctions: revision
 * ids, publishing only $LATEST's code, routing weights, and what unknown names give.
 */
import { ConcurrentModification, TargetNotFound } from "@gantry/core";
import { afterEach, describe, expect, it } from "vitest";
import { COMMONJS, cleanUpFixtures, fixture, HELLO, HELLO_V2, withFunction } from "./testing.ts";

afterEach(cleanUpFixtures);

describe("LocalFunctions: Lambda's rules for versions and aliases", () => {
  it("refuses stale revisions with ConcurrentModification", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    const first = await f.functions.updateCode("hello", v2.ref);
    await f.functions.updateCode("hello", v2.ref); // someone else moved $LATEST on

    const stale = f.functions.publishVersion("hello", {
      codeSha256: v2.sha256,
      revisionId: first.revisionId ?? "",
      description: "x",
    });
    await expect(stale).rejects.toBeInstanceOf(ConcurrentModification);
    await expect(stale).rejects.toMatchObject({ name: "ConcurrentModification" });
    expect((await f.functions.describe("hello"))?.versions).toHaveLength(1);

    await f.functions.publishVersion("hello", { codeSha256: v2.sha256, description: "x" });
    const alias = await f.functions.getAlias("hello", "live");
    await f.functions.updateAlias("hello", "live", { version: "2", weights: {} });
    await expect(
      f.functions.updateAlias("hello", "live", {
        version: "1",
        weights: {},
        revisionId: alias?.revisionId ?? "",
      }),
    ).rejects.toBeInstanceOf(ConcurrentModification);
    expect(await f.functions.getAlias("hello", "live")).toMatchObject({ version: "2" });
  });

  it("refuses to publish code other than $LATEST's", async () => {
    const f = fixture();
    const v1 = await withFunction(f, "hello", HELLO);
    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    await f.functions.updateCode("hello", v2.ref);
    await expect(
      f.functions.publishVersion("hello", { codeSha256: v1, description: "x" }),
    ).rejects.toMatchObject({
      name: "InvalidParameterValueException",
    });
    expect((await f.functions.describe("hello"))?.versions).toHaveLength(1);
  });

  it("applies Lambda's routing rules to aliases", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    for (const [i, source] of [HELLO_V2, COMMONJS].entries()) {
      const { ref, sha256 } = f.put(`hello/${i}.zip`, { "index.mjs": source });
      await f.functions.updateCode("hello", ref);
      await f.functions.publishVersion("hello", { codeSha256: sha256, description: "" });
    }
    const update = (version: string, weights: Record<string, number>) =>
      f.functions.updateAlias("hello", "live", { version, weights });

    await expect(update("9", {})).rejects.toBeInstanceOf(TargetNotFound);
    await expect(update("1", { "9": 0.1 })).rejects.toBeInstanceOf(TargetNotFound);
    const invalid = { name: "InvalidParameterValueException" };
    await expect(update("1", { "2": 0.1, "3": 0.1 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": 1 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": 0 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": -0.5 })).rejects.toMatchObject(invalid);
    await expect(update("1", { "2": Number.NaN })).rejects.toMatchObject(invalid);
    await expect(update("1", { "1": 0.5 })).rejects.toMatchObject(invalid);
    await expect(update("1", { $LATEST: 0.5 })).rejects.toMatchObject(invalid);
    await expect(update("$LATEST", { "2": 0.5 })).rejects.toMatchObject(invalid);
    expect(await f.functions.getAlias("hello", "live")).toMatchObject({
      version: "1",
      weights: {},
    });

    expect(await update("3", { "2": 0.5 })).toMatchObject({ version: "3", weights: { "2": 0.5 } });
    expect(await update("$LATEST", {})).toMatchObject({ version: "$LATEST", weights: {} });
  });

  it("answers undefined for unknown things on reads and TargetNotFound on changes", async () => {
    const f = fixture();
    await withFunction(f, "hello", HELLO);
    expect(await f.functions.getAlias("nope", "live")).toBeUndefined();
    expect(await f.functions.getAlias("hello", "nope")).toBeUndefined();
    expect(await f.functions.getVersion("nope", "1")).toBeUndefined();
    expect(await f.functions.getVersion("hello", "7")).toBeUndefined();
    expect(await f.functions.getVersion("../../etc", "1")).toBeUndefined();
    expect(await f.functions.describe("nope")).toBeUndefined();

    const v2 = f.put("hello/v2.zip", { "index.mjs": HELLO_V2 });
    await expect(f.functions.updateCode("nope", v2.ref)).rejects.toBeInstanceOf(TargetNotFound);
    await expect(
      f.functions.publishVersion("nope", { codeSha256: v2.sha256, description: "" }),
    ).rejects.toBeInstanceOf(TargetNotFound);
    await expect(
      f.functions.updateAlias("nope", "live", { version: "1", weights: {} }),
    ).rejects.toBeInstanceOf(TargetNotFound);
    await expect(
      f.functions.updateAlias("hello", "nope", { version: "1", weights: {} }),
    ).rejects.toBeInstanceOf(TargetNotFound);
    await expect(f.functions.invoke("nope", "live", {})).rejects.toBeInstanceOf(TargetNotFound);
    await expect(f.functions.invoke("hello", "nope", {})).rejects.toBeInstanceOf(TargetNotFound);
    await expect(f.functions.invoke("hello", "5", {})).rejects.toBeInstanceOf(TargetNotFound);

    // An object that is not in the bucket: Lambda's InvalidParameterValueException.
    await expect(
      f.functions.updateCode("hello", { bucket: "artifacts", key: "missing.zip" }),
    ).rejects.toMatchObject({
      name: "InvalidParameterValueException",
      message: expect.stringContaining("NoSuchKey"),
    });
    expect(f.records).toEqual([]);
  });
});
