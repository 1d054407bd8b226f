/**
 * The one-deployment-per-service lock (acquireLock/releaseLock from @gantry/core) on real S3
 * conditional writes, as served by moto: If-None-Match to create, If-Match to take over a stale
 * lock and to release it.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { S3RecordStore } from "@gantry/aws";
import {
  acquireLock,
  type ExecutionStatus,
  type LockGrant,
  type LockRecord,
  recordKeys,
  releaseLock,
  systemClock,
} from "@gantry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Moto, s3Config, startMoto } from "../support/moto.ts";

const BUCKET = "gantry-test-state";
const STALE_OWNER = "arn:aws:states:us-east-1:123456789012:execution:deploy:finished-long-ago";

type LockState = Parameters<typeof acquireLock>[0];

let moto: Moto;
let s3: S3Client;
let records: S3RecordStore;

/** Every owner is RUNNING, except the stale one, whose execution SUCCEEDED. */
const workflows = {
  async executionStatus(owner: string): Promise<ExecutionStatus | undefined> {
    return owner === STALE_OWNER ? "SUCCEEDED" : "RUNNING";
  },
};

const executionArn = (name: string) =>
  `arn:aws:states:us-east-1:123456789012:execution:deploy:${name}`;

/** The parts of the state document the lock reads. */
function deployment(service: string, executionName: string): LockState {
  return {
    plan: { service, stage: "prod" },
    request: { version: "1.4.0" },
    execution: {
      id: executionArn(executionName),
      name: executionName,
      startedAt: new Date().toISOString(),
    },
  } as unknown as LockState;
}

const acquire = (service: string, executionName: string) =>
  acquireLock(deployment(service, executionName), {
    records,
    workflows,
    clock: systemClock,
  });

async function race(service: string, contenders: string[]) {
  const results = await Promise.allSettled(contenders.map((name) => acquire(service, name)));
  const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
  return { won, lost };
}

const storedLock = (service: string) => records.get<LockRecord>(recordKeys.lock(service));

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(s3Config(moto.endpoint));
  records = new S3RecordStore(s3, BUCKET);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

describe("the deployment lock on S3 conditional writes", () => {
  it.each([1, 2, 3])(
    "lets exactly one of ten concurrent executions take a free lock (round %i)",
    async (round) => {
      const service = `contended-${round}`;
      const contenders = Array.from({ length: 10 }, (_, i) => `run-${round}-${i}`);
      const { won, lost } = await race(service, contenders);

      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      expect(lost.map((e) => e.name)).toEqual(Array(9).fill("DeploymentInProgress"));
      const winner = won[0] as LockGrant;
      expect(winner.key).toBe(`locks/${service}.json`);
      expect((await storedLock(service))?.value.owner).toBe(winner.owner);
    },
  );

  it("recognises the owner when it asks again (a retried step)", async () => {
    const first = await acquire("retried", "run-a");
    const again = await acquire("retried", "run-a");
    expect(again).toEqual(first);
  });

  it("does nothing when a non-owner releases the lock", async () => {
    const grant = await acquire("held", "owner-run");
    await expect(releaseLock(deployment("held", "intruder-run"), { records })).resolves.toBe(false);
    expect((await storedLock("held"))?.value.owner).toBe(grant.owner);
  });

  it("deletes the lock when its owner releases it", async () => {
    await acquire("released", "owner-run");
    await expect(releaseLock(deployment("released", "owner-run"), { records })).resolves.toBe(true);
    await expect(storedLock("released")).resolves.toBeUndefined();
  });

  it("lets the next execution take the lock once it is released", async () => {
    await acquire("handover", "first-run");
    await releaseLock(deployment("handover", "first-run"), { records });
    const next = await acquire("handover", "second-run");
    expect(next.owner).toBe(executionArn("second-run"));
  });

  it.each([1, 2, 3])(
    "takes over a stale lock exactly once when two executions race for it (round %i)",
    async (round) => {
      const service = `stale-${round}`;
      const stale = await records.create<LockRecord>(recordKeys.lock(service), {
        owner: STALE_OWNER,
        service,
        version: "1.3.0",
        acquiredAt: "2026-11-01T00:00:00.000Z",
      });
      expect(stale).toBeDefined();

      const { won, lost } = await race(service, [`run-${round}-a`, `run-${round}-b`]);

      expect(won).toHaveLength(1);
      expect(lost.map((e) => e.name)).toEqual(["DeploymentInProgress"]);
      const winner = won[0] as LockGrant;
      expect(winner.brokeStaleLockOf).toBe(STALE_OWNER);
      const stored = await storedLock(service);
      expect(stored?.value).toMatchObject({ owner: winner.owner, brokeStaleLockOf: STALE_OWNER });
    },
  );
});
