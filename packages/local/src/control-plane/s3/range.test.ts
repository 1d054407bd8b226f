import { describe, expect, it } from "vitest";
import { contentRange, parseRange } from "./range.ts";

describe("parseRange (S3's reading of Range)", () => {
  it.each([
    ["bytes=0-9", 100, { kind: "range", start: 0, end: 9 }],
    ["bytes=90-", 100, { kind: "range", start: 90, end: 99 }],
    ["bytes=-10", 100, { kind: "range", start: 90, end: 99 }],
    ["bytes=-1000", 100, { kind: "range", start: 0, end: 99 }],
    ["bytes=50-1000", 100, { kind: "range", start: 50, end: 99 }],
    ["bytes=99-99", 100, { kind: "range", start: 99, end: 99 }],
    [" bytes = 1 - 2 ", 100, { kind: "range", start: 1, end: 2 }],
  ] as const)("%s of %i bytes is a range", (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each([
    ["bytes=100-", 100],
    ["bytes=100-200", 100],
    ["bytes=-0", 100],
    ["bytes=0-", 0],
    ["bytes=-5", 0],
    ["bytes=99999999999999999999-", 100],
  ])("%s of %i bytes is unsatisfiable (416)", (header, size) => {
    expect(parseRange(header, size)).toEqual({ kind: "unsatisfiable" });
  });

  it.each([
    undefined,
    "bytes=5-3",
    "bytes=0-1,5-6",
    "items=0-5",
    "bytes=-",
    "bytes=a-b",
    "garbage",
  ])("ignores %s, as S3 does (the whole object, 200)", (header) => {
    expect(parseRange(header, 100)).toEqual({ kind: "none" });
  });

  it("writes Content-Range", () => {
    expect(contentRange(0, 9, 100)).toBe("bytes 0-9/100");
  });
});
