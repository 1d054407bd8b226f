/**
 * The approval endpoint against the attacks a signed link must survive. Each attack expects a
 * refusal with a readable page and no change at all: no record written, no task completed.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../ports.ts";
import { signingKeysFrom } from "../signing-keys.ts";
import { recordKeys } from "../state.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
import type { ApprovalServiceDeps } from "./decide.ts";
import { handleApprovalHttp } from "./http.ts";
import { type ApprovalLinkClaims, approvalLink } from "./links.ts";
import type { ApprovalRecord } from "./record.ts";

const NOW = Date.parse("2026-11-22T10:00:00Z");
const KEYS = signingKeysFrom("k".repeat(40));
const OTHER_KEYS = signingKeysFrom("o".repeat(40));
const TOKEN = "AQsecret-task-token-that-must-never-leak";
const ID = "AAAAAAAAAAAAAAAAAAAAAAAA";
const OTHER_ID = "BBBBBBBBBBBBBBBBBBBBBBBB";
const EXECUTION =
  "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:hello-service-3f2a9c1e0b7d-ab12cd34";

function approvalRecord(id: string): ApprovalRecord {
  return {
    id,
    stage: "prod",
    service: "hello-service",
    version: "3f2a9c1e0b7d",
    sha256: "a".repeat(64),
    artifactKey: "hello-service/3f2a9c1e0b7d.zip",
    commitUrl: "https://github.com/acme/hello-service/commit/3f2a9c1e0b7d",
    execution: {
      id: EXECUTION,
      name: "hello-service-3f2a9c1e0b7d-ab12cd34",
      startedAt: "2026-11-22T09:59:00.000Z",
    },
    trigger: { actor: "octocat", ciRunUrl: "https://ci.example.com/run/7" },
    approvers: ["alice@example.com", "bob@example.com"],
    requestedAt: new Date(NOW - 60_000).toISOString(),
    expiresAt: new Date(NOW + 3_600_000).toISOString(),
    preprod: {
      required: true,
      validatedAt: "2026-11-22T09:00:00Z",
      validatedBy: "ci",
      preprodVersion: "7",
      alarms: [],
    },
    rollout: {
      steps: [10, 25, 50],
      stepWaitSeconds: 60,
      bakeSeconds: 600,
      alarms: ["hello-service-prod-errors"],
    },
  };
}

let records: MemoryRecords;
let calls: { kind: string; token: string; detail: unknown }[];
let status: ExecutionStatus | undefined;
let deps: ApprovalServiceDeps;

beforeEach(async () => {
  records = new MemoryRecords();
  calls = [];
  status = "RUNNING";
  for (const id of [ID, OTHER_ID]) {
    await records.create(recordKeys.approval(id), approvalRecord(id));
    await records.create(recordKeys.approvalToken(id), {
      approvalId: id,
      taskToken: `${TOKEN}-${id}`,
    });
  }
  deps = {
    records,
    secrets: { signingKeys: async () => KEYS },
    decisionKeys: { signingKeys: async () => signingKeysFrom("d".repeat(40)) },
    clock: { now: () => NOW },
    workflows: {
      sendTaskSuccess: async (token, output) =>
        void calls.push({ kind: "success", token, detail: output }),
      sendTaskFailure: async (token, error, cause) =>
        void calls.push({ kind: "failure", token, detail: { error, cause } }),
      executionStatus: async () => status,
    },
  };
});

function claims(overrides: Partial<ApprovalLinkClaims> = {}): ApprovalLinkClaims {
  return {
    approvalId: ID,
    action: "approve",
    approver: "alice@example.com",
    expiresAt: Math.floor(NOW / 1000) + 3600,
    ...overrides,
  };
}

/** The query string of a link, as it arrives. */
function query(c: ApprovalLinkClaims = claims(), keys = KEYS): string {
  return new URL(approvalLink("https://approve.example.com", c, keys.current)).search.slice(1);
}

const get = (q: string, id = ID) =>
  handleApprovalHttp({ method: "GET", path: `/approvals/${id}`, query: q }, deps);
const post = (form: string, id = ID) =>
  handleApprovalHttp(
    {
      method: "POST",
      path: `/approvals/${id}`,
      query: "",
      contentType: "application/x-www-form-urlencoded",
      body: form,
    },
    deps,
  );

function snapshot(): string {
  return JSON.stringify([...records.data.entries()].sort());
}

function tamper(q: string, name: string, value: string): string {
  const params = new URLSearchParams(q);
  params.set(name, value);
  return params.toString();
}

