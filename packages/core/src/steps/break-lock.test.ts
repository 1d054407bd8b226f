import { beforeEach, describe, expect, it } from "vitest";
import { LOCAL_OPERATOR } from "../approval/operators.ts";
import { sha256Hex } from "../checksum.ts";
import type { ExecutionStatus } from "../ports.ts";
import { recordKeys } from "../state.ts";
import { fixedClock, T0 } from "../testing/fixtures.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
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
  };
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

  it("answers 404 when there is no lock, 400 for a name that is not a service's", async () => {
    expect((await refusal(inspectLock(request, deps))).status).toBe(404);
    expect(
      (await refusal(inspectLock({ ...request, service: "../approvals/x" }, deps))).status,
    ).toBe(400);
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
    expect(done.audit).toMatch(/^audit\/locks\/hello-service\/2026-.*\.json$/);
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
    expect(error.message).toContain("still running");
    expect(records.data.get(KEY)?.json).toBe(LOCK);
    expect(audits()).toEqual([]);
  });

  it("refuses a lock that changed since it was inspected (another ETag), and writes nothing", async () => {
    put(LOCK, '"newer"');
    const error = await refusal(breakLock({ ...request, etag: '"held"' }, deps));
    expect(error.status).toBe(409);
    expect(error.title).toBe("Lock changed");
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
  });

  it("refuses a damaged lock without forceDamaged, and breaks it with it", async () => {
    put(GARBLED);
    const refused = await refusal(breakLock(request, deps));
    expect(refused.status).toBe(409);
    expect(refused.title).toBe("Lock damaged");
    expect(refused.message).toContain("--force-damaged");
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

  it("wants a reason, kept free of control characters", async () => {
    put(LOCK);
    expect((await refusal(breakLock({ ...request, reason: "  " }, deps))).status).toBe(400);
    expect((await refusal(breakLock({ ...request, reason: "x".repeat(501) }, deps))).status).toBe(
      400,
    );
    const done = await breakLock({ ...request, reason: "bad\u001b[2J restore\u202e" }, deps);
    expect(auditRecord(done.audit).reason).toBe("bad [2J restore\\u{202E}");
  });
});
