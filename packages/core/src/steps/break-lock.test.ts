import { beforeEach, describe, expect, it } from "vitest";
import { LOCAL_OPERATOR } from "../approval/operators.ts";
import { sha256Hex } from "../checksum.ts";
import { type ExecutionStatus, silentLog } from "../ports.ts";
import { recordKeys } from "../state.ts";
import { fixedClock, T0 } from "../testing/fixtures.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
import { rejectionOf } from "../testing/rejection.ts";
import {
  type BreakLockDeps,
  breakLock,
  inspectLock,
  type LockBreakAuditRecord,
  LockBreakRefused,
} from "./break-lock.ts";

const KEY = recordKeys.lock("hello-service");
const OWNER = "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello-1";
const ALICE_ARN = "arn:aws:sts::123456789012:assumed-role/GantryOperators/alice";
const GARBLED = `{"owner":"${OWNER}","service":"hel\u0000\u0000`;
const LOCK = JSON.stringify({
  owner: OWNER,
  service: "hello-service",
  version: "3f2a9c1",
  acquiredAt: "2026-11-30T12:00:00.000Z",
});

let records: MemoryRecords;
let statuses: Map<string, ExecutionStatus>;
let deps: BreakLockDeps;
/** What the step logged at info and warn level: the operators' trail. */
let logged: [string, ...Record<string, unknown>[]][];

beforeEach(() => {
  records = new MemoryRecords();
  statuses = new Map();
  deps = {
    records,
    bytes: records,
    workflows: { executionStatus: async (arn) => statuses.get(arn) },
    operators: {
      "alice@example.com": { iam: [ALICE_ARN], local: true },
      "bob@example.com": { iam: ["arn:aws:iam::123456789012:user/bob"] },
    },
    stage: "prod",
    clock: fixedClock(T0),
    log: {
      ...silentLog,
      info: (...args: [string, ...Record<string, unknown>[]]) => logged.push(args),
      warn: (...args: [string, ...Record<string, unknown>[]]) => logged.push(args),
    },
  };
  logged = [];
});

const put = (json: string, etag = '"held"') => records.data.set(KEY, { json, etag });
const audits = () => [...records.data.keys()].filter((k) => k.startsWith("audit/locks/"));
const auditRecord = (key: string) =>
  JSON.parse(records.data.get(key)?.json ?? "{}") as LockBreakAuditRecord;
async function refusal(promise: Promise<unknown>): Promise<LockBreakRefused> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LockBreakRefused);
  // The operator API and the CLI tell a refusal from a failure by its name.
  expect((error as Error).name).toBe("LockBreakRefused");
  return error as LockBreakRefused;
}
const request = { service: "hello-service", principal: ALICE_ARN, reason: "garbled by a restore" };

