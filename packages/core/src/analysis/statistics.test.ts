import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type FailureTable,
  fisherExactGreater,
  fisherExactLess,
  percentile,
} from "./statistics.ts";

/** |actual - expected| within rel × |expected|, or within floor for values near zero. */
function expectClose(actual: number, expected: number, rel: number, floor = 1e-300): void {
  const tolerance = Math.max(rel * Math.abs(expected), floor);
  if (!(Math.abs(actual - expected) <= tolerance)) {
    expect.fail(`${actual} is not within ${tolerance} of ${expected}`);
  }
}

const table = (
  newFailures: number,
  newRequests: number,
  oldFailures: number,
  oldRequests: number,
): FailureTable => ({ newFailures, newRequests, oldFailures, oldRequests });

describe("the @example blocks of statistics.ts", () => {
  // Each example line `expression; // => expected` (equal) or `// ≈ expected` (to 1e-12) is run
  // against the module and checked.
  const source = readFileSync(new URL("./statistics.ts", import.meta.url), "utf8");
  const blocks = [...source.matchAll(/@example\n \* ```ts\n([\s\S]*?) \* ```/g)].map((m) =>
    (m[1] as string).replace(/^ \* ?/gm, ""),
  );
  const lines = blocks.flatMap((b) => b.split("\n")).filter((l) => /\/\/ (=>|≈) /.test(l));
  const scope = { fisherExactGreater, fisherExactLess, percentile };
  const evaluate = (expression: string): unknown =>
    new Function(...Object.keys(scope), `return (${expression});`)(...Object.values(scope));

  it("has examples for each exported function, every line of them checked", () => {
    expect(blocks).toHaveLength(3);
    for (const name of Object.keys(scope)) {
      expect(lines.some((l) => l.startsWith(name))).toBe(true);
    }
    const code = blocks
      .flatMap((b) => b.split("\n"))
      .filter((l) => l.trim() && !/^\s*\/\//.test(l));
    expect(code).toEqual(lines);
  });

  it.each(lines)("%s", (line) => {
    const [, expression, kind, expected] = line.match(/^(.*?);? \/\/ (=>|≈) (.*)$/) as string[];
    const actual = evaluate(expression as string);
    const want = evaluate(expected as string);
    if (kind === "≈") expectClose(actual as number, want as number, 1e-12);
    else expect(actual).toEqual(want);
  });
});

describe("fisherExactGreater and fisherExactLess", () => {
  it("give Fisher's tea tasting values: 17/70 greater, 69/70 less", () => {
    // [[3,1],[1,3]]: P(X >= 3) = (C(4,3)C(4,1) + C(4,4)C(4,0)) / C(8,4) = 17/70.
    expectClose(fisherExactGreater(table(3, 4, 1, 4)), 17 / 70, 1e-14);
    expectClose(fisherExactLess(table(3, 4, 1, 4)), 69 / 70, 1e-14);
    expectClose(fisherExactLess(table(1, 4, 3, 4)), 17 / 70, 1e-14);
  });

  it("give 1 for degenerate tables: a zero row or a zero column", () => {
    for (const t of [
      table(0, 0, 3, 10),
      table(2, 10, 0, 0),
      table(0, 10, 0, 20),
      table(10, 10, 20, 20),
      table(0, 0, 0, 0),
      table(0, 10_000_000, 0, 10_000_000),
    ]) {
      expect(fisherExactGreater(t)).toBe(1);
      expect(fisherExactLess(t)).toBe(1);
    }
  });

  it("reach the support's ends exactly: P(X >= max) and P(X <= min)", () => {
    // All 5 failures on the new side of 5 + 5: C(5,5)C(5,0) / C(10,5) = 1/252.
    expectClose(fisherExactGreater(table(5, 5, 0, 5)), 1 / 252, 1e-14);
    expect(fisherExactLess(table(5, 5, 0, 5))).toBe(1);
    expectClose(fisherExactLess(table(0, 5, 5, 5)), 1 / 252, 1e-14);
    expect(fisherExactGreater(table(0, 5, 5, 5))).toBe(1);
  });
});

interface Reference {
  readonly scipy: string;
  readonly cases: readonly {
    readonly name: string;
    readonly table: FailureTable;
    readonly greater: { readonly scipy: number; readonly exact: string };
    readonly less: { readonly scipy: number; readonly exact: string };
  }[];
}

describe("against fixtures/fisher-reference.json (scipy and 50-digit values)", () => {
  const reference: Reference = JSON.parse(
    readFileSync(new URL("./fixtures/fisher-reference.json", import.meta.url), "utf8"),
  );
  const rows = reference.cases.flatMap((c) => [
    { name: c.name, alternative: "greater", t: c.table, ...c.greater, f: fisherExactGreater },
    { name: c.name, alternative: "less", t: c.table, ...c.less, f: fisherExactLess },
  ]);

  it("covers tiny, canary-sized, 10^5..10^7 and degenerate tables, scipy 1.17.1", () => {
    expect(reference.scipy).toBe("1.17.1");
    const sizes = reference.cases.map((c) => c.table.newRequests + c.table.oldRequests);
    expect(reference.cases.length).toBeGreaterThanOrEqual(40);
    expect(sizes.filter((n) => n <= 20).length).toBeGreaterThanOrEqual(5);
    expect(sizes.filter((n) => n >= 100 && n <= 10_000).length).toBeGreaterThanOrEqual(10);
    expect(sizes.filter((n) => n >= 100_000).length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...sizes)).toBe(20_000_000);
    const failures = reference.cases.map((c) => c.table.newFailures + c.table.oldFailures);
    expect(Math.max(...failures)).toBeGreaterThanOrEqual(1_000_000);
    expect(rows.filter((r) => r.scipy > 0 && r.scipy < 1e-30).length).toBeGreaterThanOrEqual(3);
    expect(rows.filter((r) => r.scipy === 1).length).toBeGreaterThanOrEqual(12);
  });

  it.each(rows)("$alternative for $name: within 1e-12 of the exact value", (r) => {
    expectClose(r.f(r.t), Number(r.exact), 1e-12);
  });

  it.each(rows)("$alternative for $name: within 1e-9 of scipy (or scipy's own error)", (r) => {
    // scipy's hypergeometric sums drift on the largest tables (up to ~3e-9 relative on the 10^7
    // one); where scipy is farther than 1e-9 from the exact value, allow that distance.
    const exact = Number(r.exact);
    const scipyError = exact > 0 ? Math.abs(r.scipy - exact) / exact : 0;
    expectClose(r.f(r.t), r.scipy, Math.max(1e-9, scipyError + 1e-12));
  });
});

