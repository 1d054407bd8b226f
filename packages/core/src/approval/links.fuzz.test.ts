import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signingKeysFrom } from "../signing-keys.ts";
import {
  type ApprovalLinkClaims,
  ApprovalLinkError,
  approvalLink,
  type LinkParameters,
  verifyApprovalLink,
} from "./links.ts";

const keys = signingKeysFrom(
  "current-secret-0123456789abcdefghijkl",
  "previous-secret-0123456789abcdefg",
);
const NOW_MS = Date.UTC(2026, 10, 1, 12, 0, 0);
const FIELDS = ["approvalId", "action", "approver", "exp", "kid", "sig"] as const;
type Field = (typeof FIELDS)[number];

const claimsArb: fc.Arbitrary<ApprovalLinkClaims> = fc.record({
  approvalId: fc.stringMatching(/^[A-Za-z0-9_-]{24}$/),
  action: fc.constantFrom("approve" as const, "reject" as const),
  approver: fc.emailAddress(),
  expiresAt: fc.integer({ min: NOW_MS / 1000 + 1, max: NOW_MS / 1000 + 30 * 86400 }),
});

function paramsOf(link: string): Record<Field, string> {
  const url = new URL(link);
  const q = url.searchParams;
  return {
    approvalId: url.pathname.split("/").at(-1) ?? "",
    action: q.get("action") ?? "",
    approver: q.get("approver") ?? "",
    exp: q.get("exp") ?? "",
    kid: q.get("kid") ?? "",
    sig: q.get("sig") ?? "",
  };
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** One edit of a string: replace, insert or delete a character, or replace it whole. */
type Edit =
  | { kind: "replace"; at: number; char: string }
  | { kind: "insert"; at: number; char: string }
  | { kind: "delete"; at: number }
  | { kind: "whole"; value: string };

const char = fc.oneof(
  fc.constantFrom(...BASE64URL.split("")),
  fc.constantFrom("0", "9", " ", "\n", ".", "+", "/", "=", "%", "@"),
  fc.string({ minLength: 1, maxLength: 1, unit: "binary" }),
);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), char }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), char }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("whole" as const), value: fc.string({ maxLength: 50 }) }),
);

function apply(value: string, e: Edit): string {
  if (e.kind === "whole") return e.value;
  const at = value.length === 0 ? 0 : e.at % (value.length + (e.kind === "insert" ? 1 : 0));
  if (e.kind === "replace") return value.slice(0, at) + e.char + value.slice(at + 1);
  if (e.kind === "insert") return value.slice(0, at) + e.char + value.slice(at);
  return value.slice(0, at) + value.slice(at + 1);
}

function verifies(params: LinkParameters): boolean {
  try {
    verifyApprovalLink(params, keys, NOW_MS);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ApprovalLinkError);
    expect([400, 403, 410]).toContain((error as ApprovalLinkError).status);
    return false;
  }
}

describe("verifyApprovalLink (fuzzed)", () => {
  it("verifies every untouched link, with the current or the previous key", () => {
    fc.assert(
      fc.property(claimsArb, fc.boolean(), (claims, previous) => {
        const key = previous ? keys.previous[0] : keys.current;
        if (!key) throw new Error("the fixture has a previous key");
        const params = paramsOf(approvalLink("https://approve.example.com", claims, key));
        expect(verifyApprovalLink(params, keys, NOW_MS)).toEqual(claims);
      }),
    );
  });

  it("never verifies a link whose parameters were changed in any way", () => {
    fc.assert(
      fc.property(
        claimsArb,
        fc.array(fc.tuple(fc.constantFrom(...FIELDS), edit), { minLength: 1, maxLength: 3 }),
        (claims, edits) => {
          const original = paramsOf(
            approvalLink("https://approve.example.com", claims, keys.current),
          );
          const mutated = { ...original };
          for (const [field, e] of edits) mutated[field] = apply(mutated[field], e);
          const unchanged = FIELDS.every((f) => mutated[f] === original[f]);
          expect(verifies(mutated)).toBe(unchanged);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("never verifies when a parameter is dropped", () => {
    fc.assert(
      fc.property(claimsArb, fc.constantFrom(...FIELDS), (claims, field) => {
        const params: LinkParameters = {
          ...paramsOf(approvalLink("https://approve.example.com", claims, keys.current)),
          [field]: field === "approvalId" ? "" : null,
        };
        expect(verifies(params)).toBe(false);
      }),
    );
  });
});
