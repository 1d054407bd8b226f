import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRecords } from "../../../../test/support/memory-world.ts";
import type { ExecutionStatus } from "../ports.ts";
import { signingKeysFrom } from "../signing-keys.ts";
import { recordKeys } from "../state.ts";
import {
  type ApprovalServiceDeps,
  decideApproval,
  decideAsOperator,
  pendingApprovals,
} from "./decide.ts";
import { approvalLink } from "./links.ts";
import type { ApprovalRecord } from "./record.ts";

const NOW = Date.parse("2026-11-22T10:00:00Z");
const KEYS = signingKeysFrom("k".repeat(40));
const ID = "AAAAAAAAAAAAAAAAAAAAAAAA";

function record(id = ID, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id,
    stage: "prod",
    service: "hello-service",
    version: "3f2a9c1e0b7d",
    sha256: "a".repeat(64),
    artifactKey: "hello-service/3f2a9c1e0b7d.zip",
    execution: {
      id: `arn:aws:states:us-east-1:000000000000:execution:gantry-prod:${id}`,
      name: id,
    },
    trigger: { actor: "octocat" },
    approvers: ["alice@example.com"],
    requestedAt: new Date(NOW - 1000).toISOString(),
    expiresAt: new Date(NOW + 60_000).toISOString(),
    rollout: { steps: [10], stepWaitSeconds: 60, bakeSeconds: 60, alarms: [] },
    ...overrides,
  };
}

let records: MemoryRecords;
let statuses: Map<string, ExecutionStatus>;
let sent: unknown[];
let sendError: Error | undefined;
let deps: ApprovalServiceDeps;

async function store(r: ApprovalRecord) {
  await records.create(recordKeys.approval(r.id), r);
  await records.create(recordKeys.approvalToken(r.id), {
    approvalId: r.id,
    taskToken: `token-${r.id}`,
  });
  statuses.set(r.execution.id, "RUNNING");
}

beforeEach(async () => {
  records = new MemoryRecords();
  statuses = new Map();
  sent = [];
  sendError = undefined;
  deps = {
    records,
    secrets: { signingKeys: async () => KEYS },
    clock: { now: () => NOW },
    workflows: {
      sendTaskSuccess: async (token, output) => {
        if (sendError) throw sendError;
        sent.push({ token, output });
      },
      sendTaskFailure: async (token, error, cause) => {
        if (sendError) throw sendError;
        sent.push({ token, error, cause });
      },
      executionStatus: async (arn) => statuses.get(arn),
    },
  };
  await store(record());
});

function params(action: "approve" | "reject" = "approve") {
  const url = new URL(
    approvalLink(
      "https://x.example",
      {
        approvalId: ID,
        action,
        approver: "alice@example.com",
        expiresAt: Math.floor(NOW / 1000) + 60,
      },
      KEYS.current,
    ),
  );
  const q = url.searchParams;
  return {
    approvalId: ID,
    action: q.get("action"),
    approver: q.get("approver"),
    exp: q.get("exp"),
    kid: q.get("kid"),
    sig: q.get("sig"),
  };
}

describe("a decision that arrives too late", () => {
  it("is answered 410 and kept as undelivered when Step Functions says the task timed out", async () => {
    sendError = Object.assign(new Error("Task Timed Out"), { name: "TaskTimedOut" });
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 410,
      title: "No longer waiting",
    });
    const decision = JSON.parse(records.data.get(recordKeys.approvalDecision(ID))?.json ?? "{}");
    expect(decision).toMatchObject({
      decision: "approved",
      delivered: false,
      reason: "TaskTimedOut",
    });
  });

  it("is refused before anything is written when the approval has expired", async () => {
    records.data.clear();
    await store(record(ID, { expiresAt: new Date(NOW - 1).toISOString() }));
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 410,
      title: "Approval expired",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
  });

  it("rethrows other failures of Step Functions (they are retried by the caller, the decision stays)", async () => {
    sendError = Object.assign(new Error("throttled"), { name: "TransientError" });
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({ name: "TransientError" });
  });
});

describe("an operator at a terminal", () => {
  it("approves through the same service, recorded with channel operator", async () => {
    const outcome = await decideAsOperator(
      {
        approvalId: ID,
        action: "approve",
        operator: "alice@example.com",
        comment: "from the terminal",
      },
      deps,
    );
    expect(outcome.decision).toMatchObject({
      decision: "approved",
      by: "alice@example.com",
      channel: "operator",
      comment: "from the terminal",
    });
    expect(sent).toEqual([
      {
        token: `token-${ID}`,
        output: expect.objectContaining({ how: "operator", by: "alice@example.com" }),
      },
    ]);
  });

  it("must be one of the approvers", async () => {
    await expect(
      decideAsOperator(
        { approvalId: ID, action: "approve", operator: "mallory@example.com" },
        deps,
      ),
    ).rejects.toMatchObject({ status: 403 });
    expect(sent).toEqual([]);
  });

  it("cannot decide twice, nor after a link decided", async () => {
    await decideApproval(params("reject"), deps);
    await expect(
      decideAsOperator({ approvalId: ID, action: "approve", operator: "alice@example.com" }, deps),
    ).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("rejected by alice@example.com"),
    });
  });

  it("refuses a malformed id and an unknown one", async () => {
    await expect(
      decideAsOperator(
        { approvalId: "../x", action: "approve", operator: "alice@example.com" },
        deps,
      ),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      decideAsOperator(
        { approvalId: "Z".repeat(24), action: "approve", operator: "alice@example.com" },
        deps,
      ),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe("pending approvals", () => {
  it("lists only those still waiting: not decided, not expired, execution running; newest first", async () => {
    const newer = record("BBBBBBBBBBBBBBBBBBBBBBBB", { requestedAt: new Date(NOW).toISOString() });
    const expired = record("CCCCCCCCCCCCCCCCCCCCCCCC", {
      expiresAt: new Date(NOW - 1).toISOString(),
    });
    const stopped = record("DDDDDDDDDDDDDDDDDDDDDDDD");
    const decided = record("EEEEEEEEEEEEEEEEEEEEEEEE");
    for (const r of [newer, expired, stopped, decided]) await store(r);
    statuses.set(stopped.execution.id, "ABORTED");
    await decideAsOperator(
      { approvalId: decided.id, action: "approve", operator: "alice@example.com" },
      deps,
    );

    const pending = await pendingApprovals(deps);
    expect(pending.map((p) => p.id)).toEqual([newer.id, ID]);
  });
});

describe("an operator after the deadline", () => {
  it("is refused like a link would be: 410, nothing written, nothing sent", async () => {
    records.data.clear();
    await store(record(ID, { expiresAt: new Date(NOW - 1).toISOString() }));
    await expect(
      decideAsOperator({ approvalId: ID, action: "approve", operator: "alice@example.com" }, deps),
    ).rejects.toMatchObject({
      status: 410,
      title: "Approval expired",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
  });
});
