import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../ports.ts";
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