describe("a signed link", () => {
  it("GET shows a confirmation page that decides nothing", async () => {
    const before = snapshot();
    const response = await get(query());
    expect(response.status).toBe(200);
    expect(response.body).toContain(
      "Approve the deployment of hello-service 3f2a9c1e0b7d to prod?",
    );
    expect(response.body).toContain(
      '<form method="post" action="/approvals/AAAAAAAAAAAAAAAAAAAAAAAA">',
    );
    expect(response.body).toContain("https://ci.example.com/run/7");
    expect(snapshot()).toBe(before);
    expect(calls).toEqual([]);
  });

  it("GET of a fix's link shows what it fixes and what judges it, from the stored record", async () => {
    const fixRecord: ApprovalRecord = {
      ...approvalRecord(ID),
      fix: {
        alarms: [{ name: "hello-service-prod-errors", since: "2026-11-22T09:40:00.000Z" }],
        metric: "errors",
        previousVersion: "4",
      },
    };
    await records.put(recordKeys.approval(ID), fixRecord);
    const response = await get(query());
    expect(response.status).toBe(200);
    expect(response.body).toContain(
      "Deploying during an incident: a fix for hello-service-prod-errors (in ALARM since 2026-11-22T09:40:00.000Z); " +
        "the version analysis judges it, not that alarm: it must do better than version 4 on the failure rate.",
    );
  });

  it("HEAD (a mail scanner) decides nothing either", async () => {
    const before = snapshot();
    const response = await handleApprovalHttp(
      { method: "HEAD", path: `/approvals/${ID}`, query: query() },
      deps,
    );
    expect(response.status).toBe(200);
    expect(response.body).toBe("");
    expect(snapshot()).toBe(before);
    expect(calls).toEqual([]);
  });

  it("POST of the confirmation form approves, with the approver and the comment", async () => {
    const response = await post(`${query()}&comment=${encodeURIComponent("looks good")}`);
    expect(response.status).toBe(200);
    expect(response.body).toContain("Approved: hello-service 3f2a9c1e0b7d to prod");
    expect(calls).toEqual([
      {
        kind: "success",
        token: `${TOKEN}-${ID}`,
        detail: {
          approved: true,
          how: "approver",
          by: "alice@example.com",
          at: new Date(NOW).toISOString(),
          approvalId: ID,
          comment: "looks good",
        },
      },
    ]);
    expect(
      JSON.parse(records.data.get(recordKeys.approvalDecision(ID))?.json ?? "{}"),
    ).toMatchObject({
      decision: "approved",
      by: "alice@example.com",
      channel: "link",
    });
  });

  it("POST of a reject link fails the task with ApprovalRejected, naming who and why", async () => {
    const response = await post(
      `${query(claims({ action: "reject", approver: "bob@example.com" }))}&comment=not+now`,
    );
    expect(response.status).toBe(200);
    expect(response.body).toContain("Rejected");
    expect(calls).toEqual([
      {
        kind: "failure",
        token: `${TOKEN}-${ID}`,
        detail: {
          error: "ApprovalRejected",
          cause: `rejected by bob@example.com at ${new Date(NOW).toISOString()}: not now`,
        },
      },
    ]);
  });

  it("carries the security headers: no referrer, no framing, no scripts, no caching", async () => {
    const response = await get(query());
    expect(response.headers).toMatchObject({
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cache-control": "no-store",
    });
    expect(response.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(response.body).not.toContain("<script");
  });
});

describe("attacks, each refused with no change", () => {
  const attacks: [string, () => Promise<{ status: number; body: string }>, number][] = [
    [
      "an altered signature",
      () =>
        post(
          tamper(
            query(),
            "sig",
            `${query()
              .match(/sig=([^&]+)/)?.[1]
              ?.slice(0, -2)}AA`,
          ),
        ),
      403,
    ],
    ["a swapped action", () => post(tamper(query(), "action", "reject")), 403],
    ["a swapped approver", () => post(tamper(query(), "approver", "bob@example.com")), 403],
    [
      "an altered expiry",
      () => post(tamper(query(), "exp", String(Math.floor(NOW / 1000) + 99_999))),
      403,
    ],
    ["a link of one approval used on another", () => post(query(), OTHER_ID), 403],
    ["a link signed with another key", () => post(query(claims(), OTHER_KEYS)), 403],
    ["an unknown key id", () => post(tamper(query(), "kid", "k-unknown1")), 403],
    ["an expired link", () => post(query(claims({ expiresAt: Math.floor(NOW / 1000) - 1 }))), 410],
    [
      "an approver not on the list (validly signed)",
      () => post(query(claims({ approver: "mallory@example.com" }))),
      403,
    ],
    [
      "an unknown approval id",
      () =>
        post(query(claims({ approvalId: "CCCCCCCCCCCCCCCCCCCCCCCC" })), "CCCCCCCCCCCCCCCCCCCCCCCC"),
      404,
    ],
    ["a malformed id", () => post(query(), "../../etc"), 404],
    ["a missing signature", () => post(query().replace(/&sig=[^&]+/, "")), 400],
    ["a malformed expiry", () => post(tamper(query(), "exp", "tomorrow")), 400],
    [
      "an oversized approver",
      () => post(tamper(query(), "approver", `${"a".repeat(400)}@example.com`)),
      400,
    ],
    ["a parameter given twice", () => post(`${query()}&action=reject`), 400],
    ["an oversized form", () => post(`${query()}&comment=${"x".repeat(9000)}`), 400],
    ["an oversized comment", () => post(`${query()}&comment=${"x".repeat(1200)}`), 400],
    ["an oversized query string on GET", () => get(`${query()}&pad=${"x".repeat(3000)}`), 400],
    [
      "a form that is not a form",
      () =>
        handleApprovalHttp(
          {
            method: "POST",
            path: `/approvals/${ID}`,
            query: "",
            contentType: "application/json",
            body: JSON.stringify({}),
          },
          deps,
        ),
      400,
    ],
    [
      "another method",
      () =>
        handleApprovalHttp({ method: "DELETE", path: `/approvals/${ID}`, query: query() }, deps),
      405,
    ],
  ];

  it.each(attacks)("refuses %s", async (_name, attack, expected) => {
    const before = snapshot();
    const response = await attack();
    expect(response.status).toBe(expected);
    expect(response.body).toMatch(/<h1>[^<]+<\/h1>/);
    expect(snapshot()).toBe(before);
    expect(calls).toEqual([]);
  });

  it("refuses a replay of a used link with 409, saying by whom and when", async () => {
    expect((await post(query())).status).toBe(200);
    const before = snapshot();
    const replay = await post(query());
    expect(replay.status).toBe(409);
    expect(replay.body).toContain(
      `already approved by alice@example.com at ${new Date(NOW).toISOString()}`,
    );
    const otherApprover = await post(
      query(claims({ action: "reject", approver: "bob@example.com" })),
    );
    expect(otherApprover.status).toBe(409);
    expect((await get(query())).status).toBe(409);
    expect(snapshot()).toBe(before);
    expect(calls).toHaveLength(1);
  });

  it("lets exactly one of two simultaneous clicks win", async () => {
    const results = await Promise.all([
      post(query()),
      post(query(claims({ approver: "bob@example.com", action: "reject" }))),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(calls).toHaveLength(1);
  });

  it("answers 410 when the execution is no longer waiting (timed out, stopped)", async () => {
    status = "ABORTED";
    const before = snapshot();
    const response = await post(query());
    expect(response.status).toBe(410);
    expect(response.body).toContain("no longer waiting");
    expect(snapshot()).toBe(before);
    expect(calls).toEqual([]);
  });

  it("never echoes a task token or a signing key", async () => {
    const pages = [
      await get(query()),
      await post(tamper(query(), "action", "reject")),
      await post(query()),
      await post(query()),
    ];
    for (const page of pages) {
      expect(page.body).not.toContain(TOKEN);
      expect(page.body).not.toContain(KEYS.current.secret);
    }
  });
});

/** The hidden fields of the confirmation page's form, as a browser would send them back. */
function formFields(page: string): URLSearchParams {
  const entities = (s: string) =>
    s
      .replaceAll("&quot;", '"')
      .replaceAll("&#39;", "'")
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&amp;", "&");
  const fields = new URLSearchParams();
  for (const [, name, value] of page.matchAll(
    /<input type="hidden" name="([^"]*)" value="([^"]*)">/g,
  )) {
    fields.append(entities(name ?? ""), entities(value ?? ""));
  }
  return fields;
}

const postAs = (contentType: string | undefined, body: string | undefined) =>
  handleApprovalHttp(
    { method: "POST", path: `/approvals/${ID}`, query: "", contentType, body },
    deps,
  );

/** A link's query string padded (with a parameter Gantry ignores) to exactly `length` characters. */
function padded(q: string, length: number): string {
  const prefix = `${q}&pad=`;
  return prefix + "x".repeat(length - prefix.length);
}

describe("the confirmation form", () => {
  it("sends back exactly the link's parameters, and posting it decides", async () => {
    const page = (await get(query())).body;
    const fields = formFields(page);
    expect([...fields.entries()]).toEqual([...new URLSearchParams(query()).entries()]);
    fields.set("comment", "from the page");
    const response = await post(fields.toString());
    expect(response.status).toBe(200);
    expect(response.body).toContain("Approved: hello-service 3f2a9c1e0b7d to prod");
    expect(calls).toHaveLength(1);
  });
});

describe("response headers", () => {
  const SECURITY_HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  };

  it.each<[string, () => Promise<{ status: number; headers: Record<string, string> }>, number]>([
    ["a confirmation page", () => get(query()), 200],
    ["a decision page", () => post(query()), 200],
    ["a refusal", () => post(tamper(query(), "action", "reject")), 403],
    ["a path that is not an approval", () => get(query(), "../x"), 404],
  ])("are exactly the security headers on %s", async (_name, request, expected) => {
    const response = await request();
    expect(response.status).toBe(expected);
    expect(response.headers).toEqual(SECURITY_HEADERS);
  });

  it("add Allow to a 405", async () => {
    const response = await handleApprovalHttp(
      { method: "PUT", path: `/approvals/${ID}`, query: query() },
      deps,
    );
    expect(response.status).toBe(405);
    expect(response.headers).toEqual({ ...SECURITY_HEADERS, allow: "GET, HEAD, POST" });
  });
});

describe("paths", () => {
  it.each([
    `/prefix/approvals/${ID}`,
    `/approvals/${ID}/extra`,
    `/approvals/${"A".repeat(65)}`,
    "/approvals/",
    "/",
  ])("answers 404 Not found for %s, which is not an approval link", async (path) => {
    const response = await handleApprovalHttp({ method: "GET", path, query: query() }, deps);
    expect(response.status).toBe(404);
    expect(response.body).toContain("<h1>Not found</h1>");
  });

  it("accepts the approval path with a trailing slash", async () => {
    const response = await handleApprovalHttp(
      { method: "GET", path: `/approvals/${ID}/`, query: query() },
      deps,
    );
    expect(response.status).toBe(200);
  });
});

describe("request limits and shape", () => {
  it("accepts a query string of exactly 2048 characters and refuses 2049", async () => {
    expect((await get(padded(query(), 2048))).status).toBe(200);
    const refused = await get(padded(query(), 2049));
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("This link is too long to be one of Gantry&#39;s.");
  });

  it("accepts a form of exactly 8192 characters and refuses 8193 as too large", async () => {
    const refused = await post(padded(query(), 8193));
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("The form is too large.");
    expect(calls).toEqual([]);
    expect((await post(padded(query(), 8192))).status).toBe(200);
  });

  it.each([
    "application/x-www-form-urlencoded; charset=UTF-8",
    "Application/X-WWW-Form-URLEncoded",
  ])("accepts the form content type %j", async (contentType) => {
    expect((await postAs(contentType, query())).status).toBe(200);
  });

  it.each([
    ["text/plain", "text/plain"],
    ["multipart/form-data", "multipart/form-data; boundary=x"],
    ["no content type", undefined],
  ])("refuses a valid link posted as %s", async (_name, contentType) => {
    const response = await postAs(contentType, query());
    expect(response.status).toBe(400);
    expect(response.body).toContain("Decisions are sent by the confirmation page&#39;s form.");
    expect(calls).toEqual([]);
  });

  it("refuses a form POST with no body", async () => {
    const response = await postAs("application/x-www-form-urlencoded", undefined);
    expect(response.status).toBe(400);
    expect(calls).toEqual([]);
  });

  it.each(["action", "approver", "exp", "kid", "sig"])(
    "refuses a link that names %s twice",
    async (name) => {
      const q = `${query()}&${name}=${new URLSearchParams(query()).get(name)}`;
      for (const response of [await get(q), await post(q)]) {
        expect(response.status).toBe(400);
        expect(response.body).toContain(`The link names ${name} twice.`);
      }
      expect(calls).toEqual([]);
    },
  );

  it("answers a refused HEAD with the status and no body", async () => {
    const head = await handleApprovalHttp(
      { method: "head", path: `/approvals/${ID}`, query: tamper(query(), "action", "reject") },
      deps,
    );
    expect(head).toMatchObject({ status: 403, body: "" });
    expect((await get(tamper(query(), "action", "reject"))).body).toContain(
      "<h1>Invalid link</h1>",
    );
  });

  it("lets an unexpected failure propagate instead of rendering it as a refusal", async () => {
    const failure = new Error("secret store unavailable");
    deps = { ...deps, secrets: { signingKeys: async () => Promise.reject(failure) } };
    await expect(get(query())).rejects.toBe(failure);
    await expect(post(query())).rejects.toBe(failure);
  });
});
