import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { SigningKeys } from "../ports.ts";

/**
 * Signed approval links. A link names an approval id, an action, the approver it was sent to
 * and an expiry, signed with HMAC-SHA256 under a key from the secret store. It never carries the
 * task token. The key id (`kid`) says which key signed it so that, during a rotation, links
 * signed with the previous key keep working until they expire.
 */
export type ApprovalAction = "approve" | "reject";

export interface ApprovalLinkClaims {
  readonly approvalId: string;
  readonly action: ApprovalAction;
  readonly approver: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/** Why a link was refused, with the HTTP status an approval page should answer. */
export class ApprovalLinkError extends Error {
  override readonly name = "ApprovalLinkError";
  readonly status: 400 | 403 | 410;
  constructor(status: 400 | 403 | 410, message: string) {
    super(message);
    this.status = status;
  }
}

const APPROVAL_ID = /^[A-Za-z0-9_-]{24}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const MAX_APPROVER_LENGTH = 254;

/** A fresh approval id: 144 random bits, URL-safe. */
export function newApprovalId(): string {
  return randomBytes(18).toString("base64url");
}

/** True for strings shaped like an approval id (checked before any lookup). */
export function isApprovalId(value: string): boolean {
  return APPROVAL_ID.test(value);
}

function payload(claims: ApprovalLinkClaims): string {
  return [
    "gantry-approval-v1",
    claims.approvalId,
    claims.action,
    claims.approver,
    claims.expiresAt,
  ].join("\n");
}

function sign(claims: ApprovalLinkClaims, secret: string): Buffer {
  return createHmac("sha256", secret).update(payload(claims)).digest();
}

/**
 * The URL an approver clicks. Opening it shows a confirmation page; only the POST that page
 * sends decides.
 *
 * @example
 * ```ts
 * const url = approvalLink("https://approve.example.com", claims, keys.current);
 * // https://approve.example.com/approvals/<id>?action=approve&approver=...&exp=...&kid=...&sig=...
 * ```
 */
export function approvalLink(
  baseUrl: string,
  claims: ApprovalLinkClaims,
  key: SigningKeys["current"],
): string {
  const url = new URL(
    `approvals/${claims.approvalId}`,
    baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`,
  );
  url.searchParams.set("action", claims.action);
  url.searchParams.set("approver", claims.approver);
  url.searchParams.set("exp", String(claims.expiresAt));
  url.searchParams.set("kid", key.id);
  url.searchParams.set("sig", sign(claims, key.secret).toString("base64url"));
  return url.toString();
}

/** The link's parameters as they arrive: from the query string (GET) or the form (POST). */
export interface LinkParameters {
  readonly approvalId: string;
  readonly action?: string | null;
  readonly approver?: string | null;
  readonly exp?: string | null;
  readonly kid?: string | null;
  readonly sig?: string | null;
}

/**
 * Checks a link's shape, signature (constant-time, under the current or a previous key) and
 * expiry, in that order, and returns its claims. Throws {@link ApprovalLinkError}: 400 for
 * malformed parameters, 403 for a signature that does not verify, 410 for an expired link.
 *
 * @example
 * ```ts
 * const claims = verifyApprovalLink(params, await secrets.signingKeys(), Date.now());
 * ```
 */
export function verifyApprovalLink(
  params: LinkParameters,
  keys: SigningKeys,
  nowMs: number,
): ApprovalLinkClaims {
  const { approvalId, action, approver, exp, kid, sig } = params;
  if (!APPROVAL_ID.test(approvalId)) throw new ApprovalLinkError(400, "malformed approval id");
  if (action !== "approve" && action !== "reject")
    throw new ApprovalLinkError(400, "unknown action");
  if (!approver || approver.length > MAX_APPROVER_LENGTH)
    throw new ApprovalLinkError(400, "malformed approver");
  // No leading zeros: one expiry, one spelling, so no two links carry the same signed claims.
  if (!exp || !/^[1-9][0-9]{0,11}$/.test(exp)) throw new ApprovalLinkError(400, "malformed expiry");
  if (!kid || !KEY_ID.test(kid)) throw new ApprovalLinkError(400, "malformed key id");
  if (!sig || !SIGNATURE.test(sig)) throw new ApprovalLinkError(400, "malformed signature");

  const claims: ApprovalLinkClaims = { approvalId, action, approver, expiresAt: Number(exp) };
  const key = [keys.current, ...keys.previous].find((k) => k.id === kid);
  // Compare the base64url text, not decoded bytes: decoding ignores the last character's two
  // spare bits, so four spellings of one signature would otherwise all verify.
  const given = Buffer.from(sig);
  // Compute an HMAC even for an unknown key id, so timing does not tell which ids exist.
  const expected = Buffer.from(
    sign(claims, key?.secret ?? keys.current.secret).toString("base64url"),
  );
  const forged = new ApprovalLinkError(403, "this link's signature is not valid");
  // SIGNATURE admits only 43 characters, the length of every HMAC-SHA256 in base64url, so this
  // test never decides; it stays so that timingSafeEqual can never throw.
  // Stryker disable next-line ConditionalExpression: equivalent, see above
  if (given.length !== expected.length) throw forged;
  if (!key || !timingSafeEqual(given, expected)) throw forged;
  if (claims.expiresAt * 1000 <= nowMs) throw new ApprovalLinkError(410, "this link has expired");
  return claims;
}
