import { createHash } from "node:crypto";
import { ConfigurationError } from "./errors.ts";
import type { SigningKeys } from "./ports.ts";

/** Shortest signing secret accepted: 32 characters (at least 128 bits of a random string). */
export const MIN_SIGNING_SECRET_LENGTH = 32;

/**
 * Builds a key set (the approval link signing key, or the decision key) from the current secret
 * and, during a rotation, the previous one.
 * A missing or short current secret is a `ConfigurationError`.
 * Key ids are derived from the secrets (a short hash), so rotating is only: make the current
 * secret the previous one, set a new current one. Links signed with the previous key verify
 * until they expire; new links use the new key.
 *
 * @example
 * ```ts
 * const keys = signingKeysFrom(stored.current, stored.previous, "the approval decision key");
 * keys.current.id; // e.g. "k-3Jx9aQ0b"
 * ```
 */
export function signingKeysFrom(
  current: string | undefined,
  previous?: string,
  what = "the approval signing key",
): SigningKeys {
  if (!current || current.length < MIN_SIGNING_SECRET_LENGTH) {
    throw new ConfigurationError(
      `${what} must be at least ${MIN_SIGNING_SECRET_LENGTH} characters`,
    );
  }
  const key = (secret: string) => ({ id: keyId(secret), secret });
  return {
    current: key(current),
    previous:
      previous && previous.length >= MIN_SIGNING_SECRET_LENGTH && previous !== current
        ? [key(previous)]
        : [],
  };
}

function keyId(secret: string): string {
  return `k-${createHash("sha256").update(`gantry-key-id:${secret}`).digest("base64url").slice(0, 8)}`;
}
