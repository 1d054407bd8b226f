import { beforeEach, describe, expect, it } from "vitest";
import { type ApprovalServiceDeps, decideApproval, decideAsOperator } from "../approval/decide.ts";
import { LOCAL_OPERATOR } from "../approval/operators.ts";
import type { ApprovalDecisionRecord, DecisionChannel } from "../approval/record.ts";
import { type SealedDecision, sealDecision } from "../approval/seal.ts";
import { ApprovalNotVerified } from "../errors.ts";
import type { AlarmReader, ExecutionStatus, Log } from "../ports.ts";
import { signingKeysFrom } from "../signing-keys.ts";
import { type ApprovalClaim, type DeploymentState, recordKeys } from "../state.ts";
import {
  fixedClock,
  T0,
  testExecution,
  testPlan,
  testRequest,
  VERSION,
} from "../testing/fixtures.ts";
import { verifiedTrigger as githubTrigger } from "../testing/id-tokens.ts";
import { MemoryMailer, MemoryRecords } from "../testing/memory-world.ts";
import { rejectionOf } from "../testing/rejection.ts";
import type { AutoApproveRule, VerifiedTrigger } from "../trigger/claims.ts";
import { approvalGate } from "./approval-gate.ts";
import { verifyApproval } from "./verify-approval.ts";

const LINK_KEYS = signingKeysFrom("link-signing-secret-0123456789abcdefgh");
const DECISION_KEYS = signingKeysFrom("decision-secret-0123456789abcdefghijk");
const clock = fixedClock(T0);

let records: MemoryRecords;
let mailer: MemoryMailer;
let statuses: Map<string, ExecutionStatus>;
let state: DeploymentState;
let logged: [level: string, message: string, fields: Record<string, unknown> | undefined][];
const log: Log = {
  debug: () => undefined,
  info: (message, fields) => logged.push(["info", message, fields]),
  warn: (message, fields) => logged.push(["warn", message, fields]),
  error: (message, fields) => logged.push(["error", message, fields]),
};

function service(): ApprovalServiceDeps {
  return {
    records,
    secrets: { signingKeys: async () => LINK_KEYS },
    decisionKeys: { signingKeys: async () => DECISION_KEYS },
    clock,
    workflows: {
      sendTaskSuccess: async () => undefined,
      sendTaskFailure: async () => undefined,
      executionStatus: async (arn) => statuses.get(arn),
    },
  };
}

/** Every alarm OK: no incident at the start of these deployments (ApprovalGate reads them first). */
const quietAlarms: AlarmReader = {
  describe: async (names) =>
    names.map((name) => ({ name, state: "OK", reason: "", updatedAt: new Date(T0).toISOString() })),
};

const verify = (s: DeploymentState = state) =>
  verifyApproval(s, {
    records,
    decisionKeys: { signingKeys: async () => DECISION_KEYS },
    clock,
    log,
  });

/** The approval of `state`'s execution, requested through the real approval path. */
async function requested(of: DeploymentState = state): Promise<string> {
  const result = await approvalGate(
    { ...of, taskToken: "task-token" },
    {
      records,
      mailer,
      workflows: { sendTaskSuccess: async () => undefined },
      secrets: { signingKeys: async () => LINK_KEYS },
      alarms: quietAlarms,
      clock,
      approvalBaseUrl: "https://approve.example.com",
      sender: "gantry@example.com",
    },
  );
  if (result.mode !== "requested") throw new Error("expected a request");
  return result.approvalId;
}

/** An approver clicks the link emailed to them and confirms. */
async function click(approver: string, action: "approve" | "reject" = "approve", comment?: string) {
  const mail = mailer.outbox.find((m) => m.to[0] === approver);
  const label = action === "approve" ? "Approve" : "Reject";
  const line = mail?.text.split("\n").find((l) => l.startsWith(`${label}:`)) ?? "";
  const link = new URL(line.slice(line.indexOf("http")));
  const q = link.searchParams;
  return decideApproval(
    {
      approvalId: link.pathname.split("/").at(-1) ?? "",
      action: q.get("action"),
      approver: q.get("approver"),
      exp: q.get("exp"),
      kid: q.get("kid"),
      sig: q.get("sig"),
      comment,
    },
    service(),
  );
}

