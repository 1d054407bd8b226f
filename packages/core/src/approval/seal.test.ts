import { describe, expect, it } from "vitest";
import { signingKeysFrom } from "../signing-keys.ts";
import type { ApprovalDecisionRecord } from "./record.ts";
import {
  DECISION_SEAL_FORMAT,
  decisionSealText,
  decisionSealValid,
  type SealedDecision,
  sealDecision,
} from "./seal.ts";

const KEYS = signingKeysFrom("gantry-decision-key-test-vector-0001");

const FIELDS: SealedDecision = {
  approvalId: "AbCdEfGhIjKlMnOpQrStUv_-",
  execution:
    "arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello-service-3f2a9c1e0b7d-ab12cd34",
  executionStartedAt: "2026-11-22T10:00:00.000Z",
  service: "hello-service",
  stage: "prod",
  version: "3f2a9c1e0b7d",
  sha256: "a".repeat(64),
  decision: "approved",
  by: "alice@example.com",
  channel: "operator",
  principal: "arn:aws:iam::123456789012:user/alice",
  at: "2026-11-22T10:05:00.000Z",
  comment: "ship it",
};

describe("the decision seal", () => {
  // A known answer, computed independently (Python's hmac over the same text), so changing the
  // sealed text or its order is a deliberate, versioned act: every pending decision depends on it.
  it("matches the known-answer vector of format gantry-decision-v1", () => {
    expect(DECISION_SEAL_FORMAT).toBe("gantry-decision-v1");
    expect(decisionSealText(FIELDS)).toBe(
      '["gantry-decision-v1","AbCdEfGhIjKlMnOpQrStUv_-","arn:aws:states:us-east-1:123456789012:execution:gantry-prod:hello-service-3f2a9c1e0b7d-ab12cd34","2026-11-22T10:00:00.000Z","hello-service","prod","3f2a9c1e0b7d","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","approved","alice@example.com","operator","arn:aws:iam::123456789012:user/alice","2026-11-22T10:05:00.000Z","ship it"]',
    );
    expect(sealDecision(FIELDS, KEYS.current)).toEqual({
      kid: "k-HAjtr9TH",
      mac: "zkbWMHtB0ORXqLDjMDDdQpImGguHbYQj0IzhtbYkpqA",
    });
  });

  it("verifies what it sealed, ignoring the delivery note outside the seal", () => {
    const record: ApprovalDecisionRecord = { ...FIELDS, seal: sealDecision(FIELDS, KEYS.current) };
    expect(decisionSealValid(record, KEYS)).toBe(true);
    expect(decisionSealValid({ ...record, delivered: false, reason: "TaskTimedOut" }, KEYS)).toBe(
      true,
    );
  });

  it.each(Object.keys(FIELDS) as (keyof SealedDecision)[])("breaks when %s changes", (field) => {
    const record: ApprovalDecisionRecord = { ...FIELDS, seal: sealDecision(FIELDS, KEYS.current) };
    const changed = { ...record, [field]: `${String(record[field])}x` } as ApprovalDecisionRecord;
    expect(decisionSealValid(changed, KEYS)).toBe(false);
  });

  it("tells an absent comment or principal from an empty one", () => {
    const { comment: _c, principal: _p, ...bare } = FIELDS;
    const empty = { ...bare, comment: "", principal: "" };
    expect(decisionSealText(bare)).not.toBe(decisionSealText(empty));
  });

  it("cannot be moved between fields: no separator can be forged into a value", () => {
    const a = { ...FIELDS, by: 'alice@example.com","operator', channel: "link" as const };
    const b = { ...FIELDS, by: "alice@example.com" };
    expect(decisionSealText(a)).not.toBe(decisionSealText(b));
  });

  it("refuses a missing seal, an unknown key id and a malformed mac", () => {
    const sealed = sealDecision(FIELDS, KEYS.current);
    const valid = (seal: unknown) =>
      decisionSealValid({ ...FIELDS, seal } as ApprovalDecisionRecord, KEYS);
    expect(valid(undefined)).toBe(false);
    expect(valid({ kid: "k-unknown", mac: sealed.mac })).toBe(false);
    expect(valid({ kid: sealed.kid, mac: sealed.mac.slice(1) })).toBe(false);
    expect(valid({ kid: sealed.kid, mac: 42 })).toBe(false);
  });

  it("verifies under the previous key during a rotation, and not after it", () => {
    const record: ApprovalDecisionRecord = { ...FIELDS, seal: sealDecision(FIELDS, KEYS.current) };
    const rotating = signingKeysFrom(
      "a-new-decision-key-0123456789abcdefgh",
      "gantry-decision-key-test-vector-0001",
    );
    const rotated = signingKeysFrom("a-new-decision-key-0123456789abcdefgh");
    expect(decisionSealValid(record, rotating)).toBe(true);
    expect(decisionSealValid(record, rotated)).toBe(false);
  });
});
