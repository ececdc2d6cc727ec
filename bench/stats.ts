/**
 * Small statistics for the benchmark: medians and p90 of repeated samples. Benchmarks report;
 * nothing here passes or fails on a number.
 */

export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile (p in 0..100) of the samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  if (p === 50 && sorted.length % 2 === 0) {
    const hi = sorted.length / 2;
    return ((sorted[hi - 1] ?? 0) + (sorted[hi] ?? 0)) / 2;
  }
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    median: percentile(samples, 50),
    p90: percentile(samples, 90),
    min: samples.length ? Math.min(...samples) : Number.NaN,
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

/** "3" when every sample is 3, otherwise "2–4 (median 3)". For counts such as requests per call. */
export function describeCounts(counts: readonly number[]): string {
  if (counts.length === 0) return '–';
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  if (lo === hi) return String(lo);
  return `${lo}–${hi} (median ${round(percentile(counts, 50), 1)})`;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Milliseconds with a sensible number of digits for a table. */
export function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x < 1) return x.toFixed(3);
  if (x < 10) return x.toFixed(2);
  if (x < 100) return x.toFixed(1);
  return x.toFixed(0);
}

export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}
