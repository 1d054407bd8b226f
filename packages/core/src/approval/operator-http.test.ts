import { beforeEach, describe, expect, it } from "vitest";
import { type ExecutionStatus, silentLog } from "../ports.ts";
import { signingKeysFrom } from "../signing-keys.ts";
import { recordKeys } from "../state.ts";
import { MemoryRecords } from "../testing/memory-world.ts";
import { handleOperatorHttp, type OperatorApiDeps } from "./operator-http.ts";
import { LOCAL_OPERATOR } from "./operators.ts";
import type { ApprovalRecord } from "./record.ts";

const NOW = Date.parse("2026-11-22T10:00:00Z");
const ID = "AAAAAAAAAAAAAAAAAAAAAAAA";
const EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:hello-1";

let records: MemoryRecords;
let statuses: Map<string, ExecutionStatus>;
let sent: unknown[];
let deps: OperatorApiDeps;

const approval: ApprovalRecord = {
  id: ID,
  stage: "prod",
  service: "hello-service",
  version: "3f2a9c1e0b7d",
  sha256: "a".repeat(64),
  artifactKey: "hello-service/3f2a9c1e0b7d.zip",
  execution: { id: EXECUTION, name: "hello-1", startedAt: new Date(NOW - 5000).toISOString() },
  trigger: { actor: "octocat" },
  approvers: ["alice@example.com"],
  requestedAt: new Date(NOW - 1000).toISOString(),
  expiresAt: new Date(NOW + 60_000).toISOString(),
  rollout: { steps: [10], stepWaitSeconds: 60, bakeSeconds: 60, alarms: [] },
};

beforeEach(async () => {
  records = new MemoryRecords();
  statuses = new Map([[EXECUTION, "RUNNING"]]);
  sent = [];
  deps = {
    records,
    bytes: records,
    stage: "prod",
    decisionKeys: { signingKeys: async () => signingKeysFrom("d".repeat(40)) },
    clock: { now: () => NOW },
    workflows: {
      sendTaskSuccess: async (token, output) => void sent.push({ token, output }),
      sendTaskFailure: async (token, error) => void sent.push({ token, error }),
      executionStatus: async (arn) => statuses.get(arn),
    },
    operators: { "alice@example.com": { local: true } },
  };
  await records.create(recordKeys.approval(ID), approval);
  await records.create(recordKeys.approvalToken(ID), { approvalId: ID, taskToken: "t" });
});

const post = (body: string, contentType = "application/json", principal = LOCAL_OPERATOR) =>
  handleOperatorHttp(
    { method: "POST", path: `/operator/approvals/${ID}`, contentType, body, principal },
    deps,
  );
