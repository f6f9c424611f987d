/**
 * The suite's charts, from its results: throughput against record size, against partitions and
 * against connections, and latency percentiles.
 */
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

function formatRecords(value: number): string {
  if (value >= 1_000_000) return `${Number((value / 1_000_000).toPrecision(3))} M/s`;
  if (value >= 1000) return `${Number((value / 1000).toPrecision(3))} k/s`;
  return `${Number(value.toPrecision(3))}/s`;
}

/**
 * Records/s against a count taken from each scenario of `group` (partitions, connections), one
 * line per system, client and phase. Null when the run has fewer than two points on any line.
 */
function recordsAgainstCount(result: SuiteResult, group: 'partitions' | 'connections', countOf: (scenarioId: string) => number | undefined, title: string, xLabel: string): string | null {
  const series = new Map<string, LineSeries & { points: { x: number; y: number; low: number; high: number }[] }>();
  for (const row of result.rows) {
    const count = countOf(row.scenario);
    const rate = row.summary.recordsPerSecond;
    if (count === undefined || !rate) continue;
    const name = group === 'connections' ? labelOf(result, row.system) : `${labelOf(result, row.system)} · ${row.client} ${row.phase}`;
    const entry = series.get(name) ?? { name, points: [] };
    entry.points.push({ x: count, y: rate.median, low: rate.min, high: rate.max });
    series.set(name, entry);
  }
  if (![...series.values()].some((s) => s.points.length >= 2)) return null;
  const counts = [...new Set([...series.values()].flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  return lineChart({
    title,
    x: { label: xLabel, log: true, format: (v) => v.toLocaleString('en-US'), ticks: counts },
    y: { label: 'records/s (log scale)', log: true, format: formatRecords },
    series: [...series.values()],
  });
}

/** kcat records/s against the topic's partition count (100 B records). */
export function partitionsChart(result: SuiteResult): string | null {
  const partitionsOf = new Map(result.scenarios.flatMap((s) => (s.group === 'partitions' && s.workload.kind === 'throughput' ? [[s.id, s.workload.partitions] as const] : [])));
  return recordsAgainstCount(result, 'partitions', (id) => partitionsOf.get(id), 'kcat throughput against partitions, 100 B records (median, whiskers min–max)', 'partitions (log scale)');
}

/** Produce records/s against the number of producing connections (100 B records, acks=all). */
export function connectionsChart(result: SuiteResult): string | null {
  const connectionsOf = new Map(result.scenarios.flatMap((s) => (s.group === 'connections' && s.workload.kind === 'connections' ? [[s.id, s.workload.connections] as const] : [])));
  return recordsAgainstCount(result, 'connections', (id) => connectionsOf.get(id), 'Produce throughput against connections, 100 B records, acks=all (median, whiskers min–max)', 'connections (log scale)');
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
