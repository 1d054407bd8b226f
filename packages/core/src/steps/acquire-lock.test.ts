import { describe, expect, it } from "vitest";
import { DeploymentInProgress, LockDamaged } from "../errors.ts";
import { type ExecutionStatus, type StoredRecord, silentLog } from "../ports.ts";
import { recordKeys } from "../state.ts";
import { fixedClock, T0, testExecution, testPlan, testRequest } from "../testing/fixtures.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
import { rejectionOf } from "../testing/rejection.ts";
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
  // What the step logs at warn level: the operator's trail of broken locks.
  const warned: [string, ...Record<string, unknown>[]][] = [];
  const log = {
    ...silentLog,
    warn: (...args: [string, ...Record<string, unknown>[]]) => warned.push(args),
  };
  return { records, clock, asked, warned, deps: { records, workflows, clock, log } };
}

async function lockIn(records: MemoryRecords): Promise<StoredRecord<LockRecord> | undefined> {
  return records.get<LockRecord>(KEY);
}

describe("acquireLock", () => {
  it("takes a free lock and records who holds it, for which version, since when", async () => {
    const w = world();
    const a = stateOf("a");
    const grant = await acquireLock(a, w.deps);
    // One conditional create: a free lock is neither read back nor its owner looked up.
    expect(w.records.faults.calls).toEqual(["records.create"]);
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
    expect(w.warned).toEqual([]);
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
      expect(w.warned).toEqual([
        ["breaking a stale lock", { key: KEY, staleOwner: a.execution.id, ownerStatus: status }],
      ]);
    },
  );

  it("takes over a lock whose owner execution does not exist, logging it as NOT_FOUND", async () => {
    const a = stateOf("a");
    const b = stateOf("b");
    const w = world({});
    await acquireLock(a, w.deps);
    w.records.faults.calls.length = 0;
    const grant = await acquireLock(b, w.deps);
    expect(grant.owner).toBe(b.execution.id);
    expect(grant.brokeStaleLockOf).toBe(a.execution.id);
    // Read once, then one conditional replace on the ETag read: winning it is the grant.
    expect(w.records.faults.calls).toEqual(["records.create", "records.get", "records.replace"]);
    expect(w.warned).toEqual([
      ["breaking a stale lock", { key: KEY, staleOwner: a.execution.id, ownerStatus: "NOT_FOUND" }],
    ]);
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
    expect((await lockIn(w.records))?.value.owner).toBe(won[0]?.owner);
    // Each loser looks again and fails as the workflow expects: DeploymentInProgress naming the
    // winner, not a crash on the replace it lost.
    const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    expect(lost).toHaveLength(3);
    for (const error of lost) {
      expect(error.name).toBe("DeploymentInProgress");
      expect(error.message).toContain(`is being deployed by ${won[0]?.owner}`);
    }
  });

  // Each lost attempt: the create finds the lock taken, and the read finds it already gone.
  function loseTheRace(w: ReturnType<typeof world>, times: number) {
    const create = w.records.create.bind(w.records);
    const get = w.records.get.bind(w.records);
    let creates = 0;
    w.records.create = async <T>(key: string, value: T) =>
      ++creates <= times ? undefined : create(key, value);
    w.records.get = async <T>(key: string) => (creates <= times ? undefined : get<T>(key));
    return { creates: () => creates };
  }

  it("takes a free lock on the third and last attempt after losing the race twice", async () => {
    const w = world();
    loseTheRace(w, 2);
    const a = stateOf("a");
    expect(await acquireLock(a, w.deps)).toMatchObject({ owner: a.execution.id });
    expect((await lockIn(w.records))?.value.owner).toBe(a.execution.id);
  });

  it("breaks a stale lock on the third and last attempt after losing the race twice", async () => {
    const stale = stateOf("stale");
    const w = world({ [stale.execution.id]: "FAILED" });
    await acquireLock(stale, w.deps);
    const calls = w.records.faults.calls;
    calls.length = 0;
    // Twice the read finds no lock (a release in between), the third time the stale one.
    const get = w.records.get.bind(w.records);
    let reads = 0;
    w.records.get = async (key) => (++reads <= 2 ? undefined : get(key));
    const a = stateOf("a");
    const { log: _, ...withoutLog } = w.deps; // the log is optional
    const grant = await acquireLock(a, withoutLog);
    expect(grant).toMatchObject({ owner: a.execution.id, brokeStaleLockOf: stale.execution.id });
    expect(calls.filter((c) => c === "records.create")).toHaveLength(3);
  });

  it("gives up with DeploymentInProgress after losing the race exactly three times", async () => {
    const w = world();
    const race = loseTheRace(w, 3);
    const error = await rejectionOf(acquireLock(stateOf("a"), w.deps));
    expect(error.name).toBe("DeploymentInProgress");
    expect(error.message).toBe("hello-service (prod): lost the race for the lock 3 times");
    expect(race.creates()).toBe(3);
  });
});