/** The stored decision record of approval `id`, as JSON. */
function storedDecision(id: string): ApprovalDecisionRecord {
  return JSON.parse(
    records.data.get(recordKeys.approvalDecision(id))?.json ?? "{}",
  ) as ApprovalDecisionRecord;
}

/**
 * Rewrites the decision record of approval `id` and seals it again with the approval path's own
 * key: what only a holder of the decision key could do, so every later check must still hold.
 */
function resealed(id: string, change: (fields: SealedDecision) => SealedDecision): void {
  const { seal: _s, delivered: _d, reason: _r, ...fields } = storedDecision(id);
  const changed = change(fields);
  records.data.set(recordKeys.approvalDecision(id), {
    json: JSON.stringify({ ...changed, seal: sealDecision(changed, DECISION_KEYS.current) }),
    etag: '"resealed"',
  });
}

/** The void record of approval `id`, if VerifyApproval voided it. */
function voidOf(id: string): unknown {
  const item = records.data.get(recordKeys.approvalVoid(id));
  return item && JSON.parse(item.json);
}

beforeEach(() => {
  records = new MemoryRecords();
  mailer = new MemoryMailer();
  statuses = new Map();
  logged = [];
  const request = testRequest();
  state = { request, plan: testPlan("prod", request), execution: testExecution() };
  statuses.set(state.execution.id, "RUNNING");
});

