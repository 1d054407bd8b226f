import { describe, expect, it } from "vitest";
import { decodeSegment, encodeSegment } from "./object-keys.ts";

describe("keys as file names", () => {
  it("encodes file names reversibly, leaving plain segments as they are", () => {
    for (const segment of ["", ".", "..", "a b", "%", "x.0123abcd.tmp", "ok-name_1.zip"])
      expect(decodeSegment(encodeSegment(segment))).toBe(segment);
    expect(encodeSegment("ok-name_1.zip")).toBe("ok-name_1.zip");
  });
});
