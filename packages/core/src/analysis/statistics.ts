/**
 * Statistics for version-aware canary analysis: one-sided Fisher exact tests on the failures of
 * the new and the old version, and nearest-rank percentiles. No dependencies.
 *
 * Why not differences of log-factorials: at 10^7 requests log(n!) is about 1.5e8, so even a
 * correctly rounded log-gamma is off by ~2e-8 in absolute terms, and nine of them put p-values
 * ~1e-7 off (measured against 50-digit arithmetic). The hypergeometric probability here is built
 * from Loader's saddle-point terms instead (the method behind R's dbinom and dhyper), which stay
 * small near the bulk of the distribution; the tests hold the p-values to 1e-12 of 50-digit values
 * from tiny tables up to 10^7 requests and 10^6 failures a side.
 */

/** Failures and requests of the new and the old version over the same window. */
export interface FailureTable {
  /** Failed requests of the new version: a whole number, at most newRequests. */
  readonly newFailures: number;
  /** Requests of the new version: a whole number >= 0. */
  readonly newRequests: number;
  /** Failed requests of the old version: a whole number, at most oldRequests. */
  readonly oldFailures: number;
  /** Requests of the old version: a whole number >= 0. */
  readonly oldRequests: number;
}

/**
 * One-sided Fisher exact test p-value that the new version's failure rate is greater than the
 * old's: P(X >= newFailures), X the new version's failures under the hypergeometric distribution
 * given both versions' requests and the total failures (scipy's
 * `fisher_exact([[newFailures, newRequests - newFailures], [oldFailures, oldRequests - oldFailures]], alternative="greater")`).
 * A table with no requests on one side, no failures or no successes gives 1.
 *
 * @throws RangeError naming the field when a count is negative or not a whole number, or failures
 *   exceed requests.
 * @example
 * ```ts
 * // Fisher's tea tasting: 3 of 4 right against 1 of 4.
 * fisherExactGreater({ newFailures: 3, newRequests: 4, oldFailures: 1, oldRequests: 4 }); // ≈ 17 / 70
 * // 3 failures in 50 requests against 2 in 900: unlikely by chance alone.
 * fisherExactGreater({ newFailures: 3, newRequests: 50, oldFailures: 2, oldRequests: 900 }) < 0.01; // => true
 * ```
 */
export function fisherExactGreater(t: FailureTable): number {
  const h = hypergeometricOf(t);
  if (h === undefined) return 1;
  return clamp01(
    t.newFailures > h.mode ? upperTail(h, t.newFailures) : 1 - lowerTail(h, t.newFailures - 1),
  );
}

/**
 * One-sided Fisher exact test p-value that the new version's failure rate is less than the old's:
 * P(X <= newFailures), with X as in {@link fisherExactGreater} (scipy's `alternative="less"`).
 * A table with no requests on one side, no failures or no successes gives 1.
 *
 * @throws RangeError naming the field when a count is negative or not a whole number, or failures
 *   exceed requests.
 * @example
 * ```ts
 * fisherExactLess({ newFailures: 1, newRequests: 4, oldFailures: 3, oldRequests: 4 }); // ≈ 17 / 70
 * // No failures in 100 requests against 50 in 900: the new version is better.
 * fisherExactLess({ newFailures: 0, newRequests: 100, oldFailures: 50, oldRequests: 900 }) < 0.01; // => true
 * ```
 */
export function fisherExactLess(t: FailureTable): number {
  const h = hypergeometricOf(t);
  if (h === undefined) return 1;
  return clamp01(
    t.newFailures < h.mode ? lowerTail(h, t.newFailures) : 1 - upperTail(h, t.newFailures + 1),
  );
}

/**
 * The nearest-rank percentile of samples: the smallest sample with at least p% of the samples at
 * or below it, i.e. the ceil(p/100 × n)-th smallest. Always one of the samples; the input is not
 * changed.
 *
 * @param p in (0, 100]
 * @returns undefined for an empty list
 * @throws RangeError when p is outside (0, 100] or a sample is NaN.
 * @example
 * ```ts
 * percentile([15, 20, 35, 40, 50], 30); // => 20
 * percentile([3, 1, 2], 100); // => 3
 * percentile([], 50); // => undefined
 * ```
 */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (!(p > 0 && p <= 100)) throw new RangeError(`p must be in (0, 100], got ${p}`);
  if (samples.some(Number.isNaN)) throw new RangeError("samples must not contain NaN");
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  // p * n before dividing: 7 / 100 * 100 is 7.000000000000001 in floating point, a rank too far.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p * sorted.length) / 100)));
  return sorted[rank - 1];
}

/** X ~ hypergeometric: `draws` requests of `total` go to the new version, `failures` of them fail. */
interface Hypergeometric {
  readonly failures: number;
  readonly successes: number;
  readonly draws: number;
  readonly min: number;
  readonly max: number;
  readonly mode: number;
}