describe("against exact rational sums (BigInt) over every small table", () => {
  const MAX = 60;
  /** Pascal's triangle: BINOMIAL[n][k] = C(n, k) for n <= 2 × MAX. */
  const BINOMIAL: bigint[][] = [[1n]];
  for (let n = 1; n <= 2 * MAX; n++) {
    const above = BINOMIAL[n - 1] as bigint[];
    BINOMIAL.push(Array.from({ length: n + 1 }, (_, k) => (above[k - 1] ?? 0n) + (above[k] ?? 0n)));
  }
  const choose = (n: number, k: number): bigint =>
    k < 0 || k > n ? 0n : (BINOMIAL[n]?.[k] as bigint);

  /** num / den rounded to a double, however small. */
  function toNumber(num: bigint, den: bigint): number {
    if (num === 0n) return 0;
    const shift = den.toString(2).length - num.toString(2).length + 64;
    return Number((num << BigInt(shift)) / den) / 2 ** shift;
  }

  /** [P(X >= a), P(X <= a)] as exact sums of C(K, x) C(N - K, n - x) over C(N, n). */
  function exactTails(t: FailureTable): [number, number] {
    const n = t.newRequests;
    const total = n + t.oldRequests;
    const failures = t.newFailures + t.oldFailures;
    let greater = 0n;
    let less = 0n;
    for (let x = 0; x <= n; x++) {
      const ways = choose(failures, x) * choose(total - failures, n - x);
      if (x >= t.newFailures) greater += ways;
      if (x <= t.newFailures) less += ways;
    }
    const all = choose(total, n);
    return [toNumber(greater, all), toNumber(less, all)];
  }

  function* tables(requestCounts: readonly number[]): Generator<FailureTable> {
    for (const newRequests of requestCounts) {
      for (const oldRequests of requestCounts) {
        for (let newFailures = 0; newFailures <= newRequests; newFailures++) {
          for (let oldFailures = 0; oldFailures <= oldRequests; oldFailures++) {
            yield { newFailures, newRequests, oldFailures, oldRequests };
          }
        }
      }
    }
  }

  function compareAll(requestCounts: readonly number[]): number {
    let count = 0;
    for (const t of tables(requestCounts)) {
      const [greater, less] = exactTails(t);
      const got = [fisherExactGreater(t), fisherExactLess(t)];
      // The denominators C(N, n) stay below 2^120, so no exact tail is anywhere near 1e-300.
      if (
        !(Math.abs((got[0] as number) - greater) <= 1e-12 * greater) ||
        !(Math.abs((got[1] as number) - less) <= 1e-12 * less)
      ) {
        expect.fail(`${JSON.stringify(t)}: got ${got}, exact ${[greater, less]}`);
      }
      count++;
    }
    return count;
  }

  it("agrees to 1e-12 on every table with up to 12 requests a side", () => {
    const counts = Array.from({ length: 13 }, (_, i) => i);
    expect(compareAll(counts)).toBe(91 * 91);
  });

  it(`agrees to 1e-12 on every table of a grid of request counts up to ${MAX}`, () => {
    const counts = [1, 2, 7, 13, 20, 29, 41, 50, MAX];
    expect(compareAll(counts)).toBe(
      counts.reduce((sum, n) => sum + n + 1, 0) ** 2, // every failure count on both sides
    );
  });
});

