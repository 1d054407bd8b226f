import { describe, expect, it } from "vitest";
import { verifyApprovalLink } from "../approval/links.ts";
import type { ApprovalRecord, ApprovalTokenRecord } from "../approval/record.ts";
import { AlarmTriggered, ConfigurationError, InvalidInput } from "../errors.ts";
import type { AlarmStatus, Log, SecretSource } from "../ports.ts";
import { ANALYSIS_DEFAULTS } from "../registry.ts";
import { signingKeysFrom } from "../signing-keys.ts";
import { type ApprovalClaim, type PreprodEvidence, recordKeys } from "../state.ts";
import {
  fixedClock,
  T0,
  testExecution,
  testPlan,
  testRequest,
  VERSION,
} from "../testing/fixtures.ts";
import { verifiedTrigger as githubTrigger } from "../testing/id-tokens.ts";
import { MemoryAlarms, MemoryMailer, MemoryRecords } from "../testing/memory-world.ts";
import { rejectionOf } from "../testing/rejection.ts";
import type { AutoApproveRule, VerifiedTrigger } from "../trigger/claims.ts";
import { type ApprovalGateEvent, approvalGate } from "./approval-gate.ts";

const TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAT-task-token-never-shown";
const APPROVAL_ID = "AbCdEfGhIjKlMnOpQrStUv_-";
const keys = signingKeysFrom("approval-signing-secret-0123456789abcdef");
const secrets: SecretSource = { signingKeys: async () => keys };
const evidence: PreprodEvidence = {
  required: true,
  validatedAt: "2026-11-01T11:00:00.000Z",
  validatedBy: "ci-bot",
  preprodVersion: "7",
  alarms: [],
};

/** When the incident began: an alarm's StateUpdatedTimestamp, before the deployment (T0). */
const SINCE = new Date(T0 - 20 * 60_000).toISOString();

function world() {
  const records = new MemoryRecords();
  // Every alarm the test registry names, quiet: no incident unless a test sets one.
  const alarms = new MemoryAlarms();
  for (const name of ["hello-prod-errors", "hello-prod-latency", "hello-preprod-errors"])
    alarms.states.set(name, { name, state: "OK", reason: "fine", updatedAt: SINCE });
  const mailer = new MemoryMailer();
  const successes: { taskToken: string; output: unknown }[] = [];
  const workflows = {
    async sendTaskSuccess(taskToken: string, output: unknown) {
      successes.push({ taskToken, output });
    },
  };
  const logged: [message: string, fields: Record<string, unknown> | undefined][] = [];
  const log: Log = {
    debug: () => undefined,
    info: (message, fields) => logged.push([message, fields]),
    warn: (message, fields) => logged.push([message, fields]),
    error: (message, fields) => logged.push([message, fields]),
  };
  const clock = fixedClock(T0);
  const deps = {
    records,
    mailer,
    workflows,
    secrets,
    clock,
    alarms,
    // The prod alias serves version 4 when the deployment starts.
    functions: { getAlias: async () => ({ name: "live", version: "4", weights: {} }) },
    approvalBaseUrl: "https://approve.example.com",
    sender: "gantry@example.com",
    newId: () => APPROVAL_ID,
    log,
  };
  return { records, mailer, successes, logged, clock, alarms, deps };
}

/** What ValidateInput puts in the state after checking dependabot's ID token (issued T0 - 1 min). */
function verifiedTrigger(overrides: Partial<VerifiedTrigger> = {}): VerifiedTrigger {
  return githubTrigger({
    sha: VERSION,
    actor: "dependabot[bot]",
    workflowRef: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
    eventName: "push",
    runId: "7",
    runAttempt: "1",
    ...overrides,
  });
}

