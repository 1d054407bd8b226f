import { sha256Hex } from "@gantry/core";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it, vi } from "vitest";
import { createZip, readZip, UnsafeZipEntry } from "./zip.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe("createZip / readZip", () => {
  it("round-trips text and bytes, nested paths included", () => {
    const zip = createZip({
      "index.mjs": "export const handler = async () => 1;",
      "lib/data.bin": new Uint8Array([0, 1, 2, 255]),
    });
    const files = readZip(zip);
    expect([...files.keys()].sort()).toEqual(["index.mjs", "lib/data.bin"]);
    expect(text(files.get("index.mjs"))).toBe("export const handler = async () => 1;");
    expect([...(files.get("lib/data.bin") ?? [])]).toEqual([0, 1, 2, 255]);
  });

  it("gives the same bytes, and so the same SHA-256, for the same files in any order", () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(new Date(2024, 5, 1, 12, 0, 0));
      const first = createZip({ "a.js": "a", "b/c.js": "c" });
      vi.setSystemTime(new Date(2025, 0, 2, 3, 4, 5)); // a later build
      const second = createZip({ "b/c.js": "c", "a.js": "a" });
      expect(sha256Hex(second)).toBe(sha256Hex(first));
      expect(sha256Hex(createZip({ "a.js": "A", "b/c.js": "c" }))).not.toBe(sha256Hex(first));
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    "../evil.js",
    "a/../../evil.js",
    "/etc/passwd",
    "\\windows\\evil.js",
    "C:/evil.js",
    "a\\..\\..\\evil.js",
    "..",
  ])("refuses the zip-slip entry %j when reading", (name) => {
    const zip = zipSync({ "index.mjs": strToU8("ok"), [name]: strToU8("pwned") });
    expect(() => readZip(zip)).toThrow(UnsafeZipEntry);
    expect(() => readZip(zip)).toThrow(/could be written outside the extraction directory/);
  });

  it("refuses unsafe names when building too", () => {
    expect(() => createZip({ "../evil.js": "x" })).toThrow(UnsafeZipEntry);
    expect(() => createZip({ "": "x" })).toThrow(UnsafeZipEntry);
  });

  it("leaves directory entries out and keeps names with dots that are not '..'", () => {
    const zip = zipSync({
      "lib/": new Uint8Array(),
      "lib/..hidden.js": strToU8("h"),
      "./a.js": strToU8("a"),
    });
    expect([...readZip(zip).keys()].sort()).toEqual(["./a.js", "lib/..hidden.js"]);
  });

  it("refuses archives that inflate past the limit, before inflating them", () => {
    const zip = createZip({ "big.txt": "x".repeat(10_000) });
    expect(zip.length).toBeLessThan(1000);
    expect(() => readZip(zip, { maxTotalBytes: 5000 })).toThrow(/inflates to more than 5000 bytes/);
    expect(readZip(zip, { maxTotalBytes: 10_000 }).get("big.txt")?.length).toBe(10_000);
  });

  it("throws for bytes that are not a zip archive", () => {
    expect(() => readZip(strToU8("not a zip at all, just some text"))).toThrow();
  });
});