const answer = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;
const send = (method: string, path: string, body?: unknown, contentType?: string) =>
  handleOperatorHttp(
    {
      method,
      path,
      ...(contentType === undefined ? {} : { contentType }),
      ...(body === undefined
        ? {}
        : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      principal: LOCAL_OPERATOR,
    },
    deps,
  );
/** Pads a JSON body with trailing whitespace (still valid JSON) to exactly `length` characters. */
const padded = (body: unknown, length: number) => {
  const text = JSON.stringify(body);
  return text + " ".repeat(length - text.length);
};
const DECIDE_USAGE = 'send { action: "approve" | "reject", as?: <approver email>, comment? }';
const UNLOCK_USAGE =
  "send { reason: <why>, etag?: <the inspected lock's ETag>, forceDamaged?: boolean }";
const OVERSIZED = "send a JSON body of at most 8 KiB";

describe("the operator API", () => {
  it("lists pending approvals", async () => {
    const response = await handleOperatorHttp(
      { method: "GET", path: "/operator/approvals", principal: LOCAL_OPERATOR },
      deps,
    );
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    expect((answer(response).approvals as ApprovalRecord[]).map((a) => a.id)).toEqual([ID]);
  });

  it("decides as the approver the authenticated principal maps to", async () => {
    const response = await post(JSON.stringify({ action: "approve", comment: "ok" }));
    expect(response.status).toBe(200);
    expect(answer(response).decision).toMatchObject({
      by: "alice@example.com",
      principal: LOCAL_OPERATOR,
      channel: "operator",
      comment: "ok",
    });
    expect(sent).toHaveLength(1);
  });

  it.each([
    ["text/plain (a cross-site form or fetch without preflight)", "text/plain"],
    ["a form", "application/x-www-form-urlencoded"],
    ["multipart", "multipart/form-data; boundary=x"],
    ["no content type", ""],
  ])("refuses %s with 415 before reading it", async (_name, contentType) => {
    const response = await post(JSON.stringify({ action: "approve" }), contentType);
    expect(response.status).toBe(415);
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
  });

  it("accepts a charset on the JSON media type", async () => {
    const response = await post(
      JSON.stringify({ action: "reject" }),
      "Application/JSON; charset=utf-8",
    );
    expect(response.status).toBe(200);
  });

  it.each([
    ["not JSON", "{"],
    ["an array", "[]"],
    ["null", "null"],
    ["no action", "{}"],
    ["another action", JSON.stringify({ action: "approve-all" })],
    [
      "a claimed operator identity",
      JSON.stringify({ action: "approve", operator: "bob@example.com" }),
    ],
    [
      "a claimed principal",
      JSON.stringify({ action: "approve", principal: "arn:aws:iam::1:root" }),
    ],
    ["a non-string comment", JSON.stringify({ action: "approve", comment: { x: 1 } })],
    ["an oversized body", JSON.stringify({ action: "approve", comment: "x".repeat(9000) })],
  ])("refuses %s with 400, deciding nothing", async (_name, body) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
  });

  it("refuses a principal the registry does not map, with 403", async () => {
    const response = await post(
      JSON.stringify({ action: "approve" }),
      "application/json",
      "arn:aws:iam::1:user/eve",
    );
    expect(response.status).toBe(403);
    expect(sent).toEqual([]);
  });

  it("answers 404 for other paths and 405 for other methods", async () => {
    const other = await handleOperatorHttp(
      { method: "GET", path: "/operator/else", principal: LOCAL_OPERATOR },
      deps,
    );
    expect(other.status).toBe(404);
    const put = await handleOperatorHttp(
      { method: "PUT", path: `/operator/approvals/${ID}`, principal: LOCAL_OPERATOR },
      deps,
    );
    expect(put.status).toBe(405);
    const postList = await handleOperatorHttp(
      { method: "POST", path: "/operator/approvals", principal: LOCAL_OPERATOR },
      deps,
    );
    expect(postList.status).toBe(405);
  });

  it("says 500 without details when something unexpected fails", async () => {
    deps = {
      ...deps,
      workflows: {
        ...deps.workflows,
        executionStatus: () => Promise.reject(new Error("boom: secret detail")),
      },
    };
    const response = await post(JSON.stringify({ action: "approve" }));
    expect(response.status).toBe(500);
    expect(response.body).not.toContain("secret detail");
  });
});