describe("verifyApproval", () => {
  it("proceeds on a listed approver's sealed decision, and says who, when and how", async () => {
    const id = await requested();
    await click("bob@example.com");
    expect(await verify()).toEqual({
      approved: true,
      how: "approver",
      by: "bob@example.com",
      at: new Date(T0).toISOString(),
      approvalId: id,
      verified: true,
    });
    expect(logged).toEqual([
      ["info", "approval verified", { approvalId: id, by: "bob@example.com", channel: "link" }],
    ]);
  });

  it("carries the approver's comment into the result", async () => {
    await requested();
    await click("alice@example.com", "approve", "ship it");
    expect(await verify()).toMatchObject({ by: "alice@example.com", comment: "ship it" });
  });

  it("proceeds on an operator's sealed decision, naming the principal behind it", async () => {
    const id = await requested();
    await decideAsOperator(
      { approvalId: id, action: "approve", principal: LOCAL_OPERATOR },
      { ...service(), operators: { "alice@example.com": { local: true } } },
    );
    expect(await verify()).toMatchObject({
      how: "operator",
      by: "alice@example.com",
      principal: LOCAL_OPERATOR,
    });
  });

  it("needs no record when the plan (not the task) says the stage needs no approval", async () => {
    const request = testRequest();
    const preprod = { request, plan: testPlan("preprod", request), execution: testExecution() };
    expect(await verify(preprod)).toEqual({
      approved: true,
      how: "not-required",
      by: "policy:preprod",
      at: new Date(T0).toISOString(),
      verified: true,
    });
    expect(records.data.size).toBe(0);
  });

  it("ignores whatever completed the task: $.approval is never read", async () => {
    await requested();
    const forged = {
      ...state,
      approval: {
        approved: true,
        how: "approver",
        by: "alice@example.com",
        at: "x",
        verified: true,
      },
    } as DeploymentState;
    const error = await rejectionOf(verify(forged));
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toContain("no decision record");
  });

  it("refuses when no approval was ever requested for this execution", async () => {
    const error = await rejectionOf(verify());
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toBe("no approval was requested for this execution");
  });

  it("refuses a rejection, and voids the approval so its links answer 410", async () => {
    const id = await requested();
    await click("alice@example.com", "reject");
    const error = await rejectionOf(verify());
    expect(error.message).toContain("was rejected by alice@example.com");
    expect(JSON.parse(records.data.get(recordKeys.approvalVoid(id))?.json ?? "{}")).toMatchObject({
      approvalId: id,
      reason: expect.stringContaining("not verified"),
    });
    expect(logged).toContainEqual([
      "warn",
      "approval not verified; voided",
      { approvalId: id, reason: `approval ${id} was rejected by alice@example.com` },
    ]);
  });

  describe("refuses a decision record it did not seal", () => {
    async function tampered(change: (d: ApprovalDecisionRecord) => ApprovalDecisionRecord) {
      const id = await requested();
      await click("alice@example.com");
      const key = recordKeys.approvalDecision(id);
      const stored = JSON.parse(records.data.get(key)?.json ?? "{}") as ApprovalDecisionRecord;
      records.data.set(key, { json: JSON.stringify(change(stored)), etag: '"x"' });
      return rejectionOf(verify());
    }

    it("written without a seal", async () => {
      const error = await tampered(
        ({ seal: _none, ...unsealed }) => unsealed as ApprovalDecisionRecord,
      );
      expect(error.message).toContain("does not carry a valid seal");
    });

    it("sealed with a key the approval path does not hold (the link key)", async () => {
      const error = await tampered((d) => {
        const { seal: _s, delivered: _d, reason: _r, ...fields } = d;
        return { ...d, seal: sealDecision(fields, LINK_KEYS.current) };
      });
      expect(error.message).toContain("does not carry a valid seal");
    });

    it.each([
      ["approver", (d: ApprovalDecisionRecord) => ({ ...d, by: "bob@example.com" })],
      [
        "decision",
        (d: ApprovalDecisionRecord) => ({ ...d, decision: "approved" as const, comment: "x" }),
      ],
      ["bytes", (d: ApprovalDecisionRecord) => ({ ...d, sha256: "b".repeat(64) })],
      ["execution", (d: ApprovalDecisionRecord) => ({ ...d, execution: `${d.execution}-other` })],
    ])("with a field changed after sealing (%s)", async (_field, change) => {
      const error = await tampered(change);
      expect(error).toBeInstanceOf(ApprovalNotVerified);
      expect(error.message).toContain("does not carry a valid seal");
    });
  });

  it("refuses a validly sealed decision for other bytes or another execution", async () => {
    const id = await requested();
    await click("alice@example.com");
    const key = recordKeys.approvalDecision(id);
    const stored = JSON.parse(records.data.get(key)?.json ?? "{}") as ApprovalDecisionRecord;
    // The approval path's own key, but for other bytes: a decision about something else.
    const { seal: _s, ...fields } = stored;
    const other = { ...fields, sha256: "b".repeat(64) };
    records.data.set(key, {
      json: JSON.stringify({ ...other, seal: sealDecision(other, DECISION_KEYS.current) }),
      etag: '"y"',
    });
    const error = await rejectionOf(verify());
    expect(error.message).toContain("for another deployment (SHA-256 differ)");
  });

  it("refuses a sealed decision by someone the plan does not list", async () => {
    const id = await requested();
    await click("alice@example.com");
    const key = recordKeys.approvalDecision(id);
    const { seal: _s, ...fields } = JSON.parse(
      records.data.get(key)?.json ?? "{}",
    ) as ApprovalDecisionRecord;
    const mallory = { ...fields, by: "mallory@example.com" };
    records.data.set(key, {
      json: JSON.stringify({ ...mallory, seal: sealDecision(mallory, DECISION_KEYS.current) }),
      etag: '"z"',
    });
    const error = await rejectionOf(verify());
    expect(error.message).toBe("mallory@example.com is not an approver of hello-service in prod");
  });

  it("refuses a decision that arrived after the task stopped waiting", async () => {
    const id = await requested();
    await click("alice@example.com");
    const key = recordKeys.approvalDecision(id);
    const stored = JSON.parse(records.data.get(key)?.json ?? "{}") as ApprovalDecisionRecord;
    records.data.set(key, {
      json: JSON.stringify({ ...stored, delivered: false, reason: "TaskTimedOut" }),
      etag: '"w"',
    });
    const error = await rejectionOf(verify());
    expect(error.message).toContain("after the task had stopped waiting");
  });

  it("accepts a record sealed with the previous decision key during a rotation", async () => {
    await requested();
    await click("alice@example.com");
    const rotated = signingKeysFrom(
      "a-brand-new-decision-secret-0123456789",
      "decision-secret-0123456789abcdefghijk",
    );
    const approval = await verifyApproval(state, {
      records,
      decisionKeys: { signingKeys: async () => rotated },
      clock,
    });
    expect(approval.by).toBe("alice@example.com");
  });

  it("refuses, and voids, an approval whose record is gone", async () => {
    const id = await requested();
    await click("alice@example.com");
    records.data.delete(recordKeys.approval(id));
    const error = await rejectionOf(verify());
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toBe(`approval ${id} has no record`);
    expect(voidOf(id)).toMatchObject({ reason: `not verified: approval ${id} has no record` });
  });

  it("needs no log to refuse and void", async () => {
    const id = await requested();
    await click("alice@example.com", "reject");
    const unlogged = verifyApproval(state, {
      records,
      decisionKeys: { signingKeys: async () => DECISION_KEYS },
      clock,
    });
    expect(await rejectionOf(unlogged)).toBeInstanceOf(ApprovalNotVerified);
    expect(voidOf(id)).toBeDefined();
  });

  describe("holds to one approval per execution", () => {
    function other(): DeploymentState {
      const execution = testExecution("hello-service-3f2a9c1e0b7d-bbbbbbbb");
      statuses.set(execution.id, "RUNNING");
      return { ...state, execution };
    }

    it("refuses when this execution's index points at another execution's approved approval", async () => {
      const theirs = await requested(other());
      await click("alice@example.com");
      // Someone who can write the state bucket repoints this execution at an approved approval.
      records.data.set(recordKeys.approvalOfExecution(state.execution), {
        json: JSON.stringify({ approvalId: theirs, execution: state.execution.id }),
        etag: '"forged"',
      });
      const error = await rejectionOf(verify());
      expect(error).toBeInstanceOf(ApprovalNotVerified);
      expect(error.message).toBe(`approval ${theirs} belongs to another execution`);
    });

    it("refuses another approval's genuine sealed decision copied onto this one", async () => {
      const theirs = await requested(other());
      await click("alice@example.com");
      const ours = await requested();
      records.data.set(recordKeys.approvalDecision(ours), {
        json: JSON.stringify(storedDecision(theirs)),
        etag: '"copied"',
      });
      const error = await rejectionOf(verify());
      expect(error.message).toBe(
        `the decision record of approval ${ours} is for another deployment (approval id, execution differ)`,
      );
      expect(voidOf(ours)).toBeDefined();
    });
  });

  it.each<[string, (d: SealedDecision) => SealedDecision]>([
    ["approval id", (d) => ({ ...d, approvalId: "ZZZZZZZZZZZZZZZZZZZZZZZZ" })],
    ["execution", (d) => ({ ...d, execution: `${d.execution}-other` })],
    // Execution names can be reused after 90 days: the start time tells the runs apart.
    ["execution start", (d) => ({ ...d, executionStartedAt: "2026-08-01T12:00:00.000Z" })],
    ["service", (d) => ({ ...d, service: "billing" })],
    ["stage", (d) => ({ ...d, stage: "preprod" })],
    ["version", (d) => ({ ...d, version: "0".repeat(40) })],
    ["SHA-256", (d) => ({ ...d, sha256: "b".repeat(64) })],
  ])("refuses, and voids, a validly sealed decision with another %s", async (field, change) => {
    const id = await requested();
    await click("alice@example.com");
    resealed(id, change);
    const error = await rejectionOf(verify());
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toBe(
      `the decision record of approval ${id} is for another deployment (${field} differ)`,
    );
    expect(voidOf(id)).toBeDefined();
  });

  it.each<[string, (d: SealedDecision) => SealedDecision]>([
    [
      "an operator decision with no authenticated principal",
      ({ principal: _none, ...d }) => ({ ...d, channel: "operator" }),
    ],
    [
      "a channel Gantry does not have, even with a principal",
      (d) => ({ ...d, channel: "api" as DecisionChannel, principal: "arn:aws:iam::1:role/ci" }),
    ],
  ])("refuses a validly sealed decision made through %s", async (_name, change) => {
    const id = await requested();
    await click("alice@example.com");
    resealed(id, change);
    const error = await rejectionOf(verify());
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toBe(
      `approval ${id} was decided through a channel Gantry does not accept`,
    );
  });

  it("does not void the approval when a read fails, so a retry can still proceed", async () => {
    const id = await requested();
    await click("alice@example.com");
    const throttled = new Error("Secrets Manager throttled the request");
    const failing = verifyApproval(state, {
      records,
      decisionKeys: { signingKeys: () => Promise.reject(throttled) },
      clock,
    });
    expect(await rejectionOf(failing)).toBe(throttled);
    expect(voidOf(id)).toBeUndefined();
    expect(await verify()).toMatchObject({ by: "alice@example.com", approvalId: id });
  });
});

