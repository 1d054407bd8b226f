import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInput } from "./errors.ts";
import { type DeploymentRequest, parseDeploymentRequest } from "./request.ts";

/** The parse result: the request, or the InvalidInput it was refused with (anything else rethrows). */
function attempt(input: unknown): DeploymentRequest | InvalidInput {
  try {
    return parseDeploymentRequest(input);
  } catch (error) {
    if (error instanceof InvalidInput) return error;
    throw error;
  }
}

/** Key segments that are sometimes fine and sometimes path tricks. */
const segment = fc.oneof(
  {
    arbitrary: fc.constantFrom("..", ".", "", "%2e%2e", "a\\b", "x y", "-x", ".zip", "\u0000", "é"),
    weight: 1,
  },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+=-]{0,12}$/), weight: 12 },
  { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
);
const key = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        fc.oneof({ arbitrary: fc.constant(""), weight: 9 }, fc.constantFrom("/", "./", "../")),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.oneof({ arbitrary: fc.constant(".zip"), weight: 9 }, fc.constantFrom("", ".ZIP", "/")),
      )
      .map(([start, segments, end]) => `${start}${segments.join("/")}${end}`),
    weight: 8,
  },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 1 },
);
/** Mostly the valid shape, sometimes not: weighted so that a fair share of inputs is accepted. */
function mostly<T>(good: fc.Arbitrary<T>, ...bad: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: good, weight: 6 * bad.length },
    ...bad.map((arbitrary) => ({ arbitrary, weight: 1 })),
  );
}

const url = mostly(
  fc.webUrl({ validSchemes: ["https"], withQueryParameters: true, withFragments: true }),
  fc.webUrl({ validSchemes: ["http", "https", "ftp"], authoritySettings: { withUserInfo: true } }),
  fc.constantFrom(
    "http://127.0.0.1:9000/runs/1",
    "http://localhost/runs/1",
    "http://example.com/runs/1",
    "javascript:alert(1)",
    "https://user:pw@ci.example.com/1",
  ),
  fc.string(),
);
const nearlyValid: fc.Arbitrary<unknown> = fc.record(
  {
    service: mostly(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,39}$/),
      fc.string({ maxLength: 45 }),
      fc.integer(),
    ),
    version: mostly(fc.stringMatching(/^[0-9a-f]{7,40}$/), fc.string({ maxLength: 41 })),
    artifact: fc.record(
      {
        key,
        sha256: mostly(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 64 })),
        bucket: fc.string(),
      },
      { requiredKeys: ["key", "sha256"], noNullPrototype: true },
    ),
    trigger: fc.record(
      {
        actor: mostly(
          fc.oneof(
            fc.constantFrom("dependabot[bot]", "octocat", "a@b.c"),
            fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@+[\]-]{0,99}$/),
          ),
          fc.string({ unit: "grapheme", maxLength: 20 }),
        ),
        ciRunUrl: url,
        idToken: mostly(
          fc
            .array(fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), { minLength: 3, maxLength: 3 })
            .map((parts) => parts.join(".")),
          fc.string({ maxLength: 60 }),
          fc.constantFrom("a.b", "a.b.c.d", "a.b.c=", "a b.c.d", `a.b.${"c".repeat(8200)}`),
        ),
        verified: fc.constant({ actor: "dependabot[bot]" }),
      },
      { requiredKeys: ["actor"], noNullPrototype: true },
    ),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ["service", "version", "artifact", "trigger"], noNullPrototype: true },
);

/** Well-formed requests only: half of what the round-trip property sees, so it sees many. */
const valid: fc.Arbitrary<unknown> = fc.record(
  {
    service: fc.stringMatching(/^[a-z][a-z0-9-]{0,39}$/),
    version: fc.stringMatching(/^[0-9a-f]{7,40}$/),
    artifact: fc.record(
      {
        key: fc
          .array(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+=-]{0,12}$/), {
            minLength: 1,
            maxLength: 4,
          })
          .map((segments) => `${segments.join("/")}.zip`),
        sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
      },
      { noNullPrototype: true },
    ),
    trigger: fc.record(
      {
        actor: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@+[\]-]{0,99}$/),
        ciRunUrl: fc.webUrl({ validSchemes: ["https"], withQueryParameters: true }),
      },
      { requiredKeys: ["actor"], noNullPrototype: true },
    ),
  },
  { noNullPrototype: true },
);

const anyInput = fc.oneof(
  { arbitrary: nearlyValid, weight: 4 },
  { arbitrary: fc.jsonValue(), weight: 1 },
  {
    arbitrary: fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withTypedArray: true,
      withSparseArray: true,
      withBoxedValues: true,
    }),
    weight: 1,
  },
);

describe("parseDeploymentRequest (fuzzed)", () => {
  it("either returns a request or throws InvalidInput with at least one named issue", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const result = attempt(input);
        if (result instanceof InvalidInput) {
          expect(result.issues.length).toBeGreaterThan(0);
          for (const issue of result.issues) {
            expect(typeof issue.field).toBe("string");
            expect(issue.reason).not.toBe("");
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("never accepts a caller's verified claims, nor an ID token that is not a compact JWS", () => {
    fc.assert(
      fc.property(nearlyValid, (input) => {
        const result = attempt(input);
        if (result instanceof InvalidInput) return;
        expect(result.trigger.verified).toBeUndefined();
        if (result.trigger.idToken !== undefined) {
          expect(result.trigger.idToken.length).toBeLessThanOrEqual(8192);
          expect(result.trigger.idToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]*$/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("never accepts an artifact key that escapes, is absolute, has empty segments or backslashes", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(valid, nearlyValid), (input) => {
        const result = attempt(input);
        if (result instanceof InvalidInput) return;
        accepted++;
        const k = result.artifact.key;
        // No "." or ".." path segment ("v1..2.zip" is one literal segment, and allowed).
        expect(k.split("/")).not.toContain("..");
        expect(k.split("/")).not.toContain(".");
        expect(k.startsWith("/")).toBe(false);
        expect(k).not.toContain("//");
        expect(k).not.toContain("\\");
        expect(k).not.toContain("%");
        expect(k.endsWith(".zip")).toBe(true);
        expect(k).toMatch(/^[A-Za-z0-9._+=/-]+$/);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach the accepting branch, or the property above proves nothing.
    // Half the inputs are well-formed; a few may still exceed a limit (a long URL).
    expect(accepted).toBeGreaterThan(1000);
  });

  it("never accepts a key with a '..' path segment, whatever surrounds it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), { maxLength: 3 }),
        fc.array(fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), { maxLength: 3 }),
        (before, after) => {
          const k = [...before, "..", ...after, "x.zip"].join("/");
          const result = attempt({
            service: "svc",
            version: "abcdef0",
            artifact: { key: k, sha256: "0".repeat(64) },
            trigger: { actor: "octocat" },
          });
          expect(result).toBeInstanceOf(InvalidInput);
        },
      ),
    );
  });

  it("returns exactly the input for an accepted request, and it round-trips through JSON", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(valid, nearlyValid), (input) => {
        const result = attempt(input);
        if (result instanceof InvalidInput) return;
        accepted++;
        expect(result).toStrictEqual(input);
        expect(JSON.parse(JSON.stringify(result))).toStrictEqual(result);
        // And parsing the JSON form again gives the same request.
        expect(parseDeploymentRequest(JSON.parse(JSON.stringify(result)))).toStrictEqual(result);
      }),
      { numRuns: 3000 },
    );
    // Half the inputs are well-formed; a few may still exceed a limit (a long URL).
    expect(accepted).toBeGreaterThan(1000);
  });
});
