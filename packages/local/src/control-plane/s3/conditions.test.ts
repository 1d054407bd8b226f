import { describe, expect, it } from "vitest";
import { evaluateConditions } from "./conditions.ts";

const OBJECT = { etag: '"abc"', lastModified: "2026-11-30T12:00:00.700Z" };
const BEFORE = "Mon, 30 Nov 2026 11:00:00 GMT";
const SAME_SECOND = "Mon, 30 Nov 2026 12:00:00 GMT";
const AFTER = "Mon, 30 Nov 2026 13:00:00 GMT";
const NOW = Date.parse("2026-11-30T14:00:00Z");

const evaluate = (headers: Parameters<typeof evaluateConditions>[0], copySource = false) =>
  evaluateConditions(headers, OBJECT, { copySource, now: NOW }).status;

describe("conditional reads, in S3's precedence", () => {
  it("If-Match: 200 when an ETag matches (quoted or not, in a list, or *), 412 otherwise", () => {
    expect(evaluate({ ifMatch: '"abc"' })).toBe(200);
    expect(evaluate({ ifMatch: "abc" })).toBe(200);
    expect(evaluate({ ifMatch: '"x", "abc"' })).toBe(200);
    expect(evaluate({ ifMatch: "*" })).toBe(200);
    expect(evaluate({ ifMatch: '"x"' })).toBe(412);
  });

  it("If-None-Match: 304 when an ETag matches, 200 otherwise", () => {
    expect(evaluate({ ifNoneMatch: '"abc"' })).toBe(304);
    expect(evaluate({ ifNoneMatch: "*" })).toBe(304);
    expect(evaluate({ ifNoneMatch: '"x"' })).toBe(200);
  });

  it("If-Modified-Since at one-second resolution; a future or bad date is ignored", () => {
    expect(evaluate({ ifModifiedSince: BEFORE })).toBe(200);
    expect(evaluate({ ifModifiedSince: SAME_SECOND })).toBe(304);
    expect(evaluate({ ifModifiedSince: AFTER })).toBe(304);
    expect(evaluate({ ifModifiedSince: "Tue, 01 Dec 2026 00:00:00 GMT" })).toBe(200);
    expect(evaluate({ ifModifiedSince: "yesterday" })).toBe(200);
  });

  it("If-Unmodified-Since: 412 when modified after the date", () => {
    expect(evaluate({ ifUnmodifiedSince: BEFORE })).toBe(412);
    expect(evaluate({ ifUnmodifiedSince: SAME_SECOND })).toBe(200);
  });

  it("If-Match true wins over If-Unmodified-Since false (200)", () => {
    expect(evaluate({ ifMatch: '"abc"', ifUnmodifiedSince: BEFORE })).toBe(200);
  });

  it("If-None-Match false with If-Modified-Since true is 304", () => {
    expect(evaluate({ ifNoneMatch: '"abc"', ifModifiedSince: BEFORE })).toBe(304);
  });

  it("If-None-Match true makes If-Modified-Since irrelevant (200)", () => {
    expect(evaluate({ ifNoneMatch: '"x"', ifModifiedSince: AFTER })).toBe(200);
  });

  it("a failed If-Match is 412 before anything else", () => {
    expect(evaluate({ ifMatch: '"x"', ifNoneMatch: '"abc"' })).toBe(412);
  });

  it("copy-source conditions fail with 412, never 304, and name the header", () => {
    expect(evaluate({ ifNoneMatch: '"abc"' }, true)).toBe(412);
    expect(evaluate({ ifModifiedSince: AFTER }, true)).toBe(412);
    expect(evaluateConditions({ ifMatch: '"x"' }, OBJECT, { copySource: true })).toEqual({
      status: 412,
      condition: "x-amz-copy-source-If-Match",
    });
  });
});
