import { createHash } from "node:crypto";

/**
 * Gantry speaks SHA-256 as 64 lowercase hex characters (what CI prints and people compare by
 * eye). S3's `ChecksumSHA256` and Lambda's `CodeSha256` are base64 of the same digest; these
 * helpers convert at the edges so the domain compares like with like.
 *
 * @example
 * ```ts
 * import { sha256Hex, hexToBase64 } from "@gantry/core";
 * const hex = sha256Hex(Buffer.from("hello"));
 * hexToBase64(hex); // "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
 * ```
 */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** SHA-256 of some bytes, as lowercase hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Lowercase hex digest -> the base64 form S3 and Lambda report. */
export function hexToBase64(hex: string): string {
  if (!SHA256_HEX.test(hex)) throw new TypeError("not a SHA-256 hex digest");
  return Buffer.from(hex, "hex").toString("base64");
}

/**
 * Base64 digest (S3 `ChecksumSHA256`, Lambda `CodeSha256`) -> lowercase hex. Returns undefined
 * for anything that is not a whole SHA-256 digest, such as S3's composite multipart checksums
 * (`...-3`), so callers cannot mistake one for a full-object hash.
 */
export function base64ToHex(base64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(base64)) return undefined;
  return Buffer.from(base64, "base64").toString("hex");
}