function event(
  overrides: {
    actor?: string;
    stage?: "prod" | "preprod";
    timeScale?: number;
    taskToken?: string;
    verified?: VerifiedTrigger;
    autoApprove?: readonly AutoApproveRule[];
    ciRunUrl?: string | null;
    fixFor?: readonly string[];
  } = {},
): ApprovalGateEvent {
  const base = testRequest({ actor: overrides.actor ?? "octocat" });
  const { ciRunUrl: _claimed, ...bare } = base.trigger;
  const trigger = {
    ...(overrides.ciRunUrl === null ? bare : base.trigger),
    ...(overrides.verified ? { verified: overrides.verified } : {}),
  };
  const fixFor = overrides.fixFor ?? [];
  const request = { ...base, trigger, ...(fixFor.length > 0 ? { fixFor } : {}) };
  const planned = testPlan(
    overrides.stage ?? "prod",
    { ...base, trigger },
    overrides.timeScale ?? 1,
  );
  // The test registry has no analysis; a fix needs one (resolvePlan), so the plan says so here.
  const plan = fixFor.length > 0 ? { ...planned, analysis: ANALYSIS_DEFAULTS, fixFor } : planned;
  return {
    request,
    plan: overrides.autoApprove
      ? { ...plan, approval: { ...plan.approval, autoApprove: overrides.autoApprove } }
      : plan,
    execution: testExecution(),
    preprod: evidence,
    taskToken: overrides.taskToken ?? TOKEN,
  };
}

function linksIn(text: string): { approve: string; reject: string } {
  const approve = /^Approve: (\S+)$/m.exec(text)?.[1];
  const reject = /^Reject: {2}(\S+)$/m.exec(text)?.[1];
  if (!approve || !reject) throw new Error(`no links in:\n${text}`);
  return { approve, reject };
}

function paramsOf(link: string) {
  const url = new URL(link);
  const q = url.searchParams;
  return {
    approvalId: url.pathname.split("/").at(-1) ?? "",
    action: q.get("action"),
    approver: q.get("approver"),
    exp: q.get("exp"),
    kid: q.get("kid"),
    sig: q.get("sig"),
  };
}

/** The first email to `to` fails as SES throttling would; every later one is sent. */
function failFirstEmailTo(w: ReturnType<typeof world>, to: string): void {
  const send = w.mailer.send.bind(w.mailer);
  let failNext = true;
  w.mailer.send = async (message) => {
    if (failNext && message.to[0] === to) {
      failNext = false;
      throw new Error("SES throttled");
    }
    return send(message);
  };
}

