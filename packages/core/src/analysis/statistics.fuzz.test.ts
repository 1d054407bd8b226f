import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type FailureTable, fisherExactGreater, fisherExactLess } from "./statistics.ts";

/** A side of the table: failures of requests, failures capped at 10^6 as in production. */
const side = (maxRequests: number) =>
  fc
    .integer({ min: 0, max: maxRequests })
    .chain((requests) =>
      fc.tuple(fc.integer({ min: 0, max: Math.min(requests, 1_000_000) }), fc.constant(requests)),
    );

/** Independent sides: mostly lopsided tables, p near 0 or 1. */
const anySides = (maxRequests: number) =>
  fc
    .tuple(side(maxRequests), side(maxRequests))
    .map(([[newFailures, newRequests], [oldFailures, oldRequests]]) => ({
      newFailures,
      newRequests,
      oldFailures,
      oldRequests,
    }));

/**
 * Both sides failing at about the same rate, the new one off by a few standard deviations: the
 * tables a canary sees, where p lands anywhere in (0, 1).
 */
const similarRates = (maxRequests: number) =>
  fc
    .record({
      newRequests: fc.integer({ min: 1, max: maxRequests }),
      oldRequests: fc.integer({ min: 1, max: maxRequests }),
      rate: fc.double({ min: 0, max: 0.1, noNaN: true }),
      shift: fc.double({ min: -4, max: 4, noNaN: true }),
    })
    .map(({ newRequests, oldRequests, rate, shift }) => {
      const spread = shift * Math.sqrt(newRequests * rate * (1 - rate));
      const around = (requests: number, offset: number) =>
        Math.min(requests, 1_000_000, Math.max(0, Math.round(requests * rate + offset)));
      return {
        newFailures: around(newRequests, spread),
        newRequests,
        oldFailures: around(oldRequests, 0),
        oldRequests,
      };
    });

const tables: fc.Arbitrary<FailureTable> = fc.oneof(
  anySides(60),
  anySides(10_000),
  anySides(10_000_000),
  similarRates(1_000),
  similarRates(100_000),
  similarRates(10_000_000),
);

/** Room for rounding between two computations of the same p: relative, with a floor for tiny p. */
function expectSame(a: number, b: number): void {
  if (!(Math.abs(a - b) <= Math.max(1e-12 * Math.max(a, b), 1e-300))) {
    expect.fail(`${a} and ${b} should be the same p-value`);
  }
}

/**
 * P(X = newFailures), computed independently of statistics.ts: C(a, b) as the product of
 * (a - b + i) / i, its logarithm taken every ~1e280, and all three binomials' logarithms in one
 * compensated (Neumaier) sum, so their large parts cancel without losing the small result.
 */
function pmf(t: FailureTable): number {
  const n1 = t.newRequests;
  const n2 = t.oldRequests;
  const total = n1 + n2;
  const failures = t.newFailures + t.oldFailures;
  const x = t.newFailures;
  let sum = 0;
  let compensation = 0;
  const add = (value: number) => {
    const next = sum + value;
    compensation += Math.abs(sum) >= Math.abs(value) ? sum - next + value : value - next + sum;
    sum = next;
  };
  const addLogChoose = (a: number, b: number, sign: 1 | -1) => {
    const k = Math.min(b, a - b);
    let product = 1;
    for (let i = 1; i <= k; i++) {
      product *= (a - k + i) / i; // each factor in [1, a]: no underflow, and 1e280 × a < 1e308
      if (product > 1e280) {
        add(sign * Math.log(product));
        product = 1;
      }
    }
    add(sign * Math.log(product));
  };
  // Both forms are the same number; take the one with fewer terms.
  if (Math.min(n1, n2) <= Math.min(failures, total - failures)) {
    addLogChoose(failures, x, 1);
    addLogChoose(total - failures, n1 - x, 1);
    addLogChoose(total, n1, -1);
  } else {
    addLogChoose(n1, x, 1);
    addLogChoose(n2, failures - x, 1);
    addLogChoose(total, failures, -1);
  }
  return Math.exp(sum + compensation);
}

const swapRows = (t: FailureTable): FailureTable => ({
  newFailures: t.oldFailures,
  newRequests: t.oldRequests,
  oldFailures: t.newFailures,
  oldRequests: t.newRequests,
});

/** Failures and successes trade places. */
const swapColumns = (t: FailureTable): FailureTable => ({
  newFailures: t.newRequests - t.newFailures,
  newRequests: t.newRequests,
  oldFailures: t.oldRequests - t.oldFailures,
  oldRequests: t.oldRequests,
});

describe("fisherExactGreater and fisherExactLess (fuzzed)", () => {
  it("are p-values: in [0, 1]", () => {
    fc.assert(
      fc.property(tables, (t) => {
        for (const p of [fisherExactGreater(t), fisherExactLess(t)]) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("split the distribution: greater + less - P(X = newFailures) = 1", () => {
    fc.assert(
      fc.property(tables, (t) => {
        const degenerate =
          t.newRequests === 0 ||
          t.oldRequests === 0 ||
          t.newFailures + t.oldFailures === 0 ||
          t.newFailures + t.oldFailures === t.newRequests + t.oldRequests;
        const mass = degenerate ? 1 : pmf(t);
        const sum = fisherExactGreater(t) + fisherExactLess(t) - mass;
        if (!(Math.abs(sum - 1) <= 1e-9)) expect.fail(`${JSON.stringify(t)}: ${sum}`);
      }),
      { numRuns: 500 },
    );
  }, 30_000); // the independent P(X = x) takes up to ~10^6 steps for the largest tables

  it("are monotonic: one more new failure never raises 'greater' nor lowers 'less'", () => {
    fc.assert(
      fc.property(
        tables.filter((t) => t.newFailures < t.newRequests),
        (t) => {
          const worse = { ...t, newFailures: t.newFailures + 1 };
          const slack = (p: number) => p * 1e-12 + 1e-300;
          const [g, gWorse] = [fisherExactGreater(t), fisherExactGreater(worse)];
          const [l, lWorse] = [fisherExactLess(t), fisherExactLess(worse)];
          if (!(gWorse <= g + slack(g))) expect.fail(`greater rose: ${g} -> ${gWorse}`);
          if (!(lWorse >= l - slack(l))) expect.fail(`less fell: ${l} -> ${lWorse}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("are monotonic the other way: one more old failure never lowers 'greater'", () => {
    fc.assert(
      fc.property(
        tables.filter((t) => t.oldFailures < t.oldRequests),
        (t) => {
          const g = fisherExactGreater(t);
          const gOld = fisherExactGreater({ ...t, oldFailures: t.oldFailures + 1 });
          if (!(gOld >= g - (g * 1e-12 + 1e-300))) expect.fail(`greater fell: ${g} -> ${gOld}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("are mirror images: swapping the rows swaps greater and less", () => {
    fc.assert(
      fc.property(tables, (t) => {
        expectSame(fisherExactGreater(t), fisherExactLess(swapRows(t)));
        expectSame(fisherExactLess(t), fisherExactGreater(swapRows(t)));
      }),
      { numRuns: 2000 },
    );
  });

  it("are mirror images: swapping failures and successes swaps greater and less", () => {
    fc.assert(
      fc.property(tables, (t) => {
        expectSame(fisherExactGreater(t), fisherExactLess(swapColumns(t)));
        expectSame(fisherExactLess(t), fisherExactGreater(swapColumns(t)));
      }),
      { numRuns: 1000 },
    );
  });
});
