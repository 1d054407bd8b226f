import { describe, expect, it } from "vitest";
import { signingKeysFrom } from "../signing-keys.ts";
import {
  type ApprovalLinkClaims,
  ApprovalLinkError,
  approvalLink,
  isApprovalId,
  type LinkParameters,
  newApprovalId,
  verifyApprovalLink,
} from "./links.ts";

const OLD_SECRET = "old-secret-0123456789abcdefghijklmnop";
const NEW_SECRET = "new-secret-0123456789abcdefghijklmnop";
const keys = signingKeysFrom(NEW_SECRET);
const BASE = "https://approve.example.com";
/** 2026-11-01T12:00:00Z */
const NOW_MS = Date.UTC(2026, 10, 1, 12, 0, 0);

const claims: ApprovalLinkClaims = {
  approvalId: "AbCdEfGhIjKlMnOpQrStUv_-",
  action: "approve",
  approver: "alice+ops@example.com",
  expiresAt: NOW_MS / 1000 + 3600,
};

/** What the approval page receives: the id from the path, the rest from the query string. */
function paramsOf(link: string): LinkParameters {
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

function refusal(params: LinkParameters, signingKeys = keys, now = NOW_MS): ApprovalLinkError {
  try {
    verifyApprovalLink(params, signingKeys, now);
  } catch (error) {
    expect(error).toBeInstanceOf(ApprovalLinkError);
    return error as ApprovalLinkError;
  }
  throw new Error(`expected ${JSON.stringify(params)} to be refused`);
}

const good = () => paramsOf(approvalLink(BASE, claims, keys.current));

describe("approvalLink", () => {
  it("puts the approval id in the path and the claims, key id and signature in the query", () => {
    const url = new URL(approvalLink(BASE, claims, keys.current));
    expect(url.origin + url.pathname).toBe(`${BASE}/approvals/${claims.approvalId}`);
    expect([...url.searchParams.keys()]).toEqual(["action", "approver", "exp", "kid", "sig"]);
    expect(url.searchParams.get("kid")).toBe(keys.current.id);
    expect(url.searchParams.get("sig")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("keeps a path in the base URL, with or without a trailing slash", () => {
    for (const base of ["https://x.example.com/prod", "https://x.example.com/prod/"]) {
      const url = new URL(approvalLink(base, claims, keys.current));
      expect(url.pathname).toBe(`/prod/approvals/${claims.approvalId}`);
    }
  });

  it("never puts the signing secret in the link", () => {
    expect(approvalLink(BASE, claims, keys.current)).not.toContain(NEW_SECRET);
  });
});

describe("the link signature", () => {
  const VECTOR_KEY = { id: "k-vector01", secret: "link-key-for-known-answer-vector-0001" };
  const VECTOR_CLAIMS: ApprovalLinkClaims = {
    approvalId: "AbCdEfGhIjKlMnOpQrStUv_-",
    action: "approve",
    approver: "alice@example.com",
    expiresAt: 1795000000,
  };
  const sigOf = (c: ApprovalLinkClaims) =>
    new URL(approvalLink(BASE, c, VECTOR_KEY)).searchParams.get("sig");

  // A known answer, computed independently (Python's hmac over
  // "gantry-approval-v1\nAbCdEfGhIjKlMnOpQrStUv_-\napprove\nalice@example.com\n1795000000"),
  // so changing the signed text is a deliberate, versioned act: it voids every link already sent.
  it("matches the known-answer vector of format gantry-approval-v1", () => {
    expect(sigOf(VECTOR_CLAIMS)).toBe("df5g5HmL6hn5IbguAMDxdz68GFOROpTJ5Kr28DKffgw");
    const params = paramsOf(approvalLink(BASE, VECTOR_CLAIMS, VECTOR_KEY));
    const vectorKeys = { current: VECTOR_KEY, previous: [] };
    expect(verifyApprovalLink(params, vectorKeys, 1795000000 * 1000 - 1)).toEqual(VECTOR_CLAIMS);
  });

  it("separates the fields: approver bob1 with exp 23 and bob with exp 123 sign differently", () => {
    const a = sigOf({ ...VECTOR_CLAIMS, approver: "bob1", expiresAt: 23 });
    const b = sigOf({ ...VECTOR_CLAIMS, approver: "bob", expiresAt: 123 });
    expect(a).toBe("Iob92NbHzW45YVhdLS9pWMLhbIhH268-SuTHnPhVcvg");
    expect(b).toBe("WlBxWv6iHEA8RVClaAZB4Ca28KElTUPeLfqs9Rvx_3Q");
    expect(a).not.toBe(b);
  });
});

describe("verifyApprovalLink", () => {
  it("returns the claims of an untouched link", () => {
    expect(verifyApprovalLink(good(), keys, NOW_MS)).toEqual(claims);
  });

  it("round-trips approvers with characters that need URL encoding", () => {
    for (const approver of ["a+b@example.com", "o'brien@example.com", "x&y=z@example.com"]) {
      const params = paramsOf(approvalLink(BASE, { ...claims, approver }, keys.current));
      expect(verifyApprovalLink(params, keys, NOW_MS).approver).toBe(approver);
    }
  });

  it("verifies a reject link as a reject", () => {
    const params = paramsOf(approvalLink(BASE, { ...claims, action: "reject" }, keys.current));
    expect(verifyApprovalLink(params, keys, NOW_MS).action).toBe("reject");
  });

  describe("refuses tampering with 403", () => {
    it("an altered signature", () => {
      const params = good();
      const sig = params.sig ?? "";
      const flipped = `${sig.slice(0, 10)}${sig[10] === "A" ? "B" : "A"}${sig.slice(11)}`;
      const error = refusal({ ...params, sig: flipped });
      expect(error.status).toBe(403);
      expect(error.message).toBe("this link's signature is not valid");
      expect(error.name).toBe("ApprovalLinkError");
    });

    it("a signature that differs only in its last character's unused bits", () => {
      // 43 base64url characters carry 258 bits for a 256-bit HMAC: the last character's two
      // low bits are padding, so a lenient decoder maps several strings to the same bytes.
      const params = good();
      const sig = params.sig ?? "";
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const last = alphabet.indexOf(sig.at(-1) ?? "A");
      const sibling = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
      expect(Buffer.from(sibling, "base64url")).toEqual(Buffer.from(sig, "base64url"));
      expect(refusal({ ...params, sig: sibling }).status).toBe(403);
    });

    it("a reject link turned into an approve link", () => {
      const params = paramsOf(approvalLink(BASE, { ...claims, action: "reject" }, keys.current));
      expect(refusal({ ...params, action: "approve" }).status).toBe(403);
    });

    it("another approver's name on this approver's link", () => {
      expect(refusal({ ...good(), approver: "mallory@example.com" }).status).toBe(403);
    });

    it("a later expiry", () => {
      expect(refusal({ ...good(), exp: String(claims.expiresAt + 86400) }).status).toBe(403);
    });

    it("the link of another approval", () => {
      const other = newApprovalId();
      expect(refusal({ ...good(), approvalId: other }).status).toBe(403);
    });

    it("an unknown key id", () => {
      expect(refusal({ ...good(), kid: "k-unknown1" }).status).toBe(403);
    });

    it("an unknown key id even when the signature is the current secret's", () => {
      // The fallback HMAC (computed for timing) uses the current secret; it must never pass.
      const params = paramsOf(
        approvalLink(BASE, claims, { id: "k-unknown1", secret: keys.current.secret }),
      );
      expect(refusal(params).status).toBe(403);
    });

    it("a signature made with another secret under the current key id", () => {
      const forged = paramsOf(
        approvalLink(BASE, claims, { id: keys.current.id, secret: OLD_SECRET }),
      );
      expect(refusal(forged).status).toBe(403);
    });

    it("a tampered link even when it has also expired (signature is checked first)", () => {
      const error = refusal(
        { ...good(), approver: "mallory@example.com" },
        keys,
        claims.expiresAt * 1000 + 1,
      );
      expect(error.status).toBe(403);
    });
  });

  describe("expiry", () => {
    it("refuses an expired link with 410 at the expiry second", () => {
      const error = refusal(good(), keys, claims.expiresAt * 1000);
      expect(error.status).toBe(410);
      expect(error.message).toBe("this link has expired");
    });

    it("accepts the link one millisecond before it expires", () => {
      expect(verifyApprovalLink(good(), keys, claims.expiresAt * 1000 - 1)).toEqual(claims);
    });
  });

  describe("refuses malformed parameters with 400", () => {
    it.each<[string, Partial<LinkParameters>, string]>([
      [
        "an id that is too short",
        { approvalId: "AbCdEfGhIjKlMnOpQrStUv_" },
        "malformed approval id",
      ],
      [
        "an id that is too long",
        { approvalId: "AbCdEfGhIjKlMnOpQrStUv_-x" },
        "malformed approval id",
      ],
      [
        "an id with path characters",
        { approvalId: "AbCdEfGhIjKlMnOpQrSt/../" },
        "malformed approval id",
      ],
      ["an empty id", { approvalId: "" }, "malformed approval id"],
      ["an unknown action", { action: "delete" }, "unknown action"],
      ["an uppercase action", { action: "APPROVE" }, "unknown action"],
      ["a missing action", { action: null }, "unknown action"],
      ["a missing approver", { approver: null }, "malformed approver"],
      ["an empty approver", { approver: "" }, "malformed approver"],
      [
        "an oversized approver",
        { approver: `${"a".repeat(243)}@example.com` },
        "malformed approver",
      ],
      ["a non-numeric expiry", { exp: "tomorrow" }, "malformed expiry"],
      ["a negative expiry", { exp: "-1" }, "malformed expiry"],
      ["an exponent expiry", { exp: "1e10" }, "malformed expiry"],
      ["a 13-digit expiry", { exp: "1".repeat(13) }, "malformed expiry"],
      ["an expiry with a leading zero", { exp: `0${claims.expiresAt}` }, "malformed expiry"],
      ["a missing expiry", { exp: null }, "malformed expiry"],
      ["a missing key id", { kid: null }, "malformed key id"],
      ["a key id with bad characters", { kid: "k/1" }, "malformed key id"],
      ["a key id that is too long", { kid: "k".repeat(33) }, "malformed key id"],
      ["a missing signature", { sig: null }, "malformed signature"],
      ["a signature of 42 characters", { sig: "A".repeat(42) }, "malformed signature"],
      ["a signature of 44 characters", { sig: "A".repeat(44) }, "malformed signature"],
      ["a base64 (not base64url) signature", { sig: `${"A".repeat(42)}+` }, "malformed signature"],
    ])("%s", (_label, change, message) => {
      const error = refusal({ ...good(), ...change });
      expect(error.status).toBe(400);
      expect(error.message).toBe(message);
    });

    it("accepts an approver of exactly 254 characters", () => {
      const approver = `${"a".repeat(242)}@example.com`;
      expect(approver).toHaveLength(254);
      const params = paramsOf(approvalLink(BASE, { ...claims, approver }, keys.current));
      expect(verifyApprovalLink(params, keys, NOW_MS).approver).toBe(approver);
    });
  });

  describe("key rotation", () => {
    const before = signingKeysFrom(OLD_SECRET);
    const during = signingKeysFrom(NEW_SECRET, OLD_SECRET);
    const after = signingKeysFrom(NEW_SECRET);

    it("verifies a link signed with the previous key while it is still listed", () => {
      const params = paramsOf(approvalLink(BASE, claims, before.current));
      expect(params.kid).toBe(before.current.id);
      expect(verifyApprovalLink(params, during, NOW_MS)).toEqual(claims);
    });

    it("verifies a link signed with the new current key during the rotation", () => {
      const params = paramsOf(approvalLink(BASE, claims, during.current));
      expect(verifyApprovalLink(params, during, NOW_MS)).toEqual(claims);
    });

    it("refuses a link signed with a key that is no longer present", () => {
      const params = paramsOf(approvalLink(BASE, claims, before.current));
      expect(refusal(params, after).status).toBe(403);
    });
  });
});

describe("newApprovalId", () => {
  it("is 24 base64url characters: 144 random bits", () => {
    const id = newApprovalId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(id, "base64url")).toHaveLength(18);
    expect(isApprovalId(id)).toBe(true);
  });

  it("gives a different id every time", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newApprovalId()));
    expect(ids.size).toBe(1000);
  });
});

describe("isApprovalId", () => {
  it.each([
    "",
    "short",
    "a".repeat(23),
    "a".repeat(25),
    `${"a".repeat(23)}.`,
    `${"a".repeat(23)}=`,
  ])("is false for %j", (value) => {
    expect(isApprovalId(value)).toBe(false);
  });
});