/** The distribution of the new version's failures, or undefined for a degenerate table. */
function hypergeometricOf(t: FailureTable): Hypergeometric | undefined {
  checkCounts(t.newFailures, t.newRequests, "newFailures", "newRequests");
  checkCounts(t.oldFailures, t.oldRequests, "oldFailures", "oldRequests");
  const failures = t.newFailures + t.oldFailures;
  const total = t.newRequests + t.oldRequests;
  const successes = total - failures;
  const draws = t.newRequests;
  if (draws === 0 || t.oldRequests === 0 || failures === 0 || successes === 0) return undefined;
  return {
    failures,
    successes,
    draws,
    min: Math.max(0, draws - successes),
    max: Math.min(failures, draws),
    mode: Math.floor(((draws + 1) * (failures + 1)) / (total + 2)),
  };
}

function checkCounts(failures: number, requests: number, fName: string, rName: string): void {
  if (!Number.isSafeInteger(requests) || requests < 0) {
    throw new RangeError(`${rName} must be a whole number >= 0, got ${requests}`);
  }
  if (!Number.isSafeInteger(failures) || failures < 0) {
    throw new RangeError(`${fName} must be a whole number >= 0, got ${failures}`);
  }
  if (failures > requests) {
    throw new RangeError(`${fName} (${failures}) must not exceed ${rName} (${requests})`);
  }
}

/**
 * P(X >= from) for `from` above the mode. The terms fall away from the mode with falling ratios
 * (the distribution is log-concave), so once the geometric bound on what is left is below the
 * last bit of the sum, the rest cannot change it. Summed relative to P(X = from) so a tail far
 * below the smallest double still comes out right down to the subnormals.
 */
function upperTail(h: Hypergeometric, from: number): number {
  if (from > h.max) return 0;
  let term = 1;
  let sum = 1;
  for (let k = from; k < h.max; k++) {
    const ratio = ((h.failures - k) * (h.draws - k)) / ((k + 1) * (h.successes - h.draws + k + 1));
    term *= ratio;
    sum += term;
    if ((term * ratio) / (1 - ratio) <= sum * 1e-17) break;
  }
  return Math.exp(logPmf(h, from) + Math.log(sum));
}

/** P(X <= to) for `to` below the mode, as {@link upperTail} does on the other side. */
function lowerTail(h: Hypergeometric, to: number): number {
  if (to < h.min) return 0;
  let term = 1;
  let sum = 1;
  for (let k = to; k > h.min; k--) {
    const ratio = (k * (h.successes - h.draws + k)) / ((h.failures - k + 1) * (h.draws - k + 1));
    term *= ratio;
    sum += term;
    if ((term * ratio) / (1 - ratio) <= sum * 1e-17) break;
  }
  return Math.exp(logPmf(h, to) + Math.log(sum));
}

/**
 * log P(X = x): with p the new version's share of requests, the product of the binomial
 * probabilities of x failures and draws - x successes on the new side over that of all the new
 * version's requests among all requests (Loader's form of dhyper).
 */
function logPmf(h: Hypergeometric, x: number): number {
  const total = h.failures + h.successes;
  return (
    logBinomialPmf(x, h.failures, h.draws, total) +
    logBinomialPmf(h.draws - x, h.successes, h.draws, total) -
    logBinomialPmf(h.draws, total, h.draws, total)
  );
}

const LN_2PI = 1.8378770664093453;

/** log of the binomial probability of x in n at rate p = a / b; q as (b - a) / b, not 1 - p. */
function logBinomialPmf(x: number, n: number, a: number, b: number): number {
  const p = a / b;
  const q = (b - a) / b;
  const np = n * p;
  const nq = n * q;
  if (x === 0) return n === 0 ? 0 : p < 0.1 ? -deviance(n, nq) - n * p : n * Math.log(q);
  if (x === n) return q < 0.1 ? -deviance(n, np) - n * q : n * Math.log(p);
  const lc =
    stirlingError(n) -
    stirlingError(x) -
    stirlingError(n - x) -
    deviance(x, np) -
    deviance(n - x, nq);
  // log((n - x) / n), not log1p(-x / n): for x close to n the latter keeps only the digits of
  // x / n that survive the subtraction (9 of them at n = 80674, x = n - 1).
  return lc - 0.5 * (LN_2PI + Math.log(x) + Math.log((n - x) / n));
}

/** log(n!) - log(sqrt(2 pi n) (n/e)^n) for n = 0..15, to 16 digits. */
const STIRLING_ERRORS = [
  0, 0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
  0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
  0.009255462182712733, 0.008330563433362871, 0.00757367548795184, 0.00694284010720953,
  0.006408994188004207, 0.005951370112758848, 0.005554733551962801,
];

/** The error of Stirling's formula for n!, by table, then by its asymptotic series. */
function stirlingError(n: number): number {
  if (n <= 15) return STIRLING_ERRORS[n] as number;
  const nn = n * n;
  const s0 = 1 / 12;
  const s1 = 1 / 360;
  const s2 = 1 / 1260;
  const s3 = 1 / 1680;
  const s4 = 1 / 1188;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/**
 * x log(x / m) + m - x, the binomial deviance term, without the cancellation of that formula when
 * x is close to m (there it sums the series in v = (x - m) / (x + m)).
 */
function deviance(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const next = s + ej / (2 * j + 1);
      if (next === s) return next;
      s = next;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}