describe("the operator API's lock route", () => {
  const LOCK_KEY = recordKeys.lock("hello-service");
  const OWNER = "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:hello-0";
  const PATH = "/operator/locks/prod/hello-service";
  const garble = () => records.data.set(LOCK_KEY, { json: "{not json", etag: '"g"' });
  const unlock = (
    body: unknown,
    options: { path?: string; principal?: string; type?: string } = {},
  ) =>
    handleOperatorHttp(
      {
        method: "POST",
        path: options.path ?? PATH,
        contentType: options.type ?? "application/json",
        body: typeof body === "string" ? body : JSON.stringify(body),
        principal: options.principal ?? LOCAL_OPERATOR,
      },
      deps,
    );

  it("shows the lock on GET, and breaks a damaged one on POST with forceDamaged, audited", async () => {
    garble();
    const seen = await handleOperatorHttp(
      { method: "GET", path: PATH, principal: LOCAL_OPERATOR },
      deps,
    );
    expect(seen.status).toBe(200);
    expect(answer(seen).lock).toMatchObject({ key: LOCK_KEY, etag: '"g"', damaged: "is not JSON" });

    const refused = await unlock({ reason: "bad restore", etag: '"g"' });
    expect(refused.status).toBe(409);
    expect(answer(refused)).toMatchObject({ error: "Lock damaged", lock: { etag: '"g"' } });

    const done = await unlock({ reason: "bad restore", etag: '"g"', forceDamaged: true });
    expect(done.status, done.body).toBe(200);
    expect(answer(done)).toMatchObject({ broken: true, key: LOCK_KEY });
    expect(records.data.has(LOCK_KEY)).toBe(false);
    expect(await records.list("audit/locks/hello-service/")).toHaveLength(1);
  });

  it("refuses while the owner runs (409), and answers 404 when there is no lock", async () => {
    await records.create(LOCK_KEY, {
      owner: OWNER,
      service: "hello-service",
      version: "v1",
      acquiredAt: new Date(NOW).toISOString(),
    });
    statuses.set(OWNER, "RUNNING");
    expect((await unlock({ reason: "stuck" })).status).toBe(409);
    expect(records.data.has(LOCK_KEY)).toBe(true);
    statuses.set(OWNER, "FAILED");
    expect((await unlock({ reason: "stuck" })).status).toBe(200);
    expect((await unlock({ reason: "again" })).status).toBe(404);
  });

  it("is for registered operators only (403), whatever the body says", async () => {
    garble();
    const response = await unlock(
      { reason: "mine now", forceDamaged: true },
      { principal: "arn:aws:iam::000000000000:user/eve" },
    );
    expect(response.status).toBe(403);
    expect(records.data.has(LOCK_KEY)).toBe(true);
  });

  it("refuses another stage's path (404), other methods (405), non-JSON bodies (415), bad bodies (400)", async () => {
    garble();
    expect(
      (
        await unlock(
          { reason: "x y z", forceDamaged: true },
          { path: "/operator/locks/preprod/hello-service" },
        )
      ).status,
    ).toBe(404);
    expect(
      (await handleOperatorHttp({ method: "DELETE", path: PATH, principal: LOCAL_OPERATOR }, deps))
        .status,
    ).toBe(405);
    expect((await unlock("reason=x", { type: "application/x-www-form-urlencoded" })).status).toBe(
      415,
    );
    expect((await unlock("reason=x", { type: "text/plain" })).status).toBe(415);
    expect((await unlock({ reason: "ok ok", principal: "alice" })).status).toBe(400);
    expect((await unlock({ reason: 5 })).status).toBe(400);
    expect((await unlock({ reason: "ok ok", forceDamaged: "yes" })).status).toBe(400);
    expect((await unlock("{")).status).toBe(400);
    expect(
      (await unlock({ reason: "ok ok" }, { path: "/operator/locks/prod/Hello_Service" })).status,
    ).toBe(400);
    expect(records.data.has(LOCK_KEY)).toBe(true);
    expect(await records.list("audit/")).toEqual([]);
  });
});