describe("acquireLock on a damaged lock", () => {
  const lock = { owner: "o", service: "hello-service", version: "v", acquiredAt: "t" };
  // [what, the stored bytes, what the error says is wrong with them]
  const damaged: readonly (readonly [string, string, string])[] = [
    ["bytes that are not JSON", '{"owner":"arn:aws:states:us-east-1:0:execution:x', "is not JSON"],
    ["no bytes at all", "", "is not JSON"],
    ["JSON that is an array", "[1,2]", "is not a JSON object"],
    ["JSON null", "null", "is not a JSON object"],
    ["a JSON number", "42", "is not a JSON object"],
    [
      "an object without an owner",
      JSON.stringify({ service: "hello-service" }),
      "has no owner (not the shape Gantry writes)",
    ],
    [
      "an empty owner",
      JSON.stringify({ ...lock, owner: "" }),
      "has no owner (not the shape Gantry writes)",
    ],
    [
      "a version that is not a string",
      JSON.stringify({ ...lock, version: 7 }),
      "has no version (not the shape Gantry writes)",
    ],
    [
      "an empty acquiredAt",
      JSON.stringify({ ...lock, acquiredAt: "" }),
      "has no acquiredAt (not the shape Gantry writes)",
    ],
    [
      "another service's lock",
      JSON.stringify({ ...lock, service: "other" }),
      "names another service (other)",
    ],
  ];
  it.each(damaged)(
    "fails LockDamaged and leaves it as it is (%s)",
    async (_what, json, problem) => {
      const w = world();
      w.records.data.set(KEY, { json, etag: '"garbled"' });
      const error = await rejectionOf(acquireLock(stateOf("a"), w.deps));
      expect(error.name).toBe("LockDamaged");
      expect(error.message).toContain(
        `the lock ${KEY} of hello-service (prod) is damaged: it ${problem}. `,
      );
      expect(error.message).toContain("gantry unlock hello-service --stage prod");
      expect(w.records.data.get(KEY)).toEqual({ json, etag: '"garbled"' });
      expect(w.asked).toEqual([]);
    },
  );

  it("tells the operator why nothing was touched and how to check and break the lock", async () => {
    const w = world();
    w.records.data.set(KEY, { json: "[]", etag: '"garbled"' });
    const error = await rejectionOf(acquireLock(stateOf("a"), w.deps));
    expect(error).toBeInstanceOf(LockDamaged);
    expect(error.message).toBe(
      `the lock ${KEY} of hello-service (prod) is damaged: it is not a JSON object. ` +
        "Nobody can tell whether a deployment holds it, so Gantry neither takes it over nor " +
        "releases it, and every deployment of this service fails until an operator breaks it. " +
        "Check that no deployment of hello-service is running (gantry list --service " +
        "hello-service --stage prod --status RUNNING), then run: " +
        'gantry unlock hello-service --stage prod --force-damaged --reason "<why>" ' +
        '(docs/operations.md, "LockDamaged").',
    );
  });

  it("passes on a record store failure that is not about the lock's bytes", async () => {
    const w = world();
    w.records.faults.fail("records.get", () => new Error("network down"));
    w.records.data.set(KEY, { json: "{}", etag: '"e"' });
    await expect(acquireLock(stateOf("a"), w.deps)).rejects.toThrow("network down");
  });
});
