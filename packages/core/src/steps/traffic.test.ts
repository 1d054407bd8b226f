import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConcurrentModification } from "../errors.ts";
import type { Plan } from "../plan.ts";
import { T0, testPlan, testRollout } from "../testing/fixtures.ts";
import { prodWithTwoVersions } from "../testing/world.ts";
import { describeAlias, holdIsOver, nextCheckAt, shiftTraffic, weightsFor } from "./traffic.ts";

function withPoll(pollSeconds: number): Plan {
  const plan = testPlan();
  return { ...plan, rollout: { ...plan.rollout, pollSeconds } };
}
const iso = (ms: number) => new Date(ms).toISOString();

describe("nextCheckAt", () => {
  it("is one poll interval from now when the hold ends later", () => {
    expect(nextCheckAt(withPoll(10), T0, T0 + 60_000)).toBe(iso(T0 + 10_000));
  });

  it("is the end of the hold when that comes before the next poll", () => {
    expect(nextCheckAt(withPoll(10), T0, T0 + 3_000)).toBe(iso(T0 + 3_000));
  });

  it("in real time, is a whole second, never before the hold ends or a poll from now, and at most a second later", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.double({ min: 0.001, max: 3600, noNaN: true }),
        fc.integer({ min: -86_400_000, max: 86_400_000 }),
        (now, poll, holdOffset) => {
          const holdEndsAt = now + holdOffset;
          const due = Math.min(holdEndsAt, now + poll * 1000);
          const next = Date.parse(nextCheckAt(withPoll(poll), now, holdEndsAt));
          expect(Math.abs(next % 1000)).toBe(0);
          expect(next).toBeGreaterThanOrEqual(Math.floor(due));
          expect(next).toBeLessThan(due + 1000);
        },
      ),
    );
  });

  it("rounds a fractional due time up: Step Functions would drop the fraction and wake early", () => {
    expect(nextCheckAt(withPoll(20), T0 + 700, T0 + 60_000)).toBe(iso(T0 + 21_000));
  });

  it("keeps milliseconds in scaled time (the local control plane)", () => {
    const scaled = { ...withPoll(0.2), timeScale: 0.01 };
    expect(nextCheckAt(scaled, T0 + 7, T0 + 60_000)).toBe(iso(T0 + 207));
  });
});

describe("holdIsOver", () => {
  it("allows 2% of the poll interval of slack", () => {
    // 10 s poll -> 200 ms slack
    const plan = withPoll(10);
    expect(holdIsOver(plan, T0 - 200, iso(T0))).toBe(true);
    expect(holdIsOver(plan, T0 - 201, iso(T0))).toBe(false);
  });

  it("caps the slack at one second", () => {
    // 60 s poll -> 1.2 s, capped to 1 s
    const plan = withPoll(60);
    expect(holdIsOver(plan, T0 - 1_000, iso(T0))).toBe(true);
    expect(holdIsOver(plan, T0 - 1_001, iso(T0))).toBe(false);
  });

  it("is over at and after the end of the hold", () => {
    expect(holdIsOver(withPoll(10), T0, iso(T0))).toBe(true);
    expect(holdIsOver(withPoll(10), T0 + 5_000, iso(T0))).toBe(true);
  });

  it("scales the slack with scaled time", () => {
    // 0.1 s poll -> 2 ms slack
    const plan = withPoll(0.1);
    expect(holdIsOver(plan, T0 - 2, iso(T0))).toBe(true);
    expect(holdIsOver(plan, T0 - 3, iso(T0))).toBe(false);
  });
});

describe("weightsFor", () => {
  it("turns a percentage for the new version into Lambda's fraction", () => {
    expect(weightsFor("5", 10)).toEqual({ "5": 0.1 });
    expect(weightsFor("12", 25)).toEqual({ "12": 0.25 });
    expect(weightsFor("2", 99)).toEqual({ "2": 0.99 });
  });
});