/** What ValidateInput puts in the state after checking dependabot's ID token (issued T0 - 1 min). */
function verifiedTrigger(overrides: Partial<VerifiedTrigger> = {}): VerifiedTrigger {
  return githubTrigger({
    sha: VERSION,
    actor: "dependabot[bot]",
    eventName: "push",
    ...overrides,
  });
}

/** A prod deployment's state: its trigger claimed by `actor`, verified when `verified` is given. */
function deployment(
  options: { actor?: string; verified?: VerifiedTrigger; autoApprove?: AutoApproveRule[] } = {},
): DeploymentState {
  const base = testRequest({ actor: options.actor ?? "dependabot[bot]" });
  const request = {
    ...base,
    trigger: { ...base.trigger, ...(options.verified ? { verified: options.verified } : {}) },
  };
  const plan = testPlan("prod", request);
  return {
    request,
    plan: options.autoApprove
      ? { ...plan, approval: { ...plan.approval, autoApprove: options.autoApprove } }
      : plan,
    execution: testExecution(),
  };
}

describe("verifyApproval with auto-approval rules", () => {
  it("approves, recomputing the match from the state's verified trigger, and reads no record", async () => {
    const approval = await verify(deployment({ verified: verifiedTrigger() }));
    expect(approval).toEqual({
      approved: true,
      how: "auto",
      by: "auto-approve rule 1",
      at: new Date(T0).toISOString(),
      rule: { index: 0, matched: "actor dependabot[bot]" },
      verified: true,
    });
    expect(records.data.size).toBe(0);
    expect(logged).toEqual([
      [
        "info",
        "approval verified: an auto-approval rule matches the verified trigger",
        { rule: 1, matched: "actor dependabot[bot]" },
      ],
    ]);
  });

  it("numbers the rules from 1 and describes the one that matched", async () => {
    const state = deployment({
      actor: "octocat",
      verified: verifiedTrigger({ actor: "octocat", ref: "refs/heads/release/2" }),
      autoApprove: [{ actor: "renovate[bot]" }, { ref: "refs/heads/release/*", eventName: "push" }],
    });
    expect(await verify(state)).toMatchObject({
      how: "auto",
      by: "auto-approve rule 2",
      rule: { index: 1, matched: "ref refs/heads/release/*, eventName push" },
    });
  });

  it("needs no log to auto-approve", async () => {
    const approval = await verifyApproval(deployment({ verified: verifiedTrigger() }), {
      records,
      decisionKeys: { signingKeys: async () => DECISION_KEYS },
      clock,
    });
    expect(approval.how).toBe("auto");
  });

  it("answers not-required first when the stage needs no approval", async () => {
    const request = { ...testRequest(), trigger: { actor: "x", verified: verifiedTrigger() } };
    const plan = testPlan("preprod", request);
    const preprod = {
      request,
      plan: {
        ...plan,
        approval: { ...plan.approval, autoApprove: [{ actor: "dependabot[bot]" }] },
      },
      execution: testExecution(),
    };
    expect(await verify(preprod)).toMatchObject({ how: "not-required", by: "policy:preprod" });
  });

  it("takes the decision-record path when the verified trigger matches no rule", async () => {
    const state = deployment({ verified: verifiedTrigger({ ref: "refs/heads/feature" }) });
    const mismatched = {
      ...state,
      plan: {
        ...state.plan,
        approval: {
          ...state.plan.approval,
          autoApprove: [{ actor: "dependabot[bot]", ref: "refs/heads/main" }],
        },
      },
    };
    const id = await requested(mismatched);
    await click("alice@example.com");
    expect(await verify(mismatched)).toMatchObject({
      how: "approver",
      by: "alice@example.com",
      approvalId: id,
    });
  });
});

