import { describe, expect, it } from "vitest";
import { DeploymentInProgress, LockDamaged } from "../errors.ts";
import type { ExecutionStatus, StoredRecord } from "../ports.ts";
import { recordKeys } from "../state.ts";
import { fixedClock, T0, testExecution, testPlan, testRequest } from "../testing/fixtures.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
import { acquireLock, type LockRecord } from "./acquire-lock.ts";

const KEY = recordKeys.lock("hello-service");

function stateOf(name: string) {
  return { plan: testPlan(), request: testRequest(), execution: testExecution(name) };
}

function world(statuses: Record<string, ExecutionStatus> = {}) {
  const records = new MemoryRecords();
  const clock = fixedClock(T0);
  const asked: string[] = [];
  const workflows = {
    async executionStatus(arn: string) {
      asked.push(arn);
      return statuses[arn];
    },
  };
  return { records, clock, asked, deps: { records, workflows, clock } };
}

async function lockIn(records: MemoryRecords): Promise<StoredRecord<LockRecord> | undefined> {
  return records.get<LockRecord>(KEY);
}

describe("acquireLock", () => {
  it("takes a free lock and records who holds it, for which version, since when", async () => {
    const w = world();
    const a = stateOf("a");
    const grant = await acquireLock(a, w.deps);
    expect(grant).toEqual({
      key: KEY,
      owner: a.execution.id,
      acquiredAt: new Date(T0).toISOString(),
    });
    expect((await lockIn(w.records))?.value).toEqual({
      owner: a.execution.id,
      service: "hello-service",
      version: a.request.version,
      acquiredAt: new Date(T0).toISOString(),
    });
    expect(w.asked).toEqual([]);
  });

  it("lets the same execution acquire again without changing the lock (a retried Task)", async () => {
    const w = world();
    const a = stateOf("a");
    const first = await acquireLock(a, w.deps);
    const etag = (await lockIn(w.records))?.etag;
    w.clock.advance(5_000);
    const again = await acquireLock(a, w.deps);
    expect(again).toEqual(first);
    expect((await lockIn(w.records))?.etag).toBe(etag);
  });

  it("refuses with DeploymentInProgress naming the owner when the owner is still running", async () => {
    const a = stateOf("a");
    const b = stateOf("b");
    const w = world({ [a.execution.id]: "RUNNING" });
    await acquireLock(a, w.deps);
    const refused = acquireLock(b, w.deps);
    await expect(refused).rejects.toThrow(DeploymentInProgress);
    await expect(acquireLock(b, w.deps)).rejects.toThrow(
      `hello-service (prod) is being deployed by ${a.execution.id} (version ${a.request.version}, since ${new Date(T0).toISOString()})`,
    );
    expect((await lockIn(w.records))?.value.owner).toBe(a.execution.id);
    expect(w.asked).toContain(a.execution.id);
  });

  it.each<ExecutionStatus>(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])(
    "takes over a lock whose owner has %s, noting whose lock it broke",
    async (status) => {
      const a = stateOf("a");
      const b = stateOf("b");
      const w = world({ [a.execution.id]: status });
      await acquireLock(a, w.deps);
      w.clock.advance(60_000);
      const grant = await acquireLock(b, w.deps);
      expect(grant).toEqual({
        key: KEY,
        owner: b.execution.id,
        acquiredAt: new Date(T0 + 60_000).toISOString(),
        brokeStaleLockOf: a.execution.id,
      });
      expect((await lockIn(w.records))?.value).toMatchObject({
        owner: b.execution.id,
        brokeStaleLockOf: a.execution.id,
      });
    },
  );

  it("takes over a lock whose owner execution does not exist", async () => {
    const a = stateOf("a");
    const b = stateOf("b");
    const w = world({});
    await acquireLock(a, w.deps);
    const grant = await acquireLock(b, w.deps);
    expect(grant.owner).toBe(b.execution.id);
    expect(grant.brokeStaleLockOf).toBe(a.execution.id);
  });

  it("lets exactly one of several concurrent executions win a free lock", async () => {
    const states = ["a", "b", "c", "d", "e"].map(stateOf);
    const w = world(Object.fromEntries(states.map((s) => [s.execution.id, "RUNNING" as const])));
    const results = await Promise.allSettled(states.map((s) => acquireLock(s, w.deps)));
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(4);
    const winner = won[0]?.status === "fulfilled" ? won[0].value.owner : "";
    expect((await lockIn(w.records))?.value.owner).toBe(winner);
    for (const r of lost) {
      expect(r.status === "rejected" && r.reason).toBeInstanceOf(DeploymentInProgress);
      expect(r.status === "rejected" && (r.reason as Error).message).toContain(winner);
    }
  });

  it("lets exactly one of several concurrent executions break the same stale lock", async () => {
    const stale = stateOf("stale");
    const states = ["a", "b", "c", "d"].map(stateOf);
    const w = world({
      [stale.execution.id]: "FAILED",
      ...Object.fromEntries(states.map((s) => [s.execution.id, "RUNNING" as const])),
    });
    await acquireLock(stale, w.deps);
    const results = await Promise.allSettled(states.map((s) => acquireLock(s, w.deps)));
    const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(won).toHaveLength(1);
    expect(won[0]?.brokeStaleLockOf).toBe(stale.execution.id);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(3);
    expect((await lockIn(w.records))?.value.owner).toBe(won[0]?.owner);
  });

  it("gives up with DeploymentInProgress after losing the race three times", async () => {
    const w = world();
    // The lock is always taken when we try to create it and always gone when we read it.
    w.records.create = async () => undefined;
    w.records.get = async () => undefined;
    await expect(acquireLock(stateOf("a"), w.deps)).rejects.toThrow(
      new DeploymentInProgress("hello-service (prod): lost the race for the lock 3 times"),
    );
  });
});

describe("acquireLock on a damaged lock", () => {
  const damaged: readonly (readonly [string, string])[] = [
    ["bytes that are not JSON", '{"owner":"arn:aws:states:us-east-1:0:execution:x'],
    ["an empty object", ""],
    ["JSON that is not an object", "[1,2]"],
    ["an object without an owner", JSON.stringify({ service: "hello-service" })],
    [
      "another service's lock",
      JSON.stringify({ owner: "o", service: "other", version: "v", acquiredAt: "t" }),
    ],
  ];
  it.each(damaged)("fails LockDamaged and leaves it as it is (%s)", async (_what, json) => {
    const w = world();
    w.records.data.set(KEY, { json, etag: '"garbled"' });
    const error = await acquireLock(stateOf("a"), w.deps).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(LockDamaged);
    expect(error?.message).toContain(KEY);
    expect(error?.message).toContain("is damaged");
    expect(error?.message).toContain("gantry unlock hello-service --stage prod");
    expect(w.records.data.get(KEY)).toEqual({ json, etag: '"garbled"' });
    expect(w.asked).toEqual([]);
  });

  it("passes on a record store failure that is not about the lock's bytes", async () => {
    const w = world();
    w.records.faults.fail("records.get", () => new Error("network down"));
    w.records.data.set(KEY, { json: "{}", etag: '"e"' });
    await expect(acquireLock(stateOf("a"), w.deps)).rejects.toThrow("network down");
  });
});
