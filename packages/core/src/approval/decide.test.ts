import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../ports.ts";
import type { Registry } from "../registry.ts";
import { signingKeysFrom } from "../signing-keys.ts";
import { recordKeys } from "../state.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
import {
  type ApprovalServiceDeps,
  decideApproval,
  decideAsOperator,
  pendingApprovals,
} from "./decide.ts";
import { approvalLink } from "./links.ts";
import { LOCAL_OPERATOR } from "./operators.ts";
import type { ApprovalDecisionRecord, ApprovalRecord } from "./record.ts";
import { decisionSealValid } from "./seal.ts";

const NOW = Date.parse("2026-11-22T10:00:00Z");
const KEYS = signingKeysFrom("k".repeat(40));
const DECISION_KEYS = signingKeysFrom("d".repeat(40));
const ALICE_ARN = "arn:aws:iam::111122223333:user/alice";
const OPERATORS: Registry["operators"] = {
  "alice@example.com": { iam: [ALICE_ARN], local: true },
  "bob@example.com": { local: true },
  "mallory@example.com": { iam: ["arn:aws:iam::111122223333:user/mallory"] },
};
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
      startedAt: new Date(NOW - 5000).toISOString(),
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
    decisionKeys: { signingKeys: async () => DECISION_KEYS },
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

describe("the decision record", () => {
  const stored = () =>
    JSON.parse(
      records.data.get(recordKeys.approvalDecision(ID))?.json ?? "{}",
    ) as ApprovalDecisionRecord;

  it("names the execution, the service and stage, the version and the bytes, and is sealed", async () => {
    await decideApproval(params(), deps);
    const decision = stored();
    expect(decision).toMatchObject({
      approvalId: ID,
      execution: record().execution.id,
      executionStartedAt: record().execution.startedAt,
      service: "hello-service",
      stage: "prod",
      version: "3f2a9c1e0b7d",
      sha256: "a".repeat(64),
      decision: "approved",
      by: "alice@example.com",
      channel: "link",
      seal: { kid: DECISION_KEYS.current.id },
    });
    expect(decisionSealValid(decision, DECISION_KEYS)).toBe(true);
    // The link key does not verify it: the two keys are different keys.
    expect(decisionSealValid(decision, KEYS)).toBe(false);
  });

  it("is not written when the decision key cannot be read: the link is not spent", async () => {
    const failing = { signingKeys: () => Promise.reject(new Error("no key")) };
    await expect(decideApproval(params(), { ...deps, decisionKeys: failing })).rejects.toThrow(
      "no key",
    );
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
  });

  it("keeps a comment's invisible characters visible, escaped", async () => {
    await decideApproval({ ...params(), comment: "fine\u202Etxt.exe\u200B" }, deps);
    expect(stored().comment).toBe("fine\\u{202E}txt.exe\\u{200B}");
  });
});

describe("a voided approval", () => {
  it("answers 410 and writes nothing", async () => {
    await records.create(recordKeys.approvalVoid(ID), {
      approvalId: ID,
      at: new Date(NOW).toISOString(),
      reason: "not verified: forged",
    });
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 410,
      message: expect.stringContaining("voided"),
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(await pendingApprovals(deps)).toEqual([]);
  });
});

describe("Step Functions no longer knowing the task", () => {
  it("answers 410 for TaskDoesNotExist too, keeping the decision as undelivered", async () => {
    sendError = Object.assign(new Error("no such task"), { name: "TaskDoesNotExist" });
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({ status: 410 });
    expect(
      JSON.parse(records.data.get(recordKeys.approvalDecision(ID))?.json ?? "{}"),
    ).toMatchObject({ delivered: false, reason: "TaskDoesNotExist" });
  });
});

describe("an operator at a terminal", () => {
  const operatorDeps = () => ({ ...deps, operators: OPERATORS });

  it("approves as the approver its IAM principal is registered as, sealed with the principal", async () => {
    const outcome = await decideAsOperator(
      { approvalId: ID, action: "approve", principal: ALICE_ARN, comment: "from the terminal" },
      operatorDeps(),
    );
    expect(outcome.decision).toMatchObject({
      decision: "approved",
      by: "alice@example.com",
      channel: "operator",
      principal: ALICE_ARN,
      comment: "from the terminal",
    });
    expect(decisionSealValid(outcome.decision, DECISION_KEYS)).toBe(true);
    expect(sent).toEqual([
      {
        token: `token-${ID}`,
        output: expect.objectContaining({ how: "operator", by: "alice@example.com" }),
      },
    ]);
  });

  it("cannot name someone else: --as is checked against the principal", async () => {
    await expect(
      decideAsOperator(
        { approvalId: ID, action: "approve", principal: ALICE_ARN, as: "bob@example.com" },
        operatorDeps(),
      ),
    ).rejects.toMatchObject({ status: 403, title: "Not you" });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
  });

  it("is refused when its principal maps to nobody, or to someone who is not an approver", async () => {
    for (const principal of [
      "arn:aws:iam::111122223333:user/eve",
      "arn:aws:iam::111122223333:user/mallory",
      "",
    ]) {
      await expect(
        decideAsOperator({ approvalId: ID, action: "approve", principal }, operatorDeps()),
      ).rejects.toMatchObject({ status: 403 });
    }
    await expect(
      decideAsOperator(
        { approvalId: ID, action: "approve", principal: ALICE_ARN },
        { ...deps, operators: undefined },
      ),
    ).rejects.toMatchObject({ status: 403 });
    expect(sent).toEqual([]);
  });

  it("must choose when its identity may act as several approvers, and may choose only among them", async () => {
    records.data.clear();
    await store(record(ID, { approvers: ["alice@example.com", "bob@example.com"] }));
    await expect(
      decideAsOperator(
        { approvalId: ID, action: "approve", principal: LOCAL_OPERATOR },
        operatorDeps(),
      ),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining("--as") });
    await expect(
      decideAsOperator(
        { approvalId: ID, action: "approve", principal: LOCAL_OPERATOR, as: "mallory@example.com" },
        operatorDeps(),
      ),
    ).rejects.toMatchObject({ status: 403 });
    const outcome = await decideAsOperator(
      { approvalId: ID, action: "reject", principal: LOCAL_OPERATOR, as: "bob@example.com" },
      operatorDeps(),
    );
    expect(outcome.decision).toMatchObject({ by: "bob@example.com", principal: LOCAL_OPERATOR });
  });

  it("cannot decide twice, nor after a link decided", async () => {
    await decideApproval(params("reject"), deps);
    await expect(
      decideAsOperator({ approvalId: ID, action: "approve", principal: ALICE_ARN }, operatorDeps()),
    ).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("rejected by alice@example.com"),
    });
  });

  it("refuses a malformed id and an unknown one", async () => {
    await expect(
      decideAsOperator(
        { approvalId: "../x", action: "approve", principal: ALICE_ARN },
        operatorDeps(),
      ),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      decideAsOperator(
        { approvalId: "Z".repeat(24), action: "approve", principal: ALICE_ARN },
        operatorDeps(),
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
      { approvalId: decided.id, action: "approve", principal: ALICE_ARN },
      { ...deps, operators: OPERATORS },
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
      decideAsOperator(
        { approvalId: ID, action: "approve", principal: ALICE_ARN },
        { ...deps, operators: OPERATORS },
      ),
    ).rejects.toMatchObject({
      status: 410,
      title: "Approval expired",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
  });
});