describe("approvalGate", () => {
  it("completes its own task at once when the stage needs no approval, and sends no email", async () => {
    const w = world();
    const result = await approvalGate(event({ stage: "preprod" }), w.deps);
    expect(result).toEqual({ mode: "not-required", by: "policy:preprod" });
    const decision: ApprovalClaim = {
      approved: true,
      how: "not-required",
      by: "policy:preprod",
      at: new Date(T0).toISOString(),
    };
    expect(w.successes).toEqual([{ taskToken: TOKEN, output: decision }]);
    expect(w.mailer.outbox).toEqual([]);
    expect(w.records.data.size).toBe(0);
    expect(w.logged).toEqual([["approval not required by policy", { stage: "preprod" }]]);
  });

  it("never skips the approval for an actor the caller claims is auto-approved", async () => {
    const w = world();
    const result = await approvalGate(event({ actor: "dependabot[bot]" }), w.deps);
    expect(result).toMatchObject({ mode: "requested", approvalId: APPROVAL_ID });
    expect(w.successes).toEqual([]);
    expect(w.mailer.outbox.map((m) => m.to)).toEqual([["alice@example.com"], ["bob@example.com"]]);
    expect(w.mailer.outbox[0]?.text).toContain(
      "Triggered by: dependabot[bot] (unverified claim: no ID token)",
    );
    // The operator learns why the rule did not apply, first, and from the actor alone.
    expect(w.logged[0]).toEqual([
      "auto-approval rule not applied: the trigger is unverified (no ID token)",
      { actor: "dependabot[bot]" },
    ]);
    expect(w.logged.map(([message]) => message)).toEqual([
      "auto-approval rule not applied: the trigger is unverified (no ID token)",
      "approval requested",
    ]);
  });

  describe("with an auto-approval rule matching the verified trigger", () => {
    it("completes its own task at once with a claim naming the rule, by its number", async () => {
      const w = world();
      const result = await approvalGate(event({ verified: verifiedTrigger() }), w.deps);
      expect(result).toEqual({
        mode: "auto",
        rule: { index: 0, matched: "actor dependabot[bot]" },
      });
      const claim: ApprovalClaim = {
        approved: true,
        how: "auto",
        by: "auto-approve rule 1",
        at: new Date(T0).toISOString(),
      };
      expect(w.successes).toEqual([{ taskToken: TOKEN, output: claim }]);
      expect(w.logged).toEqual([
        [
          "approval granted by an auto-approval rule on the verified trigger",
          { stage: "prod", rule: 1, matched: "actor dependabot[bot]" },
        ],
      ]);
    });

    it("asks nobody and stores nothing: no approval record, no token record, no email", async () => {
      const w = world();
      await approvalGate(event({ verified: verifiedTrigger() }), w.deps);
      expect(w.mailer.outbox).toEqual([]);
      expect(w.records.data.size).toBe(0);
    });

    it("numbers the rules from 1: the second rule of the list is rule 2", async () => {
      const w = world();
      const verified = verifiedTrigger({ actor: "octocat", ref: "refs/heads/release/1.2" });
      const autoApprove = [
        { actor: "dependabot[bot]" },
        { ref: "refs/heads/release/*", eventName: "push" },
      ];
      const result = await approvalGate(event({ actor: "octocat", verified, autoApprove }), w.deps);
      expect(result).toEqual({
        mode: "auto",
        rule: { index: 1, matched: "ref refs/heads/release/*, eventName push" },
      });
      expect(w.successes.map((s) => (s.output as ApprovalClaim).by)).toEqual([
        "auto-approve rule 2",
      ]);
    });

    it("does not apply to a stage that needs no approval: the policy says so first", async () => {
      const w = world();
      const e = event({
        stage: "preprod",
        verified: verifiedTrigger(),
        autoApprove: [{ actor: "dependabot[bot]" }],
      });
      expect(await approvalGate(e, w.deps)).toEqual({ mode: "not-required", by: "policy:preprod" });
    });

    it("refuses to run without a task token, before completing anything", async () => {
      const w = world();
      const e = event({ verified: verifiedTrigger(), taskToken: "" });
      await expect(approvalGate(e, w.deps)).rejects.toThrow(ConfigurationError);
      expect(w.successes).toEqual([]);
    });
  });

  it("asks people when the verified trigger matches no rule, with no note about the rules", async () => {
    const w = world();
    // A rule naming the verified actor, but for another ref: the trigger is verified, and the
    // rule does not match, so there is nothing to say about unverified claims.
    const e = event({
      actor: "dependabot[bot]",
      verified: verifiedTrigger({ ref: "refs/heads/feature" }),
      autoApprove: [{ actor: "dependabot[bot]", ref: "refs/heads/main" }],
    });
    const result = await approvalGate(e, w.deps);
    expect(result).toMatchObject({ mode: "requested", emailed: true });
    expect(w.successes).toEqual([]);
    expect(w.logged.map(([message]) => message)).toEqual(["approval requested"]);
    expect(w.mailer.outbox[0]?.text).toContain(
      "Triggered by: dependabot[bot] — verified by https://token.actions.githubusercontent.com: acme/hello-service@refs/heads/feature,",
    );
  });

  it("notes an unverified actor that any one of the rules names", async () => {
    const w = world();
    const autoApprove = [{ actor: "renovate[bot]" }, { actor: "dependabot[bot]", ref: "refs/*" }];
    await approvalGate(event({ actor: "dependabot[bot]", autoApprove }), w.deps);
    expect(w.logged[0]).toEqual([
      "auto-approval rule not applied: the trigger is unverified (no ID token)",
      { actor: "dependabot[bot]" },
    ]);
  });

  it("says nothing about the rules for an unverified actor no rule names", async () => {
    const w = world();
    await approvalGate(event({ actor: "renovate[bot]" }), w.deps);
    expect(w.logged.map(([message]) => message)).toEqual(["approval requested"]);
  });

  it.each([
    ["a stage that needs no approval", event({ stage: "preprod" }), "not-required"],
    ["an actor an auto-approval rule names", event({ actor: "dependabot[bot]" }), "requested"],
    ["a verified trigger a rule matches", event({ verified: verifiedTrigger() }), "auto"],
  ])("needs no log for %s", async (_name, e, mode) => {
    const { log: _none, ...deps } = world().deps;
    expect(await approvalGate(e, deps)).toMatchObject({ mode });
  });

  it("asks every approver by email, one message each, and does not complete the task", async () => {
    const w = world();
    const result = await approvalGate(event(), w.deps);
    expect(result).toEqual({
      mode: "requested",
      approvalId: APPROVAL_ID,
      approvers: ["alice@example.com", "bob@example.com"],
      expiresAt: new Date(T0 + 3600_000).toISOString(),
      emailed: true,
    });
    expect(w.mailer.outbox.map((m) => m.to)).toEqual([["alice@example.com"], ["bob@example.com"]]);
    expect(w.mailer.outbox.every((m) => m.from === "gantry@example.com")).toBe(true);
    expect(w.successes).toEqual([]);
    // An actor no rule names is not worth a note about auto-approval.
    expect(w.logged).toEqual([
      [
        "approval requested",
        {
          approvalId: APPROVAL_ID,
          approvers: 2,
          expiresAt: new Date(T0 + 3600_000).toISOString(),
          emailed: true,
        },
      ],
    ]);
  });

  it("records when the approvers were emailed", async () => {
    const w = world();
    await approvalGate(event(), w.deps);
    const marker = w.records.data.get(recordKeys.approvalNotified(APPROVAL_ID))?.json ?? "{}";
    expect(JSON.parse(marker)).toEqual({ approvalId: APPROVAL_ID, at: new Date(T0).toISOString() });
  });

  it("stores the approval record without the task token anywhere in it", async () => {
    const w = world();
    await approvalGate(event(), w.deps);
    const stored = w.records.data.get(recordKeys.approval(APPROVAL_ID));
    expect(stored).toBeDefined();
    expect(stored?.json).not.toContain(TOKEN);
    const record = JSON.parse(stored?.json ?? "{}") as ApprovalRecord;
    expect(record).toMatchObject({
      id: APPROVAL_ID,
      stage: "prod",
      service: "hello-service",
      version: testRequest().version,
      sha256: testRequest().artifact.sha256,
      artifactKey: testRequest().artifact.key,
      commitUrl: `https://github.com/acme/hello-service/commit/${testRequest().version}`,
      execution: {
        id: testExecution().id,
        name: testExecution().name,
        startedAt: testExecution().startedAt,
      },
      trigger: testRequest().trigger,
      approvers: ["alice@example.com", "bob@example.com"],
      requestedAt: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + 3600_000).toISOString(),
      preprod: evidence,
    });
  });

  describe("records the trigger's named fields only", () => {
    /** The approval record as ApprovalGate handed it to the store (before any JSON). */
    async function recorded(e: ApprovalGateEvent): Promise<ApprovalRecord> {
      const w = world();
      const created: unknown[] = [];
      const create = w.records.create.bind(w.records);
      w.records.create = async <T>(key: string, value: T) => {
        if (key === recordKeys.approval(APPROVAL_ID)) created.push(value);
        return create(key, value);
      };
      await approvalGate(e, w.deps);
      const all = [...w.records.data.values()].map((item) => item.json).join("\n");
      expect(all).not.toContain("eyJ");
      expect(w.mailer.outbox.map((m) => `${m.text}${m.html}`).join("")).not.toContain("eyJ");
      return created[0] as ApprovalRecord;
    }

    it("never an ID token, even one a request still carried", async () => {
      const e = event();
      const withToken = {
        ...e,
        request: {
          ...e.request,
          trigger: { ...e.request.trigger, idToken: "eyJhbGciOiJSUzI1NiJ9.secret.sig" },
        },
      };
      expect((await recorded(withToken)).trigger).toStrictEqual({
        actor: "octocat",
        ciRunUrl: "https://ci.example.com/runs/42",
      });
    });

    it("the verified claims, as ValidateInput left them", async () => {
      const verified = verifiedTrigger({ ref: "refs/heads/other" });
      const autoApprove = [{ ref: "refs/heads/main" }];
      const e = event({ actor: "dependabot[bot]", verified, autoApprove });
      expect((await recorded(e)).trigger).toStrictEqual({
        actor: "dependabot[bot]",
        ciRunUrl: "https://ci.example.com/runs/42",
        verified,
      });
    });

    it("no CI run when the request named none", async () => {
      expect((await recorded(event({ ciRunUrl: null }))).trigger).toStrictEqual({
        actor: "octocat",
      });
    });
  });

  it("stores the task token only under its own key", async () => {
    const w = world();
    await approvalGate(event(), w.deps);
    const holding = [...w.records.data].filter(([, item]) => item.json.includes(TOKEN));
    expect(holding.map(([key]) => key)).toEqual([recordKeys.approvalToken(APPROVAL_ID)]);
    const token: ApprovalTokenRecord = { approvalId: APPROVAL_ID, taskToken: TOKEN };
    expect(JSON.parse(holding[0]?.[1].json ?? "{}")).toEqual(token);
  });

  it("writes the token before the approval record that links point to", async () => {
    const w = world();
    const written: string[] = [];
    const create = w.records.create.bind(w.records);
    const put = w.records.put.bind(w.records);
    w.records.create = async <T>(key: string, value: T) => {
      written.push(key);
      return create(key, value);
    };
    w.records.put = async <T>(key: string, value: T) => {
      written.push(key);
      return put(key, value);
    };
    await approvalGate(event(), w.deps);
    expect(written).toEqual([
      recordKeys.approvalOfExecution(testExecution()),
      recordKeys.approvalToken(APPROVAL_ID),
      recordKeys.approval(APPROVAL_ID),
      recordKeys.approvalNotified(APPROVAL_ID),
    ]);
  });

  it("is one approval per execution: a retried Task points the token at itself and emails nobody twice", async () => {
    const w = world();
    let ids = 0;
    const deps = { ...w.deps, newId: () => `${APPROVAL_ID.slice(0, 23)}${++ids}` };
    const first = await approvalGate(event({ taskToken: "token-of-attempt-1" }), deps);
    const second = await approvalGate(event({ taskToken: "token-of-attempt-2" }), deps);
    expect(second).toEqual({ ...first, emailed: false });
    expect(w.logged.at(-1)).toEqual([
      "approval requested",
      expect.objectContaining({ emailed: false }),
    ]);
    expect(w.mailer.outbox).toHaveLength(2);
    const id = first.mode === "requested" ? first.approvalId : "";
    const token = JSON.parse(w.records.data.get(recordKeys.approvalToken(id))?.json ?? "{}");
    expect(token).toEqual({ approvalId: id, taskToken: "token-of-attempt-2" });
    expect(
      [...w.records.data.keys()].filter((k) => /^approvals\/[A-Za-z0-9_-]{24}\.json$/.test(k)),
    ).toEqual([recordKeys.approval(id)]);
  });

  it("emails again on a retry when the first attempt failed before every approver was emailed", async () => {
    const w = world();
    failFirstEmailTo(w, "bob@example.com");
    await expect(approvalGate(event(), w.deps)).rejects.toThrow("SES throttled");
    const retried = await approvalGate(event({ taskToken: "token-2" }), w.deps);
    expect(retried).toMatchObject({ mode: "requested", emailed: true });
    expect(w.mailer.outbox.map((m) => m.to[0])).toEqual([
      "alice@example.com",
      "alice@example.com",
      "bob@example.com",
    ]);
  });

  it("never puts the task token in an email", async () => {
    const w = world();
    await approvalGate(event(), w.deps);
    for (const message of w.mailer.outbox) {
      expect(`${message.subject}\n${message.text}\n${message.html}`).not.toContain(TOKEN);
    }
  });

  it("sends links that verify, bound to that approver, the action and the expiry", async () => {
    const w = world();
    await approvalGate(event(), w.deps);
    const expiresAt = Math.floor((T0 + 3600_000) / 1000);
    for (const message of w.mailer.outbox) {
      const approver = message.to[0];
      const { approve, reject } = linksIn(message.text);
      expect(approve.startsWith(`https://approve.example.com/approvals/${APPROVAL_ID}?`)).toBe(
        true,
      );
      expect(verifyApprovalLink(paramsOf(approve), keys, T0)).toEqual({
        approvalId: APPROVAL_ID,
        action: "approve",
        approver,
        expiresAt,
      });
      expect(verifyApprovalLink(paramsOf(reject), keys, T0)).toEqual({
        approvalId: APPROVAL_ID,
        action: "reject",
        approver,
        expiresAt,
      });
      expect(paramsOf(approve).kid).toBe(keys.current.id);
    }
  });

  it("uses a fresh approval id when none is injected", async () => {
    const w = world();
    const { newId: _omitted, ...deps } = w.deps;
    const result = await approvalGate(event(), deps);
    if (result.mode !== "requested") throw new Error("expected an approval request");
    expect(result.approvalId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(w.records.data.has(recordKeys.approval(result.approvalId))).toBe(true);
  });

  it("refuses to run without a task token, before anything is sent or stored", async () => {
    const w = world();
    await expect(approvalGate(event({ taskToken: "" }), w.deps)).rejects.toThrow(
      ConfigurationError,
    );
    await expect(approvalGate(event({ taskToken: "", stage: "preprod" }), w.deps)).rejects.toThrow(
      "the approval task was started without a task token",
    );
    expect(w.successes).toEqual([]);
    expect(w.mailer.outbox).toEqual([]);
    expect(w.records.data.size).toBe(0);
  });

  it("reads the signing keys before storing anything, so a bad key leaves no approval behind", async () => {
    const w = world();
    const deps = {
      ...w.deps,
      secrets: { signingKeys: async () => signingKeysFrom("too-short") },
    };
    await expect(approvalGate(event(), deps)).rejects.toThrow(ConfigurationError);
    expect(w.records.data.size).toBe(0);
    expect(w.mailer.outbox).toEqual([]);
    expect(w.successes).toEqual([]);
  });

  it.each([0.01, 0.001, 0.7])(
    "records the policy's durations, not the plan's scaled ones (time scale %d)",
    async (timeScale) => {
      const w = world();
      const e = event({ timeScale });
      expect(e.plan.rollout.stepWaitSeconds).not.toBe(60);
      await approvalGate(e, w.deps);
      const record = JSON.parse(
        w.records.data.get(recordKeys.approval(APPROVAL_ID))?.json ?? "{}",
      ) as ApprovalRecord;
      expect(record.rollout).toEqual({
        steps: [10, 25, 50],
        stepWaitSeconds: 60,
        bakeSeconds: 600,
        alarms: ["hello-prod-errors", "hello-prod-latency"],
      });
      expect(w.mailer.outbox[0]?.text).toContain("each step held 1 min, bake 10 min");
    },
  );

  it("expires the approval after the plan's (scaled) approval timeout", async () => {
    const w = world();
    const result = await approvalGate(event({ timeScale: 0.01 }), w.deps);
    // 3600 s × 0.01 = 36 s
    expect(result).toMatchObject({ expiresAt: new Date(T0 + 36_000).toISOString() });
  });

  it("keeps the first attempt's approval when a later retry runs: same expiry, same links", async () => {
    const w = world();
    failFirstEmailTo(w, "bob@example.com");
    await expect(approvalGate(event(), w.deps)).rejects.toThrow("SES throttled");
    w.clock.advance(90_000);
    const retried = await approvalGate(event({ taskToken: "token-2" }), w.deps);
    // The approval expires when the first attempt said, not 90 s later.
    expect(retried).toMatchObject({ expiresAt: new Date(T0 + 3600_000).toISOString() });
    const [first, , bob] = w.mailer.outbox.map((m) => linksIn(m.text).approve);
    expect(paramsOf(bob ?? "").exp).toBe(paramsOf(first ?? "").exp);
    const stored = w.records.data.get(recordKeys.approval(APPROVAL_ID))?.json ?? "{}";
    expect(JSON.parse(stored)).toMatchObject({ requestedAt: new Date(T0).toISOString() });
  });

  describe("when a record vanishes between a conditional create and the read after it", () => {
    /** A store where `key` already exists (create refuses) but reads as absent. */
    function vanishing(w: ReturnType<typeof world>, key: string) {
      const create = w.records.create.bind(w.records);
      const get = w.records.get.bind(w.records);
      w.records.create = async <T>(k: string, value: T) =>
        k === key ? undefined : create(k, value);
      w.records.get = async <T>(k: string) => (k === key ? undefined : get<T>(k));
    }

    it("fails, naming the approval index, before storing a token or emailing anyone", async () => {
      const w = world();
      const key = recordKeys.approvalOfExecution(testExecution());
      vanishing(w, key);
      await expect(approvalGate(event(), w.deps)).rejects.toThrow(
        new Error(`the approval index ${key} vanished while it was read`),
      );
      expect(w.records.data.size).toBe(0);
      expect(w.mailer.outbox).toEqual([]);
    });

    it("asks for the approval it meant to store when the approval record reads as absent", async () => {
      const w = world();
      vanishing(w, recordKeys.approval(APPROVAL_ID));
      const result = await approvalGate(event(), w.deps);
      expect(result).toMatchObject({ mode: "requested", approvalId: APPROVAL_ID, emailed: true });
      expect(w.mailer.outbox.map((m) => m.to)).toEqual([
        ["alice@example.com"],
        ["bob@example.com"],
      ]);
    });
  });
  describe("when a watched alarm is already in ALARM (an incident)", () => {
    /** The alarm in ALARM since SINCE, with the metric CloudWatch says it watches. */
    function incident(w: ReturnType<typeof world>, name: string, metricName = "Errors"): void {
      const status: AlarmStatus = {
        name,
        state: "ALARM",
        reason: "Threshold Crossed: 3 datapoints were greater than 5",
        updatedAt: SINCE,
        metricName,
      };
      w.alarms.states.set(name, status);
    }

    /** Nothing happened: no task completed, no record, no email. */
    function untouched(w: ReturnType<typeof world>): void {
      expect(w.successes).toEqual([]);
      expect(w.records.data.size).toBe(0);
      expect(w.mailer.outbox).toEqual([]);
    }

    it("refuses a deployment that does not say it is a fix, before storing or sending anything", async () => {
      const w = world();
      incident(w, "hello-prod-errors");
      const error = await rejectionOf(approvalGate(event(), w.deps));
      expect(error).toBeInstanceOf(AlarmTriggered);
      expect(error.message).toBe(
        `hello-prod-errors in ALARM since ${SINCE} (Threshold Crossed: 3 datapoints were greater than 5): ` +
          "already in ALARM when the deployment started; a fix deployed during an incident needs " +
          "`gantry deploy --fix-for hello-prod-errors`",
      );
      untouched(w);
    });

    it("refuses it in a stage that needs no approval too", async () => {
      const w = world();
      incident(w, "hello-preprod-errors");
      await expect(approvalGate(event({ stage: "preprod" }), w.deps)).rejects.toThrow(
        AlarmTriggered,
      );
      untouched(w);
    });

    it("refuses a fix for one alarm while another watched alarm is in ALARM too", async () => {
      const w = world();
      incident(w, "hello-prod-errors");
      incident(w, "hello-prod-latency", "Duration");
      const error = await rejectionOf(
        approvalGate(event({ fixFor: ["hello-prod-errors"] }), w.deps),
      );
      expect(error).toBeInstanceOf(AlarmTriggered);
      expect(error.message).toMatch(/^hello-prod-latency in ALARM since /);
      expect(error.message).toContain("`gantry deploy --fix-for hello-prod-latency`");
      untouched(w);
    });

    it("refuses a fix for an alarm that is not in ALARM: nothing to fix", async () => {
      const w = world();
      const error = await rejectionOf(
        approvalGate(event({ fixFor: ["hello-prod-errors"] }), w.deps),
      );
      expect(error).toBeInstanceOf(InvalidInput);
      expect((error as InvalidInput).issues).toEqual([
        {
          field: "fixFor",
          reason:
            "hello-prod-errors is OK, not in ALARM: nothing to fix (deploy without --fix-for, or name the alarm that is in ALARM)",
        },
      ]);
      untouched(w);
    });

    it("fails with ConfigurationError when CloudWatch does not know a registry alarm", async () => {
      const w = world();
      w.alarms.states.delete("hello-prod-latency");
      await expect(approvalGate(event(), w.deps)).rejects.toThrow(
        new ConfigurationError("alarms not found: hello-prod-latency"),
      );
      untouched(w);
    });

    it("reads the alarms before anything else, and only the stage's own", async () => {
      const w = world();
      const asked: (readonly string[])[] = [];
      const describe = w.alarms.describe.bind(w.alarms);
      w.alarms.describe = async (names) => {
        asked.push(names);
        return describe(names);
      };
      await approvalGate(event(), w.deps);
      expect(asked).toEqual([["hello-prod-errors", "hello-prod-latency"]]);
    });

    it("asks people for a fix, saying so in the record, the subject, the text and the HTML", async () => {
      const w = world();
      incident(w, "hello-prod-errors");
      const result = await approvalGate(event({ fixFor: ["hello-prod-errors"] }), w.deps);
      const fix = {
        alarms: [{ name: "hello-prod-errors", since: SINCE, metricName: "Errors" }],
        metric: "errors",
        previousVersion: "4",
      };
      expect(result).toEqual({
        mode: "requested",
        approvalId: APPROVAL_ID,
        approvers: ["alice@example.com", "bob@example.com"],
        expiresAt: new Date(T0 + 3600_000).toISOString(),
        emailed: true,
        fix,
      });
      const stored = JSON.parse(
        w.records.data.get(recordKeys.approval(APPROVAL_ID))?.json ?? "{}",
      ) as ApprovalRecord;
      expect(stored.fix).toEqual(fix);

      const line =
        `Deploying during an incident: a fix for hello-prod-errors (in ALARM since ${SINCE}); ` +
        "the version analysis judges it, not that alarm: it must do better than version 4 on the failure rate";
      const message = w.mailer.outbox[0];
      expect(message?.subject).toBe(
        `[Gantry] Approve hello-service ${VERSION.slice(0, 12)} for prod (incident fix)?`,
      );
      // First thing after the greeting line, and again among the facts.
      expect(message?.text.split("\n")[2]).toBe(`${line}.`);
      expect(message?.text).toContain(`Incident fix: ${line}`);
      expect(message?.text).toContain(
        "Watched alarms: hello-prod-errors, hello-prod-latency (not hello-prod-errors: this deployment fixes it)",
      );
      expect(message?.html).toContain(`<strong>${line}.</strong>`);
      expect(w.logged.at(-1)).toEqual([
        "approval requested",
        expect.objectContaining({ fixFor: ["hello-prod-errors"] }),
      ]);
    });

    it("judges a fix for a Duration alarm on p99 latency", async () => {
      const w = world();
      incident(w, "hello-prod-latency", "Duration");
      const result = await approvalGate(event({ fixFor: ["hello-prod-latency"] }), w.deps);
      expect(result).toMatchObject({ fix: { metric: "latency" } });
      expect(w.mailer.outbox[0]?.text).toContain(
        "it must do better than version 4 on p99 latency.",
      );
    });

    it("names both alarms of a fix for two, and judges it on latency when one watches Duration", async () => {
      const w = world();
      incident(w, "hello-prod-errors");
      incident(w, "hello-prod-latency", "Duration");
      const fixFor = ["hello-prod-errors", "hello-prod-latency"];
      await approvalGate(event({ fixFor }), w.deps);
      expect(w.mailer.outbox[0]?.text).toContain(
        `a fix for hello-prod-errors (in ALARM since ${SINCE}) and hello-prod-latency (in ALARM since ${SINCE}); ` +
          "the version analysis judges it, not those alarms: it must do better than version 4 on p99 latency",
      );
      expect(w.mailer.outbox[0]?.text).toContain("this deployment fixes them)");
    });

    it("says 'the version serving now' when it cannot read the alias", async () => {
      const w = world();
      incident(w, "hello-prod-errors");
      const { functions: _none, ...deps } = w.deps;
      const result = await approvalGate(event({ fixFor: ["hello-prod-errors"] }), deps);
      expect(result).toMatchObject({ fix: { metric: "errors" } });
      expect(result).not.toHaveProperty("fix.previousVersion");
      expect(w.mailer.outbox[0]?.text).toContain(
        "it must do better than the version serving now on the failure rate.",
      );
    });

    it("never auto-approves a fix, even when a rule matches the verified trigger, and says why", async () => {
      const w = world();
      incident(w, "hello-prod-errors");
      const e = event({ verified: verifiedTrigger(), fixFor: ["hello-prod-errors"] });
      const result = await approvalGate(e, w.deps);
      expect(result).toMatchObject({
        mode: "requested",
        emailed: true,
        autoApprovalWithheld: { index: 0, matched: "actor dependabot[bot]" },
      });
      expect(w.successes).toEqual([]);
      expect(w.mailer.outbox).toHaveLength(2);
      expect(w.logged[0]).toEqual([
        "auto-approval rule not applied: a fix deployed during an incident needs people",
        { stage: "prod", rule: 1, matched: "actor dependabot[bot]", fixFor: ["hello-prod-errors"] },
      ]);
    });

    it("still needs no approval where the stage asks nobody, and says what it fixes", async () => {
      const w = world();
      incident(w, "hello-preprod-errors");
      const e = event({ stage: "preprod", fixFor: ["hello-preprod-errors"] });
      const result = await approvalGate(e, w.deps);
      expect(result).toEqual({
        mode: "not-required",
        by: "policy:preprod",
        fix: {
          alarms: [{ name: "hello-preprod-errors", since: SINCE, metricName: "Errors" }],
          metric: "errors",
          previousVersion: "4",
        },
      });
      expect(w.mailer.outbox).toEqual([]);
    });

    it("reads a state without plan.fixFor (an earlier Gantry) as no fix", async () => {
      const w = world();
      incident(w, "hello-prod-errors");
      const e = event();
      const { fixFor: _absent, ...older } = e.plan;
      await expect(approvalGate({ ...e, plan: older as typeof e.plan }, w.deps)).rejects.toThrow(
        AlarmTriggered,
      );
    });
  });
});