describe("inspectLock", () => {
  it("shows a readable lock, its owner's status, and the ETag to break it with", async () => {
    put(LOCK);
    statuses.set(OWNER, "FAILED");
    expect(await inspectLock(request, deps)).toEqual({
      key: KEY,
      etag: '"held"',
      size: LOCK.length,
      sha256: sha256Hex(LOCK),
      lock: JSON.parse(LOCK),
      owner: OWNER,
      ownerStatus: "FAILED",
    });
  });

  it("says what is wrong with a damaged lock, and which execution its bytes still name", async () => {
    put(GARBLED);
    statuses.set(OWNER, "SUCCEEDED");
    expect(await inspectLock(request, deps)).toMatchObject({
      damaged: "is not JSON",
      owner: OWNER,
      ownerStatus: "SUCCEEDED",
    });
  });

  it("reports NOT_FOUND for an owner Step Functions does not know", async () => {
    put(LOCK);
    expect(await inspectLock(request, deps)).toMatchObject({
      owner: OWNER,
      ownerStatus: "NOT_FOUND",
    });
  });

  it("takes a readable lock's owner from its owner field, whatever the order of its keys", async () => {
    const stale = "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello-0";
    // As `jq -S` restores it: brokeStaleLockOf sorts before owner.
    const { owner, service, version, acquiredAt } = JSON.parse(LOCK);
    put(JSON.stringify({ acquiredAt, brokeStaleLockOf: stale, owner, service, version }));
    statuses.set(OWNER, "FAILED");
    statuses.set(stale, "SUCCEEDED");
    expect(await inspectLock(request, deps)).toMatchObject({ owner: OWNER, ownerStatus: "FAILED" });
  });

  it.each([
    "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello-1",
    "arn:aws-cn:states:cn-north-1:123456789012:execution:gantry-prod:hello-1",
    "arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:gantry-prod:hello-1",
  ])("finds the execution still legible in a damaged lock (%s)", async (arn) => {
    put(`{"owner":"${arn}","service":"hel\u0000`);
    statuses.set(arn, "RUNNING");
    expect(await inspectLock(request, deps)).toMatchObject({
      damaged: "is not JSON",
      owner: arn,
      ownerStatus: "RUNNING",
    });
  });

  it("reads a lock of up to 64 KiB, and calls a larger object damaged without parsing it", async () => {
    // JSON allows trailing whitespace: the padded lock is still a lock.
    const padded = (size: number) => LOCK + " ".repeat(size - LOCK.length);
    statuses.set(OWNER, "FAILED");
    put(padded(64 * 1024));
    const largest = await inspectLock(request, deps);
    expect(largest).toMatchObject({ size: 64 * 1024, lock: JSON.parse(LOCK), owner: OWNER });
    expect(largest.damaged).toBeUndefined();

    put(padded(64 * 1024 + 1));
    const tooLarge = await inspectLock(request, deps);
    expect(tooLarge).toMatchObject({
      size: 64 * 1024 + 1,
      damaged: "is too large to be a lock",
      owner: OWNER,
      ownerStatus: "FAILED",
    });
    expect(tooLarge.lock).toBeUndefined();
  });

  it("answers 404 when there is no lock", async () => {
    const error = await refusal(inspectLock(request, deps));
    expect(error.status).toBe(404);
    expect(error.title).toBe("No lock");
    expect(error.message).toBe("hello-service (prod) holds no lock: nothing to break");
  });

  it.each([
    "../approvals/x",
    "hello-service/../../approvals/x",
    "Hello-service",
    "9-lives",
    "",
    "a".repeat(41),
  ])("answers 400 for %j, which is not a service name, and reads nothing", async (service) => {
    const error = await refusal(inspectLock({ ...request, service }, deps));
    expect(error.status).toBe(400);
    expect(error.title).toBe("Bad request");
    expect(error.message).toBe("that is not a service name");
    expect(records.faults.calls).toEqual([]);
  });

  it("takes a service name of up to 40 characters", async () => {
    const error = await refusal(inspectLock({ ...request, service: "a".repeat(40) }, deps));
    expect(error.status).toBe(404);
  });

  it("is for registered operators only, and reads nothing for anyone else", async () => {
    put(LOCK);
    const eve = "arn:aws:iam::123456789012:user/eve";
    const error = await refusal(inspectLock({ ...request, principal: eve }, deps));
    expect(error.status).toBe(403);
    expect(records.faults.calls).toEqual([]);
  });
});