describe("percentile", () => {
  it.each([
    [[15, 20, 35, 40, 50], 5, 15],
    [[15, 20, 35, 40, 50], 30, 20],
    [[15, 20, 35, 40, 50], 40, 20],
    [[15, 20, 35, 40, 50], 50, 35],
    [[15, 20, 35, 40, 50], 100, 50],
    [[3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 25, 7],
    [[3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 50, 8],
    [[3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 75, 15],
    [[3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 100, 20],
    [[42], 0.001, 42],
    [[42], 100, 42],
  ])("of %j at p=%d is %d", (samples, p, expected) => {
    expect(percentile(samples, p)).toBe(expected);
  });

  it("is undefined for an empty list", () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([], 100)).toBeUndefined();
  });

  it("is the largest sample at p=100 and the smallest at a tiny p", () => {
    const samples = [5, -1, 12.5, 3, 12.4];
    expect(percentile(samples, 100)).toBe(12.5);
    expect(percentile(samples, 1e-9)).toBe(-1);
  });

  it("sorts numerically, not as strings, whatever the input order", () => {
    // As strings, 100 sorts before 9.
    expect(percentile([100, 9, 20, 3], 50)).toBe(9);
    expect(percentile([100, 9, 20, 3], 75)).toBe(20);
    expect(percentile([3, 9, 20, 100], 75)).toBe(20);
  });

  it("ranks by p × n / 100, not p / 100 × n: p=7 of 100 samples is the 7th", () => {
    // 7 / 100 × 100 is 7.000000000000001 in floating point; its ceiling would be the 8th.
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 7)).toBe(7);
    expect(percentile(samples, 28)).toBe(28);
    expect(percentile(samples, 57)).toBe(57);
  });

  it("does not change its input", () => {
    const samples = [30, 10, 20];
    expect(percentile(samples, 50)).toBe(20);
    expect(samples).toEqual([30, 10, 20]);
    expect(percentile(Object.freeze([3, 1, 2]), 50)).toBe(2);
  });

  it.each([0, -5, 100.0001, Number.NaN, Number.POSITIVE_INFINITY])("refuses p=%d", (p) => {
    expect(() => percentile([1, 2, 3], p)).toThrow(
      new RangeError(`p must be in (0, 100], got ${p}`),
    );
  });

  it("refuses NaN samples, which have no rank", () => {
    expect(() => percentile([1, Number.NaN, 3], 50)).toThrow(RangeError);
  });
});

describe("RangeError for bad counts, naming the field", () => {
  const good = table(1, 10, 2, 20);
  const fields = ["newFailures", "newRequests", "oldFailures", "oldRequests"] as const;
  const cases = fields.flatMap((field) =>
    [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53].map((value) => ({ field, value })),
  );

  it.each(cases)("$field = $value", ({ field, value }) => {
    // Requests stay large enough that only the field under test is wrong.
    const t = { ...good, newRequests: 100, oldRequests: 100, [field]: value };
    for (const f of [fisherExactGreater, fisherExactLess]) {
      expect(() => f(t)).toThrow(RangeError);
      expect(() => f(t)).toThrow(new RegExp(`^${field} must be a whole number >= 0, got ${value}`));
    }
  });

  it.each([
    [table(11, 10, 2, 20), "newFailures (11) must not exceed newRequests (10)"],
    [table(1, 10, 21, 20), "oldFailures (21) must not exceed oldRequests (20)"],
    [table(1, 0, 0, 0), "newFailures (1) must not exceed newRequests (0)"],
  ])("failures above requests: %j", (t, message) => {
    expect(() => fisherExactGreater(t)).toThrow(new RangeError(message));
    expect(() => fisherExactLess(t)).toThrow(new RangeError(message));
  });

  it("accepts the largest sizes it is meant for", () => {
    expect(fisherExactGreater(table(1_000_000, 10_000_000, 1_000_000, 10_000_000))).toBeCloseTo(
      0.5,
      2,
    );
  });
});
