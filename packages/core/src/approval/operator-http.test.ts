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
