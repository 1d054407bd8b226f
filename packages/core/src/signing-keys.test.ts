import { describe, expect, it } from "vitest";
import { ConfigurationError } from "./errors.ts";
import { MIN_SIGNING_SECRET_LENGTH, signingKeysFrom } from "./signing-keys.ts";

const SECRET = "s".repeat(MIN_SIGNING_SECRET_LENGTH);
const OTHER = "o".repeat(MIN_SIGNING_SECRET_LENGTH + 8);

describe("signingKeysFrom", () => {
  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["one character too short", "s".repeat(MIN_SIGNING_SECRET_LENGTH - 1)],
  ])("throws ConfigurationError when the current secret is %s", (_label, secret) => {
    expect(() => signingKeysFrom(secret)).toThrow(ConfigurationError);
    expect(() => signingKeysFrom(secret)).toThrow(
      "the approval signing key must be at least 32 characters",
    );
  });

  it("accepts a secret of exactly the minimum length and keeps it as the current secret", () => {
    const keys = signingKeysFrom(SECRET);
    expect(keys.current.secret).toBe(SECRET);
    expect(keys.previous).toEqual([]);
  });

  it("derives the key id deterministically from the secret", () => {
    const id = signingKeysFrom(SECRET).current.id;
    expect(id).toMatch(/^k-[A-Za-z0-9_-]{8}$/);
    expect(signingKeysFrom(SECRET).current.id).toBe(id);
  });

  it("derives different key ids for different secrets", () => {
    expect(signingKeysFrom(SECRET).current.id).not.toBe(signingKeysFrom(OTHER).current.id);
  });

  it("never puts the secret, or any 8 characters of it, in the key id", () => {
    const secret = "abcdefghijklmnopqrstuvwxyz0123456789";
    const id = signingKeysFrom(secret).current.id;
    for (let i = 0; i + 8 <= secret.length; i++) {
      expect(id).not.toContain(secret.slice(i, i + 8));
    }
  });

  it("keeps the previous secret as a verifying key during a rotation", () => {
    const keys = signingKeysFrom(OTHER, SECRET);
    expect(keys.current).toEqual({ id: signingKeysFrom(OTHER).current.id, secret: OTHER });
    expect(keys.previous).toEqual([{ id: signingKeysFrom(SECRET).current.id, secret: SECRET }]);
  });

  it("ignores a previous secret equal to the current one", () => {
    expect(signingKeysFrom(SECRET, SECRET).previous).toEqual([]);
  });

  it("ignores a previous secret that is too short", () => {
    expect(signingKeysFrom(SECRET, "short").previous).toEqual([]);
    expect(signingKeysFrom(SECRET, "").previous).toEqual([]);
  });
});