describe("attacks on auto-approval (unit level: the steps and the approval path, in memory)", () => {
  /** What anyone who can call SendTaskSuccess (or write the state's approval) could claim. */
  const forgedAuto: ApprovalClaim = {
    approved: true,
    how: "auto",
    by: "auto-approve rule 1",
    at: new Date(T0).toISOString(),
  };

  it("a claimed dependabot[bot] without an ID token is asked about, never auto-approved", async () => {
    const claimed = deployment({ actor: "dependabot[bot]" });
    const completed: unknown[] = [];
    const result = await approvalGate(
      { ...claimed, taskToken: "task-token" },
      {
        records,
        mailer,
        workflows: { sendTaskSuccess: async (_token, output) => void completed.push(output) },
        secrets: { signingKeys: async () => LINK_KEYS },
        alarms: quietAlarms,
        clock,
        approvalBaseUrl: "https://approve.example.com",
        sender: "gantry@example.com",
      },
    );
    expect(result.mode).toBe("requested");
    expect(completed).toEqual([]);
    expect(mailer.outbox).toHaveLength(2);
    // Nobody decided: VerifyApproval does not take the claimed actor for a verified one.
    const error = await rejectionOf(verify(claimed));
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toBe(
      `the approval task was completed, but nobody decided approval ${result.mode === "requested" ? result.approvalId : ""}: no decision record`,
    );
  });

  it("completing the task with how: auto on an unverified deployment is ApprovalNotVerified, and voids it", async () => {
    const claimed = deployment({ actor: "dependabot[bot]" });
    const id = await requested(claimed);
    // The attacker's SendTaskSuccess output lands in $.approval; VerifyApproval reads the rest.
    const forged = { ...claimed, approval: forgedAuto } as unknown as DeploymentState;
    const error = await rejectionOf(verify(forged));
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toBe(
      `the approval task was completed, but nobody decided approval ${id}: no decision record`,
    );
    expect(voidOf(id)).toMatchObject({ approvalId: id });
  });

  it("a forged how: auto with no approval requested at all is ApprovalNotVerified", async () => {
    const forged = {
      ...deployment({ actor: "dependabot[bot]" }),
      approval: forgedAuto,
    } as unknown as DeploymentState;
    const error = await rejectionOf(verify(forged));
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toBe("no approval was requested for this execution");
  });

  it("a verified trigger a rule does not match gets nothing from a forged how: auto", async () => {
    const state = deployment({
      actor: "octocat",
      verified: verifiedTrigger({ actor: "octocat" }),
    });
    const id = await requested(state);
    const forged = { ...state, approval: forgedAuto } as unknown as DeploymentState;
    const error = await rejectionOf(verify(forged));
    expect(error).toBeInstanceOf(ApprovalNotVerified);
    expect(error.message).toContain(`nobody decided approval ${id}`);
  });
});
