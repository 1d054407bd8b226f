import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { executionName } from "./execution-name.ts";

/** Any request parseDeploymentRequest accepts has these shapes for the named fields. */
const service = fc.stringMatching(/^[a-z][a-z0-9-]{0,39}$/);
const version = fc.stringMatching(/^[0-9a-f]{7,40}$/);
const sha256 = fc.stringMatching(/^[0-9a-f]{64}$/);
const attempt = fc.integer({ min: 1, max: 999 });

describe("executionName (fuzzed)", () => {
  it("is at most 80 characters of [A-Za-z0-9_-] for every valid request and attempt", () => {
    fc.assert(
      fc.property(service, version, sha256, attempt, (s, v, sha, n) => {
        const name = executionName(
          { service: s, version: v, artifact: { key: "k.zip", sha256: sha } },
          n,
        );
        expect(name.length).toBeLessThanOrEqual(80);
        expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
      }),
      { numRuns: 1000 },
    );
  });

  it("stays within 80 characters for the longest service and version at the last attempt", () => {
    const name = executionName(
      {
        service: `a${"b".repeat(39)}`,
        version: "f".repeat(40),
        artifact: { key: "k.zip", sha256: "e".repeat(64) },
      },
      999,
    );
    expect(name).toBe(`a${"b".repeat(39)}-${"f".repeat(12)}-${"e".repeat(8)}-r999`);
    expect(name.length).toBeLessThanOrEqual(80);
  });

  it("is a function of service, version prefix, SHA-256 prefix and attempt only", () => {
    fc.assert(
      fc.property(service, version, sha256, attempt, fc.string(), (s, v, sha, n, key) => {
        const a = executionName(
          { service: s, version: v, artifact: { key: "a.zip", sha256: sha } },
          n,
        );
        const b = executionName({ service: s, version: v, artifact: { key, sha256: sha } }, n);
        expect(a).toBe(b);
        expect(a.startsWith(`${s}-${v.slice(0, 12)}-${sha.slice(0, 8)}`)).toBe(true);
      }),
    );
  });
});
