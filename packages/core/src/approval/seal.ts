import { createHmac, timingSafeEqual } from "node:crypto";
import type { SigningKeys } from "../ports.ts";
import type { ApprovalDecisionRecord, DecisionSeal } from "./record.ts";

/**
 * The seal of a decision record: HMAC-SHA256, under the decision key, of every field that says
 * who decided what about which execution and which bytes. The decision key is held by the
 * approval path only (the functions that record decisions, and VerifyApproval, which checks
 * them); the link signing key is a different key. So neither a forged task output nor someone
 * who can write the state bucket can make a record that VerifyApproval accepts.
 *
 * The text sealed is a JSON array of the fields in a fixed order, tagged with a format version:
 * JSON escapes every separator, so no two different records seal the same text. Changing the
 * format voids every pending decision: bump the tag and keep verifying the old one meanwhile.
 */
export const DECISION_SEAL_FORMAT = "gantry-decision-v1";

/** The fields a seal covers (everything but the seal and the delivery note). */
export type SealedDecision = Omit<ApprovalDecisionRecord, "seal" | "delivered" | "reason">;

/** The exact text the HMAC is computed over. */
export function decisionSealText(decision: SealedDecision): string {
  return JSON.stringify([
    DECISION_SEAL_FORMAT,
    decision.approvalId,
    decision.execution,
    decision.executionStartedAt,
    decision.service,
    decision.stage,
    decision.version,
    decision.sha256,
    decision.decision,
    decision.by,
    decision.channel,
    decision.principal ?? null,
    decision.at,
    decision.comment ?? null,
  ]);
}

function mac(decision: SealedDecision, secret: string): string {
  return createHmac("sha256", secret).update(decisionSealText(decision)).digest("base64url");
}

/**
 * Seals a decision with the current decision key.
 *
 * @example
 * ```ts
 * const record = { ...decision, seal: sealDecision(decision, (await decisionKeys.signingKeys()).current) };
 * ```
 */
export function sealDecision(decision: SealedDecision, key: SigningKeys["current"]): DecisionSeal {
  return { kid: key.id, mac: mac(decision, key.secret) };
}

/**
 * True when the record's seal verifies under the current decision key or a previous one
 * (during a rotation). Compared in constant time.
 *
 * @example
 * ```ts
 * if (!decisionSealValid(stored, await decisionKeys.signingKeys())) throw new ApprovalNotVerified("...");
 * ```
 */
export function decisionSealValid(record: ApprovalDecisionRecord, keys: SigningKeys): boolean {
  const seal = record.seal as Partial<DecisionSeal> | undefined;
  if (typeof seal?.kid !== "string" || typeof seal.mac !== "string") return false;
  const key = [keys.current, ...keys.previous].find((k) => k.id === seal.kid);
  if (!key) return false;
  const { seal: _seal, delivered: _delivered, reason: _reason, ...fields } = record;
  const expected = Buffer.from(mac(fields, key.secret));
  const given = Buffer.from(seal.mac);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
