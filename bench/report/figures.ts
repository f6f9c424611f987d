/** The suite's two charts, from its results: throughput against record size, and latency percentiles. */
import { formatBytes } from '../scenarios.js';
import type { SuiteResult } from '../results.js';
import type { SystemId } from '../systems/types.js';
import { groupedBarChart, lineChart, type BarGroup, type LineSeries } from './charts.js';

function labelOf(result: SuiteResult, system: SystemId): string {
  return result.systems.find((s) => s.id === system)?.label ?? system;
}

function formatRate(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toPrecision(3))} GB/s`;
  if (value >= 1) return `${Number(value.toPrecision(3))} MB/s`;
  return `${Number((value * 1000).toPrecision(3))} kB/s`;
}

function formatMs(value: number): string {
  return value >= 1 ? `${Number(value.toPrecision(3))} ms` : `${Number((value * 1000).toPrecision(3))} µs`;
}

/** MB/s against record size, one line per system, client and direction. Null when there is nothing to draw. */
export function throughputChart(result: SuiteResult): string | null {
  const sizeOf = new Map(result.scenarios.filter((s) => s.workload.kind === 'throughput' && (s.group === 'records' || s.group === 'size' || s.group === 'smoke')).map((s) => [s.id, s.workload.kind === 'throughput' ? s.workload.recordBytes : 0]));
  const series = new Map<string, LineSeries & { points: { x: number; y: number; low: number; high: number }[] }>();
  for (const row of result.rows) {
    const recordBytes = sizeOf.get(row.scenario);
    const mbps = row.summary.megabytesPerSecond;
    // kcat and the pipes only: every client on one chart would be unreadable (the tables have them all).
    if (recordBytes === undefined || !mbps || (row.client !== 'kcat' && row.phase !== 'pipe')) continue;
    const name = row.phase === 'pipe' ? labelOf(result, row.system) : `${labelOf(result, row.system)} · ${row.client} ${row.phase}`;
    const entry = series.get(name) ?? { name, points: [], dashed: row.phase === 'pipe' };
    entry.points.push({ x: recordBytes, y: mbps.median, low: mbps.min, high: mbps.max });
    series.set(name, entry);
  }
  if (series.size === 0) return null;
  return lineChart({
    title: 'kcat throughput against record size (median of repetitions, whiskers min–max)',
    x: { label: 'record size (log scale)', log: true, format: (v) => formatBytes(v), ticks: [100, 1024, 10 * 1024, 100 * 1024, 1024 * 1024] },
    y: { label: 'MB/s of record values (log scale)', log: true, format: formatRate },
    series: [...series.values()],
  });
}

/** p50, p99, p99.9 and max end-to-end latency per rate and system. Null when no latency was measured. */
export function latencyChart(result: SuiteResult): string | null {
  const rateOf = new Map(result.scenarios.flatMap((s) => (s.workload.kind === 'latency' ? [[s.id, s.workload.rate] as const] : [])));
  const rows = result.rows
    .filter((row) => row.phase === 'latency' && row.summary.latencyP50Ms !== null)
    .sort((a, b) => (rateOf.get(a.scenario) ?? 0) - (rateOf.get(b.scenario) ?? 0));
  if (rows.length === 0) return null;
  const groups: BarGroup[] = rows.map((row) => {
    const s = row.summary;
    const point = (spread: typeof s.latencyP50Ms) => (spread ? { x: 0, y: spread.median, low: spread.min, high: spread.max } : { x: 0, y: NaN });
    return {
      label: `${(rateOf.get(row.scenario) ?? 0).toLocaleString('en-US')}/s\n${labelOf(result, row.system)}`,
      values: [point(s.latencyP50Ms), point(s.latencyP99Ms), point(s.latencyP999Ms), point(s.latencyMaxMs)],
    };
  });
  return groupedBarChart({
    title: 'End-to-end latency, acks=all, 100 B records (median of repetitions, whiskers min–max)',
    xLabel: 'rate and system',
    y: { label: 'produce to consume (log scale)', log: true, format: formatMs },
    barNames: ['p50', 'p99', 'p99.9', 'max'],
    groups,
    reference: { value: 5, label: 'p99 target at 10k/s' },
  });
}
