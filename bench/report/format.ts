/** Number formatting shared by the report's tables. */
import type { Spread } from '../stats.js';

export function integer(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function decimal(value: number, digits = 2): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Three significant digits, thousands separated. */
export function significant(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return integer(value);
  return Number(value.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

export function mebibytes(bytes: number): string {
  return integer(bytes / (1024 * 1024));
}

/** `median (min–max)`, or just the median when the spread is nil or there was one sample. */
export function spreadText(spread: Spread | null, format: (v: number) => string = significant): string {
  if (!spread) return '–';
  const [median, min, max] = [format(spread.median), format(spread.min), format(spread.max)];
  return min === max ? median : `${median} (${min}–${max})`;
}