describe("breakLock", () => {
  it("breaks the lock of a finished execution, and audits who, when, why and what", async () => {
    put(LOCK);
    statuses.set(OWNER, "FAILED");
    const done = await breakLock({ ...request, etag: '"held"' }, deps);

    expect(done).toMatchObject({ broken: true, key: KEY, previous: { owner: OWNER } });
    expect(records.data.has(KEY)).toBe(false);
    expect(audits()).toEqual([done.audit]);
    // One new key per attempt, with no colons (T0 is 2026-11-01T12:00:00.000Z).
    expect(done.audit).toMatch(
      /^audit\/locks\/hello-service\/2026-11-01T12-00-00\.000Z-[0-9a-f]{8}\.json$/,
    );
    expect(logged).toEqual([["lock break", { key: KEY, principal: ALICE_ARN, result: "broken" }]]);
    expect(auditRecord(done.audit)).toEqual({
      kind: "lock-break",
      stage: "prod",
      service: "hello-service",
      key: KEY,
      principal: ALICE_ARN,
      operators: ["alice@example.com"],
      reason: "garbled by a restore",
      at: new Date(T0).toISOString(),
      forceDamaged: false,
      previous: {
        key: KEY,
        etag: '"held"',
        size: LOCK.length,
        sha256: sha256Hex(LOCK),
        lock: JSON.parse(LOCK),
        owner: OWNER,
        ownerStatus: "FAILED",
        base64: Buffer.from(LOCK).toString("base64"),
      },
      result: "broken",
    });
  });

  it("refuses while the lock's owner is running, and writes nothing", async () => {
    put(LOCK);
    statuses.set(OWNER, "RUNNING");
    const error = await refusal(breakLock(request, deps));
    expect(error.status).toBe(409);
    expect(error.title).toBe("Owner running");
    expect(error.message).toBe(
      `${OWNER} is still running and holds ${KEY}: nothing was deleted. ` +
        "Let it finish, or stop it (gantry stop <execution>): a stopped deployment releases its lock.",
    );
    expect(records.data.get(KEY)?.json).toBe(LOCK);
    expect(audits()).toEqual([]);
  });

  it("refuses a lock that changed since it was inspected (another ETag), and writes nothing", async () => {
    put(LOCK, '"newer"');
    const error = await refusal(breakLock({ ...request, etag: '"held"' }, deps));
    expect(error.status).toBe(409);
    expect(error.title).toBe("Lock changed");
    expect(error.message).toBe(
      `the lock ${KEY} is no longer the one you inspected (ETag "newer", not "held"); ` +
        "nothing was deleted: look again",
    );
    expect(error.inspection?.etag).toBe('"newer"');
    expect(records.data.has(KEY)).toBe(true);
    expect(audits()).toEqual([]);
  });

  it("deletes only the bytes it inspected: a lock replaced meanwhile survives, and the attempt is audited", async () => {
    put(LOCK);
    const realDelete = records.delete.bind(records);
    records.delete = async (key, etag) => {
      put(LOCK, '"replaced"'); // a deployment took the lock in between
      return realDelete(key, etag);
    };
    const error = await refusal(breakLock(request, deps));
    expect(error.status).toBe(409);
    expect(records.data.get(KEY)?.etag).toBe('"replaced"');
    const [audit] = audits();
    expect(audit && auditRecord(audit).result).toBe("lock-changed");
    expect(error.title).toBe("Lock changed");
    expect(error.message).toBe(
      `the lock ${KEY} changed while it was being broken; nothing was deleted ` +
        `(the attempt is recorded in ${audit}): look again`,
    );
    expect(logged).toEqual([
      ["lock break", { key: KEY, principal: ALICE_ARN, result: "lock-changed" }],
    ]);
  });

  it("refuses a damaged lock without forceDamaged, and breaks it with it", async () => {
    put(GARBLED);
    const refused = await refusal(breakLock(request, deps));
    expect(refused.status).toBe(409);
    expect(refused.title).toBe("Lock damaged");
    expect(refused.message).toBe(
      `the lock ${KEY} is damaged (it is not JSON), so its owner cannot be checked: nothing was ` +
        "deleted. Make sure no deployment of hello-service is running, then pass --force-damaged " +
        "(forceDamaged: true).",
    );
    expect(records.data.has(KEY)).toBe(true);
    expect(audits()).toEqual([]);

    const done = await breakLock({ ...request, forceDamaged: true }, deps);
    expect(records.data.has(KEY)).toBe(false);
    const audit = auditRecord(done.audit);
    expect(audit).toMatchObject({
      forceDamaged: true,
      result: "broken",
      previous: { damaged: "is not JSON", sha256: sha256Hex(GARBLED), owner: OWNER },
    });
    expect(Buffer.from(audit.previous.base64, "base64").toString("utf8")).toBe(GARBLED);
  });

  it("refuses a damaged lock whose bytes still name a running execution, even with forceDamaged", async () => {
    put(GARBLED);
    statuses.set(OWNER, "RUNNING");
    const error = await refusal(breakLock({ ...request, forceDamaged: true }, deps));
    expect(error.status).toBe(409);
    expect(records.data.has(KEY)).toBe(true);
  });

  it("is for registered operators only: the principal decides, not the body", async () => {
    put(LOCK);
    const error = await refusal(
      breakLock({ ...request, principal: "arn:aws:iam::123456789012:user/eve" }, deps),
    );
    expect(error.status).toBe(403);
    expect(records.data.has(KEY)).toBe(true);
    expect(audits()).toEqual([]);
    // The local operator is an operator when the registry marks one `local`.
    statuses.set(OWNER, "ABORTED");
    const local = await breakLock({ ...request, principal: LOCAL_OPERATOR }, deps);
    expect(auditRecord(local.audit)).toMatchObject({
      principal: LOCAL_OPERATOR,
      operators: ["alice@example.com"],
    });
  });

  it("breaks nothing when its audit record cannot be created", async () => {
    put(LOCK);
    records.create = async () => undefined; // the audit key is taken
    const error = await rejectionOf(breakLock(request, deps));
    expect(error.message).toMatch(
      /^the audit record audit\/locks\/hello-service\/\S+\.json already exists$/,
    );
    expect(records.data.get(KEY)?.json).toBe(LOCK);
  });

  it("still breaks the lock when its audit record cannot be completed: it stays pending", async () => {
    const slowDown = () =>
      Object.assign(new Error("Please reduce your request rate."), { name: "SlowDown" });
    put(LOCK);
    records.faults.fail("records.replace", slowDown);
    const done = await breakLock(request, deps);
    expect(records.data.has(KEY)).toBe(false);
    expect(auditRecord(done.audit).result).toBe("pending");
    expect(logged).toEqual([
      [
        "could not complete the lock-break audit record",
        { auditKey: done.audit, error: "SlowDown" },
      ],
      ["lock break", { key: KEY, principal: ALICE_ARN, result: "broken" }],
    ]);
    // Without a log as well.
    const { log: _, ...quiet } = deps;
    put(LOCK);
    records.faults.fail("records.replace", slowDown);
    const again = await breakLock(request, quiet);
    expect(auditRecord(again.audit).result).toBe("pending");
    expect(records.data.has(KEY)).toBe(false);
  });

  it.each([
    ["arn:aws:iam::123456789012:user/eve", "arn:aws:iam::123456789012:user/eve"],
    [LOCAL_OPERATOR, "the local operator"],
    ["", "nobody"],
  ])("refuses %j (403), naming who was refused", async (principal, who) => {
    put(LOCK);
    deps = {
      ...deps,
      operators: { "bob@example.com": { iam: ["arn:aws:iam::123456789012:user/bob"] } },
    };
    const error = await refusal(breakLock({ ...request, principal }, deps));
    expect(error.status).toBe(403);
    expect(error.title).toBe("Not an operator");
    expect(error.message).toBe(
      `${who} is not a registered operator (gantry.registry.ts, operators): only operators may break a lock`,
    );
    expect(records.data.get(KEY)?.json).toBe(LOCK);
  });

  it.each([
    ["abc", "abc"],
    ["x".repeat(500), "x".repeat(500)],
    ["  padded  ", "padded"],
    ["unit\u001fseparator", "unit separator"],
    ["del\u007fete", "del ete"],
    ["c1\u0080\u009fcontrols", "c1  controls"],
    ["no\u00a0break", "no\u00a0break"],
    ["bad\u001b[2J restore\u202e", "bad [2J restore\\u{202E}"],
  ])(
    "keeps the reason %j as %j: control characters go, invisible ones show",
    async (reason, kept) => {
      put(LOCK);
      const done = await breakLock({ ...request, reason }, deps);
      expect(auditRecord(done.audit).reason).toBe(kept);
    },
  );

  it.each([
    ["", "say why the lock is broken (--reason TEXT)"],
    ["  ab  ", "say why the lock is broken (--reason TEXT)"],
    ["\u0000\u0001\u0002", "say why the lock is broken (--reason TEXT)"],
    ["x".repeat(501), "the reason is longer than 500 characters"],
  ])("refuses the reason %j (400), and writes nothing", async (reason, message) => {
    put(LOCK);
    const error = await refusal(breakLock({ ...request, reason }, deps));
    expect(error.status).toBe(400);
    expect(error.title).toBe("Bad request");
    expect(error.message).toBe(message);
    expect(records.data.get(KEY)?.json).toBe(LOCK);
    expect(audits()).toEqual([]);
  });
});
