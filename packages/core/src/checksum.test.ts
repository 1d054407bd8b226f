import { describe, expect, it } from "vitest";
import { base64ToHex, hexToBase64, SHA256_HEX, sha256Hex } from "./checksum.ts";

const HELLO_HEX = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const HELLO_BASE64 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

describe("sha256Hex", () => {
  it('hashes "hello" to the known digest', () => {
    expect(sha256Hex("hello")).toBe(HELLO_HEX);
  });

  it("hashes bytes and the same string alike", () => {
    expect(sha256Hex(Buffer.from("hello"))).toBe(HELLO_HEX);
    expect(sha256Hex(new Uint8Array([104, 101, 108, 108, 111]))).toBe(HELLO_HEX);
  });

  it("hashes empty input to the empty-string digest", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("returns 64 lowercase hex characters", () => {
    expect(sha256Hex("anything")).toMatch(SHA256_HEX);
  });
});

describe("hexToBase64", () => {
  it("converts the hex digest to the base64 form S3 and Lambda report", () => {
    expect(hexToBase64(HELLO_HEX)).toBe(HELLO_BASE64);
  });

  it.each([
    ["uppercase hex", HELLO_HEX.toUpperCase()],
    ["too short", HELLO_HEX.slice(2)],
    ["too long", `${HELLO_HEX}00`],
    ["not hex", `${HELLO_HEX.slice(0, 63)}z`],
    ["base64", HELLO_BASE64],
    ["empty", ""],
  ])("refuses %s", (_label, value) => {
    expect(() => hexToBase64(value)).toThrow(new TypeError("not a SHA-256 hex digest"));
  });
});

describe("base64ToHex", () => {
  it("converts the base64 digest to lowercase hex", () => {
    expect(base64ToHex(HELLO_BASE64)).toBe(HELLO_HEX);
  });

  it("round-trips with hexToBase64", () => {
    for (const text of ["", "hello", "gantry", "\u0000\u00ff"]) {
      const hex = sha256Hex(text);
      expect(base64ToHex(hexToBase64(hex))).toBe(hex);
    }
  });

  it("refuses S3's composite multipart checksums", () => {
    expect(base64ToHex(`${HELLO_BASE64}-3`)).toBeUndefined();
    expect(base64ToHex(`${HELLO_BASE64.slice(0, -1)}-3`)).toBeUndefined();
  });

  it.each([
    ["one character short", HELLO_BASE64.slice(1)],
    ["without padding", HELLO_BASE64.slice(0, -1)],
    ["too long", `A${HELLO_BASE64}`],
    ["a SHA-1 digest", "qvTGHdzF6KLavt4PO0gs2a6pQ00="],
    ["a SHA-512 digest", Buffer.alloc(64).toString("base64")],
    ["base64url", "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="],
    ["hex", HELLO_HEX],
    ["empty", ""],
  ])("refuses %s", (_label, value) => {
    expect(base64ToHex(value)).toBeUndefined();
  });
});
