import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../ports.ts";
import type { Registry } from "../registry.ts";
import { signingKeysFrom } from "../signing-keys.ts";
import { recordKeys } from "../state.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
import { rejectionOf } from "../testing/rejection.ts";
import {
  ApprovalRefused,
  type ApprovalServiceDeps,
  decideApproval,
  decideAsOperator,
  inspectApprovalLink,
  MAX_COMMENT_LENGTH,
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

function params(action: "approve" | "reject" = "approve", approver = "alice@example.com") {
  const url = new URL(
    approvalLink(
      "https://x.example",
      {
        approvalId: ID,
        action,
        approver,
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
  // Every error by which Step Functions says the task is no longer waiting.
  it.each(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken", "ExecutionDoesNotExist"])(
    "is answered 410 and kept as undelivered when Step Functions says %s",
    async (name) => {
      sendError = Object.assign(new Error("task gone"), { name });
      await expect(decideApproval(params(), deps)).rejects.toMatchObject({
        name: "ApprovalRefused",
        status: 410,
        title: "No longer waiting",
        message:
          "The deployment stopped waiting before your decision arrived; nothing was changed.",
      });
      const decision = JSON.parse(records.data.get(recordKeys.approvalDecision(ID))?.json ?? "{}");
      expect(decision).toMatchObject({
        decision: "approved",
        delivered: false,
        reason: name,
      });
    },
  );

  it("is refused on the deadline itself, not only after it", async () => {
    records.data.clear();
    await store(record(ID, { expiresAt: new Date(NOW).toISOString() }));
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 410,
      title: "Approval expired",
      message: "The time to decide on this deployment is over.",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
  });

  it("is answered 410 when no task token was stored: the link is spent, nothing is sent", async () => {
    records.data.delete(recordKeys.approvalToken(ID));
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 410,
      title: "No longer waiting",
      message: "This approval can no longer be completed.",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(true);
    expect(sent).toEqual([]);
  });

  it.each([
    ["stopped", "ABORTED", "(it is aborted)"],
    ["timed out", "TIMED_OUT", "(it is timed out)"],
    ["unknown to Step Functions", undefined, "(it is gone)"],
  ] as const)("is refused when the execution is %s", async (_, status, says) => {
    if (status) statuses.set(record().execution.id, status);
    else statuses.delete(record().execution.id);
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 410,
      title: "No longer waiting",
      message: `The deployment is no longer waiting for a decision ${says}.`,
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
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
      title: "No longer waiting",
      message: "This approval was voided and can no longer be decided (not verified: forged).",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(await pendingApprovals(deps)).toEqual([]);
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
    ).rejects.toMatchObject({
      status: 400,
      title: "Bad request",
      message: "That is not an approval id.",
    });
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

  it("leaves out one that expires this very moment", async () => {
    records.data.clear();
    await store(record(ID, { expiresAt: new Date(NOW).toISOString() }));
    expect(await pendingApprovals(deps)).toEqual([]);
  });

  it("skips one deleted between listing and reading", async () => {
    const gone = recordKeys.approval("BBBBBBBBBBBBBBBBBBBBBBBB");
    const list = records.list.bind(records);
    records.list = async (prefix) => [...(await list(prefix)), gone];
    expect((await pendingApprovals(deps)).map((p) => p.id)).toEqual([ID]);
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

describe("a link that does not check out", () => {
  type Params = ReturnType<typeof params>;
  // The page shows the title and the message: the link module's reason, as a sentence.
  it.each<[string, (p: Params) => Params, number, number, string, string]>([
    [
      "malformed",
      (p) => ({ ...p, approvalId: "../x" }),
      NOW,
      400,
      "Bad link",
      "Malformed approval id.",
    ],
    [
      "forged",
      (p) => ({ ...p, sig: `${p.sig?.startsWith("A") ? "B" : "A"}${p.sig?.slice(1)}` }),
      NOW,
      403,
      "Invalid link",
      "This link's signature is not valid.",
    ],
    ["expired", (p) => p, NOW + 61_000, 410, "Link expired", "This link has expired."],
  ])(
    "is refused when %s, before anything is read",
    async (_, change, now, status, title, message) => {
      const refused = await rejectionOf(
        inspectApprovalLink(change(params()), { ...deps, clock: { now: () => now } }),
      );
      expect(refused).toBeInstanceOf(ApprovalRefused);
      expect(refused).toMatchObject({ status, title, message });
    },
  );

  it("is refused 403 when its approver is not one of the approval's approvers", async () => {
    await expect(decideApproval(params("approve", "bob@example.com"), deps)).rejects.toMatchObject({
      status: 403,
      title: "Not an approver",
      message: "This link's approver is not allowed to decide this deployment.",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
  });

  it("lets any other failure (reading the link keys, say) through as it is, not as a refusal", async () => {
    const failure = new Error("secrets unavailable");
    const refused = await rejectionOf(
      decideApproval(params(), {
        ...deps,
        secrets: { signingKeys: () => Promise.reject(failure) },
      }),
    );
    expect(refused).toBe(failure);
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
  });

  it("answers 404 for an approval that does not exist", async () => {
    records.data.delete(recordKeys.approval(ID));
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 404,
      title: "No such approval",
      message: "There is no approval with this id.",
    });
  });
});

describe("a second decision", () => {
  const AT = new Date(NOW).toISOString();

  it("is answered 409 with who decided, what and when", async () => {
    await decideApproval(params("reject"), deps);
    const refused = await rejectionOf(decideApproval(params("approve"), deps));
    expect(refused).toMatchObject({
      name: "ApprovalRefused",
      status: 409,
      title: "Already decided",
      message: `This deployment was already rejected by alice@example.com at ${AT}.`,
      decision: { decision: "rejected", by: "alice@example.com", at: AT },
    });
  });

  it("that loses the race to write answers 409 with the winner's decision, and sends nothing", async () => {
    const key = recordKeys.approvalDecision(ID);
    const winner = { decision: "rejected", by: "bob@example.com", at: AT, channel: "operator" };
    const create = records.create.bind(records);
    // The other click writes between the checks and this write.
    records.create = async <T>(k: string, value: T) => {
      if (k === key) await create(k, winner);
      return create(k, value);
    };
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 409,
      message: `This deployment was already rejected by bob@example.com at ${AT}.`,
      decision: winner,
    });
    expect(sent).toEqual([]);
  });

  it("answers 409 with its own decision when the winner's record cannot be read back", async () => {
    records.create = async () => undefined;
    await expect(decideApproval(params(), deps)).rejects.toMatchObject({
      status: 409,
      decision: { decision: "approved", by: "alice@example.com" },
    });
    expect(sent).toEqual([]);
  });
});

describe("a decision delivered", () => {
  it("rejects the task with who, when and the comment, and logs the decision", async () => {
    const logged: unknown[] = [];
    const log = {
      debug() {},
      warn() {},
      error() {},
      info: (...args: unknown[]) => logged.push(args),
    };
    await decideApproval({ ...params("reject"), comment: "not today" }, { ...deps, log });
    const at = new Date(NOW).toISOString();
    expect(sent).toEqual([
      {
        token: `token-${ID}`,
        error: "ApprovalRejected",
        cause: `rejected by alice@example.com at ${at}: not today`,
      },
    ]);
    expect(logged).toEqual([
      ["approval decided", { approvalId: ID, decision: "rejected", channel: "link" }],
    ]);
  });

  it("rejects the task without a comment part when there is no comment", async () => {
    await decideApproval(params("reject"), deps);
    expect(sent).toEqual([
      expect.objectContaining({
        cause: `rejected by alice@example.com at ${new Date(NOW).toISOString()}`,
      }),
    ]);
  });
});

describe("a comment", () => {
  // Tab, newline and printable text stay (a tab shown as a space); C0 controls, DEL and C1
  // controls go; a browser's CRLF becomes a newline; the ends are trimmed.
  it.each([
    ["tabs and newlines kept", "one\ttwo\nthree", "one two\nthree"],
    ["CRLF becomes a newline", "line 1\r\nline 2", "line 1\nline 2"],
    ["C0 controls dropped", "a\u0000b\u0007c\u001Bd\u001Fe", "abcde"],
    ["space kept, DEL dropped", "a b\u007Fc", "a bc"],
    ["C1 controls dropped, both ends", "a\u0080b\u0085c\u009Fd", "abcd"],
    ["no-break space (the first after C1) kept", "a\u00A0b", "a\u00A0b"],
    ["trimmed", "  \n ship it \t\n", "ship it"],
  ])("%s", async (_, comment, kept) => {
    const { decision } = await decideApproval({ ...params(), comment }, deps);
    expect(decision.comment).toBe(kept);
  });

  it.each([
    ["empty", ""],
    ["blank", " \t\r\n "],
    ["controls only", "\u0007\u009B"],
    ["absent", null],
  ])("is left out when %s", async (_, comment) => {
    const { decision } = await decideApproval({ ...params(), comment }, deps);
    expect(decision).not.toHaveProperty("comment");
  });

  it("may be as long as the limit, counted after trimming", async () => {
    const comment = ` ${"x".repeat(MAX_COMMENT_LENGTH)} `;
    const { decision } = await decideApproval({ ...params(), comment }, deps);
    expect(decision.comment).toHaveLength(MAX_COMMENT_LENGTH);
  });

  it("is refused, before anything is written, when longer than the limit", async () => {
    const comment = "x".repeat(MAX_COMMENT_LENGTH + 1);
    await expect(decideApproval({ ...params(), comment }, deps)).rejects.toMatchObject({
      status: 400,
      title: "Comment too long",
      message: "A comment can have at most 1000 characters.",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
  });
});

describe("an operator's refusal", () => {
  const operatorDeps = () => ({ ...deps, operators: OPERATORS });
  const as = (principal: string, extra: { as?: string } = {}) =>
    decideAsOperator({ approvalId: ID, action: "approve", principal, ...extra }, operatorDeps());

  it("names the principal, or the local operator, that may not act as the one named", async () => {
    await expect(as(ALICE_ARN, { as: "bob@example.com" })).rejects.toMatchObject({
      status: 403,
      title: "Not you",
      message: `${ALICE_ARN} is not registered as bob@example.com (gantry.registry.ts, operators).`,
    });
    await expect(as(LOCAL_OPERATOR, { as: "mallory@example.com" })).rejects.toMatchObject({
      message:
        "the local operator is not registered as mallory@example.com (gantry.registry.ts, operators).",
    });
  });

  it("refuses --as naming an identity of the principal that is not an approver", async () => {
    // bob is local, but only alice may decide this approval.
    await expect(as(LOCAL_OPERATOR, { as: "bob@example.com" })).rejects.toMatchObject({
      status: 403,
      title: "Not an approver",
      message: "bob@example.com is not allowed to decide this deployment.",
    });
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
  });

  it("names the principal that maps to no approver of this deployment", async () => {
    const eve = "arn:aws:iam::111122223333:user/eve";
    await expect(as(eve)).rejects.toMatchObject({
      status: 403,
      title: "Not an approver",
      message: `${eve} is not registered as any approver of this deployment (gantry.registry.ts, operators).`,
    });
    records.data.clear();
    await store(record(ID, { approvers: ["mallory@example.com"] }));
    await expect(as(LOCAL_OPERATOR)).rejects.toMatchObject({
      message:
        "the local operator is not registered as any approver of this deployment (gantry.registry.ts, operators).",
    });
  });

  it("lists the approvers to choose from when the principal may act as several", async () => {
    records.data.clear();
    await store(record(ID, { approvers: ["alice@example.com", "bob@example.com"] }));
    await expect(as(LOCAL_OPERATOR)).rejects.toMatchObject({
      status: 400,
      title: "Which approver?",
      message:
        "the local operator may decide as alice@example.com or bob@example.com: say which (--as).",
    });
    expect(sent).toEqual([]);
  });
});
