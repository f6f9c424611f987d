/** Small statistics: min/median/max over repetitions, percentiles over latency samples. */

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** min, median and max of the values (null when there are none). */
export function spread(values: readonly (number | null | undefined)[]): Spread | null {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (present.length === 0) return null;
  const middle = present.length >> 1;
  const median = present.length % 2 === 1 ? present[middle]! : (present[middle - 1]! + present[middle]!) / 2;
  return { min: present[0]!, median, max: present[present.length - 1]! };
}

/** The value at quantile q (0..1) of ascending `sorted`, by the nearest-rank method. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Percentiles of latencies in milliseconds (the array is sorted in place). */
export function summarizeLatencies(values: Float64Array): LatencySummary {
  values.sort();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return {
    count: values.length,
    p50: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    p999: quantile(values, 0.999),
    max: values.length > 0 ? values[values.length - 1]! : NaN,
    mean: values.length > 0 ? sum / values.length : NaN,
  };
}