describe("describeAlias", () => {
  it("says when there is no alias", () => {
    expect(describeAlias(undefined)).toBe("(no alias)");
  });

  it("names the primary version of an unweighted alias", () => {
    expect(describeAlias({ name: "live", version: "3", weights: {} })).toBe("version 3");
  });

  it("adds each weighted version as a percentage", () => {
    expect(describeAlias({ name: "live", version: "3", weights: { "4": 0.1, "5": 0.255 } })).toBe(
      "version 3 + 10% to 4 + 26% to 5",
    );
  });
});

describe("shiftTraffic", () => {
  it("gives the new version the step's share, keeps the previous one primary, and restarts the hold", async () => {
    const { functions } = await prodWithTwoVersions();
    const plan = testPlan();
    const rollout = testRollout({ checks: 3 });
    const next = await shiftTraffic(functions, plan, rollout, 1, T0);
    expect(functions.alias("hello-prod", "live")).toMatchObject({
      version: "1",
      weights: { "2": 0.25 },
    });
    expect(next).toEqual({
      ...rollout,
      phase: "steps",
      stepIndex: 1,
      weight: 25,
      // The version analysis's window for this step starts with the shift.
      holdStartedAt: iso(T0),
      holdEndsAt: iso(T0 + 60_000),
      nextCheckAt: iso(T0 + 10_000),
      // The hold Task's timeout: the step's 60 s hold plus the 60 s grace.
      holdTimeoutSeconds: 120,
    });
  });

  it("moves on from a step the rollout already set", async () => {
    const { functions } = await prodWithTwoVersions();
    await functions.updateAlias("hello-prod", "live", { version: "1", weights: { "2": 0.1 } });
    await shiftTraffic(functions, testPlan(), testRollout(), 2, T0);
    expect(functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.5 });
  });

  it("refuses an alias whose primary version someone else changed", async () => {
    const { functions } = await prodWithTwoVersions();
    await functions.updateAlias("hello-prod", "live", { version: "2", weights: {} });
    await expect(shiftTraffic(functions, testPlan(), testRollout(), 1, T0)).rejects.toThrow(
      new ConcurrentModification(
        "hello-prod:live changed during the rollout: it now routes to version 2",
      ),
    );
  });

  it("refuses an alias that routes traffic to a version that is not ours", async () => {
    const { functions } = await prodWithTwoVersions();
    const rollout = testRollout({ newVersion: "3" });
    await functions.updateAlias("hello-prod", "live", { version: "1", weights: { "2": 0.1 } });
    await expect(shiftTraffic(functions, testPlan(), rollout, 1, T0)).rejects.toThrow(
      ConcurrentModification,
    );
    expect(functions.alias("hello-prod", "live")?.weights).toEqual({ "2": 0.1 });
  });

  it("does not overwrite an alias that changed after it was read", async () => {
    const { functions } = await prodWithTwoVersions();
    const getAlias = functions.getAlias.bind(functions);
    functions.getAlias = async (name, alias) => {
      const read = await getAlias(name, alias);
      // Someone else moves the alias between this read and the shift's update.
      await functions.updateAlias(name, alias, { version: "2", weights: {} });
      return read;
    };
    await expect(shiftTraffic(functions, testPlan(), testRollout(), 1, T0)).rejects.toMatchObject({
      name: "ConcurrentModification",
    });
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "2", weights: {} });
  });

  it("refuses when the alias is gone", async () => {
    const { functions } = await prodWithTwoVersions();
    functions.fns.get("hello-prod")?.aliases.delete("live");
    await expect(shiftTraffic(functions, testPlan(), testRollout(), 1, T0)).rejects.toThrow(
      "hello-prod:live changed during the rollout: it now routes to (no alias)",
    );
  });

  it("refuses a step index the plan does not have", async () => {
    const { functions } = await prodWithTwoVersions();
    await expect(shiftTraffic(functions, testPlan(), testRollout(), 3, T0)).rejects.toThrow(
      new RangeError("no traffic step 3"),
    );
  });
});