describe("the operator API's refusals", () => {
  const LOCK = "/operator/locks/prod/hello-service";
  const JSON_TYPE = "application/json";
  const decision = { action: "approve" };
  const breaking = { reason: "stuck", forceDamaged: true };
  const garble = () =>
    records.data.set(recordKeys.lock("hello-service"), { json: "{not json", etag: '"g"' });
  const untouched = async () => {
    expect(records.data.has(recordKeys.approvalDecision(ID))).toBe(false);
    expect(sent).toEqual([]);
    expect(records.data.has(recordKeys.lock("hello-service"))).toBe(true);
    expect(await records.list("audit/")).toEqual([]);
  };

  // The CLI shows `error` and `message` to the operator, so both are part of the contract.
  it.each([
    [
      "POST on the list",
      "POST",
      "/operator/approvals",
      decision,
      JSON_TYPE,
      405,
      "MethodNotAllowed",
      "use GET",
    ],
    [
      "GET on a decision",
      "GET",
      `/operator/approvals/${ID}`,
      undefined,
      undefined,
      405,
      "MethodNotAllowed",
      "use POST",
    ],
    [
      "PUT on a decision",
      "PUT",
      `/operator/approvals/${ID}`,
      decision,
      JSON_TYPE,
      405,
      "MethodNotAllowed",
      "use POST",
    ],
    [
      "DELETE on a lock",
      "DELETE",
      LOCK,
      undefined,
      undefined,
      405,
      "MethodNotAllowed",
      "use GET to inspect, POST to break",
    ],
    [
      "a decision as a form",
      "POST",
      `/operator/approvals/${ID}`,
      "action=approve",
      "application/x-www-form-urlencoded",
      415,
      "UnsupportedMediaType",
      "send the decision as application/json",
    ],
    [
      "a decision without a content type",
      "POST",
      `/operator/approvals/${ID}`,
      decision,
      undefined,
      415,
      "UnsupportedMediaType",
      "send the decision as application/json",
    ],
    [
      "a lock break as text",
      "POST",
      LOCK,
      JSON.stringify(breaking),
      "text/plain",
      415,
      "UnsupportedMediaType",
      "send the request as application/json",
    ],
    [
      "a lock break without a content type",
      "POST",
      LOCK,
      breaking,
      undefined,
      415,
      "UnsupportedMediaType",
      "send the request as application/json",
    ],
    [
      "JSON as a parameter of another type",
      "POST",
      LOCK,
      breaking,
      "text/plain; x=application/json",
      415,
      "UnsupportedMediaType",
      "send the request as application/json",
    ],
    [
      "another stage's lock, inspected",
      "GET",
      "/operator/locks/preprod/hello-service",
      undefined,
      undefined,
      404,
      "NotFound",
      "this operator endpoint serves the prod stage, not preprod: use that stage's endpoint",
    ],
    [
      "another stage's lock, broken",
      "POST",
      "/operator/locks/dev/hello-service",
      breaking,
      JSON_TYPE,
      404,
      "NotFound",
      "this operator endpoint serves the prod stage, not dev: use that stage's endpoint",
    ],
  ])(
    "refuses %s with a problem body",
    async (_name, method, path, body, type, status, error, message) => {
      garble();
      const response = await send(method, path, body, type);
      expect(response).toEqual({
        status,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
        body: JSON.stringify({ error, status, message }),
      });
      await untouched();
    },
  );

  it.each([
    ["an empty id", "/operator/approvals/"],
    ["a trailing slash", `/operator/approvals/${ID}/`],
    ["a sub-path", `/operator/approvals/${ID}/approve`],
    ["a prefix", `/api/operator/approvals/${ID}`],
    ["a dot in the id", `/operator/approvals/${ID}.json`],
    ["an escaped id", `/operator/approvals/%41${ID}`],
    ["a traversal", `/operator/approvals/../locks/prod/hello-service`],
    ["an id over 64 characters", `/operator/approvals/${"A".repeat(65)}`],
    ["a lock without a service", "/operator/locks/prod"],
    ["a lock with an empty service", "/operator/locks/prod/"],
    ["a lock with an empty stage", "/operator/locks//hello-service"],
    ["a lock with a trailing slash", `${LOCK}/`],
    ["a lock with a sub-path", "/operator/locks/prod/hello-service/x"],
    ["a lock with a prefix", `/api${LOCK}`],
    ["a stage with capitals", "/operator/locks/Prod/hello-service"],
    ["a stage with digits", "/operator/locks/prod1/hello-service"],
    ["a stage over 16 letters", `/operator/locks/${"p".repeat(17)}/hello-service`],
    ["a service over 64 characters", `/operator/locks/prod/${"a".repeat(65)}`],
  ])("answers 404 for %s, touching nothing", async (_name, path) => {
    garble();
    for (const [method, body] of [
      ["POST", { action: "approve", ...breaking }],
      ["GET", undefined],
    ] as const) {
      const response = await send(method, path, body, JSON_TYPE);
      expect(response.status).toBe(404);
      expect(answer(response)).toEqual({
        error: "NotFound",
        status: 404,
        message: "unknown operator API path",
      });
    }
    await untouched();
  });

  it.each([
    ["a 1-character id", "/operator/approvals/A", 400, "That is not an approval id."],
    [
      "a 64-character id",
      `/operator/approvals/${"A".repeat(64)}`,
      400,
      "That is not an approval id.",
    ],
    [
      "an id using every allowed character",
      "/operator/approvals/az09AZ_-az09AZ_-az09AZ_-",
      404,
      "There is no approval with this id.",
    ],
    ["a traversal as the service", "/operator/locks/prod/..", 400, "that is not a service name"],
    [
      "a 64-character service",
      `/operator/locks/prod/${"a".repeat(64)}`,
      400,
      "that is not a service name",
    ],
    [
      "a 1-character stage",
      "/operator/locks/p/hello-service",
      404,
      "this operator endpoint serves the prod stage, not p: use that stage's endpoint",
    ],
    [
      "a 16-letter stage",
      `/operator/locks/${"p".repeat(16)}/hello-service`,
      404,
      `this operator endpoint serves the prod stage, not ${"p".repeat(16)}: use that stage's endpoint`,
    ],
  ])("routes %s to its handler, which decides", async (_name, path, status, message) => {
    garble();
    const body = path.startsWith("/operator/locks/") ? breaking : decision;
    const response = await send("POST", path, body, JSON_TYPE);
    expect(response.status).toBe(status);
    expect(answer(response).message).toBe(message);
    await untouched();
  });

  it.each([
    ["no body", undefined, OVERSIZED],
    ["a body over 8 KiB", padded({ action: "approve" }, 8193), OVERSIZED],
    ["not JSON", "{", "the body is not JSON"],
    ["a JSON string", JSON.stringify("approve"), DECIDE_USAGE],
    ["a JSON number", "5", DECIDE_USAGE],
    ["null", "null", DECIDE_USAGE],
    ["an array", JSON.stringify(["approve"]), DECIDE_USAGE],
    ["another action", { action: "approve-all" }, DECIDE_USAGE],
    ["a non-string as", { action: "approve", as: ["alice@example.com"] }, DECIDE_USAGE],
    ["a non-string comment", { action: "approve", comment: 5 }, DECIDE_USAGE],
    [
      "a claimed principal",
      { action: "approve", principal: "arn:aws:iam::1:root" },
      `${DECIDE_USAGE}; unknown fields: principal`,
    ],
    [
      "claimed identities",
      { action: "approve", by: "bob@example.com", approvalId: ID },
      `${DECIDE_USAGE}; unknown fields: by, approvalId`,
    ],
  ])("refuses a decision with %s (400), deciding nothing", async (_name, body, message) => {
    garble();
    const response = await send("POST", `/operator/approvals/${ID}`, body, JSON_TYPE);
    expect(answer(response)).toEqual({ error: "Bad request", status: 400, message });
    await untouched();
  });

  it.each([
    ["no body", undefined, OVERSIZED],
    ["a body over 8 KiB", padded(breaking, 8193), OVERSIZED],
    ["not JSON", "reason=stuck", "the body is not JSON"],
    ["a JSON string", JSON.stringify("stuck"), UNLOCK_USAGE],
    ["a JSON boolean", "true", UNLOCK_USAGE],
    ["null", "null", UNLOCK_USAGE],
    ["an array", JSON.stringify(["stuck"]), UNLOCK_USAGE],
    ["no reason", { forceDamaged: true }, UNLOCK_USAGE],
    ["a non-string etag", { ...breaking, etag: 1 }, UNLOCK_USAGE],
    ["a non-boolean forceDamaged", { reason: "stuck", forceDamaged: "true" }, UNLOCK_USAGE],
    [
      "a claimed principal",
      { ...breaking, principal: LOCAL_OPERATOR },
      `${UNLOCK_USAGE}; unknown fields: principal`,
    ],
    [
      "a claimed service and stage",
      { ...breaking, service: "x", stage: "prod" },
      `${UNLOCK_USAGE}; unknown fields: service, stage`,
    ],
  ])("refuses a lock break with %s (400), breaking nothing", async (_name, body, message) => {
    garble();
    const response = await send("POST", LOCK, body, JSON_TYPE);
    expect(answer(response)).toEqual({ error: "Bad request", status: 400, message });
    await untouched();
  });

  it("accepts bodies of exactly 8 KiB, and JSON media types however written", async () => {
    garble();
    const decided = await send(
      "POST",
      `/operator/approvals/${ID}`,
      padded({ action: "reject" }, 8192),
      " Application/JSON ; charset=utf-8",
    );
    expect(decided.status, decided.body).toBe(200);
    expect(decided.headers["cache-control"]).toBe("no-store");
    const broken = await send(
      "POST",
      LOCK,
      padded(breaking, 8192),
      "APPLICATION/JSON ;charset=utf-8",
    );
    expect(broken.status, broken.body).toBe(200);
    expect(records.data.has(recordKeys.lock("hello-service"))).toBe(false);
  });

  it("breaks nothing when the lock is no longer the one inspected (409)", async () => {
    garble();
    const response = await send("POST", LOCK, { ...breaking, etag: '"stale"' }, JSON_TYPE);
    expect(response.status).toBe(409);
    expect(answer(response)).toMatchObject({ error: "Lock changed", lock: { etag: '"g"' } });
    await untouched();
  });
});

