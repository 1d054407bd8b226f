import { describe, expect, it } from "vitest";
import { RollbackFailed, TransientError } from "../errors.ts";
import type { AliasState } from "../ports.ts";
import { fixedClock, T0, testPlan, testRollout } from "../testing/fixtures.ts";
import { prodWithTwoVersions } from "../testing/world.ts";
import { rollback } from "./rollback.ts";

const plan = testPlan();

async function world(alias: { version: string; weights: Record<string, number> }) {
  const { functions } = await prodWithTwoVersions();
  await functions.updateAlias("hello-prod", "live", alias);
  return { functions, deps: { functions, clock: fixedClock(T0) } };
}

describe("rollback", () => {
  it("puts the alias back on the previous version with no weights, and reports it", async () => {
    const w = await world({ version: "1", weights: { "2": 0.25 } });
    const report = await rollback({ plan, rollout: testRollout({ weight: 25 }) }, w.deps);
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    expect(report).toEqual({
      restoredVersion: "1",
      removedVersion: "2",
      verifiedAt: new Date(T0).toISOString(),
    });
  });

  it("restores the previous version after the new one was promoted", async () => {
    const w = await world({ version: "2", weights: {} });
    const report = await rollback({ plan, rollout: testRollout({ phase: "bake" }) }, w.deps);
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    expect(report.restoredVersion).toBe("1");
  });

  it("keeps the alias's primary version, clearing weights, when Deploy recorded no rollout", async () => {
    const w = await world({ version: "1", weights: { "2": 0.1 } });
    const report = await rollback({ plan }, w.deps);
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    expect(report).toEqual({ restoredVersion: "1", verifiedAt: new Date(T0).toISOString() });
  });

  it("reports no removed version when the new version is the previous one", async () => {
    const w = await world({ version: "1", weights: {} });
    const report = await rollback(
      { plan, rollout: testRollout({ newVersion: "1", previousVersion: "1" }) },
      w.deps,
    );
    expect(report).not.toHaveProperty("removedVersion");
  });

  it("returns restoredVersion null, changing nothing, when the alias does not exist", async () => {
    const w = await world({ version: "1", weights: {} });
    w.functions.fns.get("hello-prod")?.aliases.delete("live");
    const changes = w.functions.aliasHistory.length;
    expect(await rollback({ plan, rollout: testRollout() }, w.deps)).toEqual({
      restoredVersion: null,
      verifiedAt: new Date(T0).toISOString(),
    });
    expect(w.functions.aliasHistory).toHaveLength(changes);
  });

  it("throws RollbackFailed when the alias does not read back as the previous version alone", async () => {
    const w = await world({ version: "1", weights: { "2": 0.25 } });
    w.functions.updateAlias = async (name, alias) => w.functions.alias(name, alias) as AliasState;
    await expect(rollback({ plan, rollout: testRollout() }, w.deps)).rejects.toThrow(
      new RollbackFailed(
        "hello-prod:live should serve version 1 alone but routes to version 1 + 25% to 2",
      ),
    );
  });

  // The read-back must prove the previous version alone: an alias on another version, weighted
  // or not, or no alias at all, is not rolled back.
  it.each([
    ["another single version", { version: "2", weights: {} }, "version 2"],
    [
      "the previous version with weights",
      { version: "1", weights: { "2": 0.25 } },
      "version 1 + 25% to 2",
    ],
    ["no alias", undefined, "(no alias)"],
  ])("throws RollbackFailed when the alias reads back as %s", async (_, readBack, routes) => {
    const w = await world({ version: "1", weights: { "2": 0.25 } });
    const getAlias = w.functions.getAlias.bind(w.functions);
    const updateAlias = w.functions.updateAlias.bind(w.functions);
    let updated = false;
    w.functions.updateAlias = async (name, alias, routing) => {
      updated = true;
      return updateAlias(name, alias, routing);
    };
    w.functions.getAlias = async (name, alias) =>
      updated ? readBack && { name: alias, ...readBack, revisionId: "99" } : getAlias(name, alias);
    await expect(rollback({ plan, rollout: testRollout() }, w.deps)).rejects.toThrow(
      new RollbackFailed(`hello-prod:live should serve version 1 alone but routes to ${routes}`),
    );
  });

  it("does not overwrite an alias that changed after it was read", async () => {
    const w = await world({ version: "1", weights: { "2": 0.25 } });
    const getAlias = w.functions.getAlias.bind(w.functions);
    w.functions.getAlias = async (name, alias) => {
      const read = await getAlias(name, alias);
      w.functions.getAlias = getAlias;
      // Someone else moves the alias between this read and the rollback's update.
      await w.functions.updateAlias(name, alias, { version: "2", weights: {} });
      return read;
    };
    await expect(rollback({ plan, rollout: testRollout() }, w.deps)).rejects.toThrow(
      new RollbackFailed(
        "could not restore hello-prod:live: ConcurrentModification: alias revision changed",
      ),
    );
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "2", weights: {} });
  });

  it("turns any other error into RollbackFailed, keeping its name and message", async () => {
    const w = await world({ version: "1", weights: { "2": 0.25 } });
    w.functions.faults.fail("functions.updateAlias", () =>
      Object.assign(new Error("not allowed"), { name: "AccessDeniedException" }),
    );
    await expect(rollback({ plan, rollout: testRollout() }, w.deps)).rejects.toThrow(
      new RollbackFailed("could not restore hello-prod:live: AccessDeniedException: not allowed"),
    );
  });

  it("turns a non-Error throw into RollbackFailed", async () => {
    const w = await world({ version: "1", weights: {} });
    w.functions.getAlias = async () => {
      throw "connection reset";
    };
    await expect(rollback({ plan, rollout: testRollout() }, w.deps)).rejects.toThrow(
      new RollbackFailed("could not restore hello-prod:live: connection reset"),
    );
  });

  it("rethrows a TransientError unchanged, so the state machine retries it", async () => {
    const w = await world({ version: "1", weights: { "2": 0.25 } });
    const throttled = new TransientError("Rate exceeded");
    w.functions.faults.fail("functions.getAlias", () => throttled);
    const error = await rollback({ plan, rollout: testRollout() }, w.deps).catch((e: unknown) => e);
    expect(error).toBe(throttled);
  });
});
