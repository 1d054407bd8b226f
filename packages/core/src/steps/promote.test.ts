import { describe, expect, it } from "vitest";
import { ConcurrentModification } from "../errors.ts";
import type { AliasState } from "../ports.ts";
import { fixedClock, T0, testPlan, testRollout } from "../testing/fixtures.ts";
import { prodWithTwoVersions } from "../testing/world.ts";
import { promote } from "./promote.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const plan = testPlan();
const rollout = testRollout({ phase: "promote", stepIndex: 2, weight: 50, checks: 9 });

async function world() {
  const { functions } = await prodWithTwoVersions();
  await functions.updateAlias("hello-prod", "live", { version: "1", weights: { "2": 0.5 } });
  return { functions, deps: { functions, clock: fixedClock(T0) } };
}

describe("promote", () => {
  it("gives the new version all traffic with no weights, and starts the bake", async () => {
    const w = await world();
    const next = await promote({ plan, rollout }, w.deps);
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "2", weights: {} });
    expect(next).toEqual({
      ...rollout,
      phase: "bake",
      weight: 100,
      holdStartedAt: iso(T0),
      holdEndsAt: iso(T0 + 600_000),
      nextCheckAt: iso(T0 + 10_000),
      // The bake Task's timeout: the 600 s bake plus the 60 s grace.
      holdTimeoutSeconds: 660,
    });
  });

  it("updates the alias against the revision it read", async () => {
    const w = await world();
    const seen: (string | undefined)[] = [];
    const revision = w.functions.alias("hello-prod", "live")?.revisionId;
    const updateAlias = w.functions.updateAlias.bind(w.functions);
    w.functions.updateAlias = async (name, alias, routing) => {
      seen.push(routing.revisionId);
      return updateAlias(name, alias, routing);
    };
    await promote({ plan, rollout }, w.deps);
    expect(seen).toEqual([revision]);
  });

  it("throws ConcurrentModification when the alias does not read back as the new version alone", async () => {
    const w = await world();
    // The update is lost: the alias still reads as it was.
    w.functions.updateAlias = async (name, alias) => w.functions.alias(name, alias) as AliasState;
    await expect(promote({ plan, rollout }, w.deps)).rejects.toThrow(
      new ConcurrentModification(
        "hello-prod:live should serve version 2 alone but routes to version 1 + 50% to 2",
      ),
    );
  });

  it("throws ConcurrentModification when the alias reads back as the new version with weights", async () => {
    const w = await world();
    const updateAlias = w.functions.updateAlias.bind(w.functions);
    // Someone else weights the old version back in right after the update.
    w.functions.updateAlias = async (name, alias, routing) => {
      await updateAlias(name, alias, routing);
      return updateAlias(name, alias, { version: "2", weights: { "1": 0.5 } });
    };
    await expect(promote({ plan, rollout }, w.deps)).rejects.toThrow(
      new ConcurrentModification(
        "hello-prod:live should serve version 2 alone but routes to version 2 + 50% to 1",
      ),
    );
  });

  it("lets Lambda refuse the update when the alias is gone before it", async () => {
    const w = await world();
    w.functions.fns.get("hello-prod")?.aliases.delete("live");
    await expect(promote({ plan, rollout }, w.deps)).rejects.toMatchObject({
      name: "TargetNotFound",
      message: "alias not found",
    });
  });

  it("throws ConcurrentModification when the alias is gone after the update", async () => {
    const w = await world();
    const updateAlias = w.functions.updateAlias.bind(w.functions);
    w.functions.updateAlias = async (name, alias, routing) => {
      const state = await updateAlias(name, alias, routing);
      w.functions.fns.get(name)?.aliases.delete(alias);
      return state;
    };
    await expect(promote({ plan, rollout }, w.deps)).rejects.toThrow(
      "hello-prod:live should serve version 2 alone but routes to (no alias)",
    );
  });

  it("needs the rollout Deploy wrote", async () => {
    const w = await world();
    await expect(promote({ plan }, w.deps)).rejects.toThrow(
      new TypeError("promote needs $.rollout (Deploy runs first)"),
    );
  });
});
