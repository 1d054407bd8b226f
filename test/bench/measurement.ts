/** One number a benchmark measured, with the target it is designed for (if there is one). */
export interface Measurement {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** e.g. "≤ 50" or "≥ 80%"; judged by `met`. */
  readonly target?: string;
  readonly met?: boolean;
  readonly note?: string;
  /**
   * With the benchmark's `columns`: the value for each column, in order (`value` is the first
   * column's); undefined where a column does not apply.
   */
  readonly values?: readonly (number | undefined)[];
}

export interface Benchmark {
  readonly title: string;
  /**
   * Names of the designs a benchmark compares side by side (e.g. event-driven holds, polling
   * holds): measurements with `values` show one column each.
   */
  readonly columns?: readonly string[];
  run(): Promise<Measurement[]>;
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