describe("the operator API's identity", () => {
  beforeEach(() => {
    deps = {
      ...deps,
      operators: {
        "alice@example.com": { local: true },
        "bob@example.com": { local: true, iam: ["arn:aws:iam::000000000000:user/bob"] },
      },
    };
  });
  const decideAs = (as: string, principal = LOCAL_OPERATOR) =>
    post(JSON.stringify({ action: "approve", as }), "application/json", principal);

  it("decides as the approver named in `as`, when the principal is registered as them", async () => {
    const response = await decideAs("alice@example.com");
    expect(response.status, response.body).toBe(200);
    expect(answer(response).decision).toMatchObject({
      by: "alice@example.com",
      principal: LOCAL_OPERATOR,
    });
  });

  it.each([
    [
      "an approver the principal is not",
      "alice@example.com",
      "arn:aws:iam::000000000000:user/bob",
      "Not you",
    ],
    ["someone unregistered", "mallory@example.com", LOCAL_OPERATOR, "Not you"],
    [
      "a registered operator who is not an approver",
      "bob@example.com",
      LOCAL_OPERATOR,
      "Not an approver",
    ],
  ])("refuses `as` naming %s (403)", async (_name, as, principal, error) => {
    const response = await decideAs(as, principal);
    expect(response.status).toBe(403);
    expect(answer(response).error).toBe(error);
    expect(sent).toEqual([]);
  });
});

describe("the operator API's failures", () => {
  let logged: unknown[][];
  beforeEach(() => {
    logged = [];
    // The state bucket fails: the approval and the lock cannot be read.
    const fail = () => Promise.reject(new TypeError("boom: secret detail"));
    deps = {
      ...deps,
      log: { ...silentLog, error: (message, ...extra) => void logged.push([message, ...extra]) },
      records: Object.assign(Object.create(records), { get: fail }),
      bytes: { getBytes: fail },
    };
  });

  it.each([
    [
      "a decision",
      `/operator/approvals/${ID}`,
      { action: "approve" },
      "the approval service failed; nothing was decided",
    ],
    [
      "a lock",
      "/operator/locks/prod/hello-service",
      { reason: "stuck" },
      "the operator API failed; check its logs and the lock before trying again",
    ],
  ])("answers 500 for %s, and logs only the error's name", async (_name, path, body, message) => {
    const response = await send("POST", path, body, "application/json");
    expect(answer(response)).toEqual({ error: "InternalError", status: 500, message });
    expect(logged).toEqual([["operator API failed", { error: "TypeError" }]]);
  });
});
