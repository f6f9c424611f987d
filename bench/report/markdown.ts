/** The suite's markdown report: throughput, latency and connection tables, targets, failures. */
import type { SuiteResult } from '../results.js';
import type { SystemId } from '../systems/types.js';
import { spread } from '../stats.js';
import { decimal, integer, mebibytes, significant, spreadText } from './format.js';
import { checkTargets } from './targets.js';

type Row = SuiteResult['rows'][number];

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function label(result: SuiteResult, system: SystemId): string {
  return result.systems.find((s) => s.id === system)?.label ?? system;
}

function medianOf(result: SuiteResult, scenario: string, system: SystemId, client: string, phase: string, pick: (r: Row) => number | undefined): number | undefined {
  const row = result.rows.find((r) => r.scenario === scenario && r.system === system && r.client === client && r.phase === phase);
  return row ? pick(row) : undefined;
}

function ratio(mine: number | undefined, theirs: number | undefined): string {
  return mine !== undefined && theirs !== undefined && theirs > 0 ? `${significant(mine / theirs)}×` : '';
}

const mib = (v: number) => mebibytes(v);

function throughputTable(result: SuiteResult): string | null {
  const rows = result.rows.filter((r) => r.phase === 'produce' || r.phase === 'consume' || r.phase === 'pipe');
  if (rows.length === 0) return null;
  return table(
    ['scenario', 'system', 'client', 'phase', 'records/s', 'MB/s', '× mock', '× TLS pipe', 'broker CPU-s', 'CPU-s / M records', 'broker peak RSS MiB'],
    rows.map((r) => {
      const s = r.summary;
      const mbps = s.megabytesPerSecond?.median;
      const vsMock = r.system === 'mock' || r.phase === 'pipe' ? '' : ratio(s.recordsPerSecond?.median, medianOf(result, r.scenario, 'mock', r.client, r.phase, (m) => m.summary.recordsPerSecond?.median));
      const vsPipe = r.system === 'tls-pipe' ? '' : ratio(mbps, medianOf(result, r.scenario, 'tls-pipe', 'pipe', 'pipe', (m) => m.summary.megabytesPerSecond?.median));
      return [
        r.scenario,
        label(result, r.system),
        r.client,
        r.phase,
        r.samples.length ? spreadText(s.recordsPerSecond, integer) : 'failed',
        spreadText(s.megabytesPerSecond),
        vsMock,
        vsPipe,
        spreadText(s.brokerCpuSeconds),
        spreadText(s.cpuSecondsPerMillion),
        spreadText(s.brokerPeakRssBytes, mib),
      ];
    }),
  );
}

function latencyTable(result: SuiteResult): string | null {
  const rows = result.rows.filter((r) => r.phase === 'latency');
  if (rows.length === 0) return null;
  return table(
    ['scenario', 'system', 'achieved records/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'ack p99 ms', 'producer lag max ms', 'broker CPU-s / s', 'broker peak RSS MiB'],
    rows.map((r) => {
      const s = r.summary;
      const of = (pick: (x: Row['samples'][number]) => number | null | undefined) => spreadText(spread(r.samples.map(pick)));
      return [
        r.scenario,
        label(result, r.system),
        r.samples.length ? of((x) => x.achievedRate) : 'failed',
        spreadText(s.latencyP50Ms),
        spreadText(s.latencyP99Ms),
        spreadText(s.latencyP999Ms),
        spreadText(s.latencyMaxMs),
        of((x) => x.ackMs?.p99),
        of((x) => x.scheduleLagMaxMs),
        of((x) => (x.brokerCpuSeconds !== null && x.seconds > 0 ? x.brokerCpuSeconds / x.seconds : null)),
        spreadText(s.brokerPeakRssBytes, mib),
      ];
    }),
  );
}

function connectionsTable(result: SuiteResult): string | null {
  const rows = result.rows.filter((r) => r.phase === 'connections' || r.phase === 'idle');
  if (rows.length === 0) return null;
  return table(
    ['scenario', 'system', 'connections', 'connect s', 'broker CPU-s connecting', 'records/s', 'broker CPU-s (produce or idle hold)', 'broker peak RSS MiB', 'broker RSS at end MiB', 'peak RSS KiB / connection'],
    rows.map((r) => {
      const s = r.summary;
      const of = (pick: (x: Row['samples'][number]) => number | null | undefined, format?: (v: number) => string) => spreadText(spread(r.samples.map(pick)), format);
      return [
        r.scenario,
        label(result, r.system),
        r.samples.length ? of((x) => x.connections, integer) : 'failed',
        of((x) => x.connectSeconds),
        of((x) => x.connectCpuSeconds),
        r.phase === 'connections' ? spreadText(s.recordsPerSecond, integer) : '',
        spreadText(s.brokerCpuSeconds),
        spreadText(s.brokerPeakRssBytes, mib),
        of((x) => x.brokerRssBytes, mib),
        r.phase === 'idle' ? of((x) => (x.brokerPeakRssBytes && x.connections ? x.brokerPeakRssBytes / 1024 / x.connections : null), (v) => decimal(v, 1)) : '',
      ];
    }),
  );
}

export function targetsTable(result: SuiteResult): string {
  const checks = checkTargets(result);
  return table(
    ['target', 'system', 'result', 'measured (medians)'],
    checks.map((c) => [c.target, label(result, c.system), c.met === null ? 'not measured' : c.met ? '**met**' : '**not met**', c.measured]),
  );
}

export function markdownReport(result: SuiteResult): string {
  const parts: string[] = [];
  const m = result.machine;
  parts.push(
    `Inkwell benchmark, ${result.mode} run, ${result.repetitions} repetition(s) per row, ${result.startedAt} → ${result.finishedAt}`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.kcat}, commit ${m.commit}, ulimit -n ${m.openFilesLimit}, ` +
      `load average before ${m.loadAverageBefore.map((v) => v.toFixed(2)).join(' ')}, after ${m.loadAverageAfter.map((v) => v.toFixed(2)).join(' ')}.`,
    '',
    'Systems:',
    ...result.systems.map((s) => `- ${s.label}: ${s.description}${s.unavailable ? ` Not run: ${s.unavailable}.` : ''}`),
    '',
    'Figures are medians over the repetitions, with (min–max) when they differ.',
  );
  for (const [title, body] of [
    ['Throughput', throughputTable(result)],
    ['End-to-end latency', latencyTable(result)],
    ['Connections', connectionsTable(result)],
  ] as const) {
    if (body) parts.push('', `### ${title}`, '', body);
  }
  parts.push('', '### Targets', '', targetsTable(result));
  const failures = result.rows.flatMap((r) => r.errors.map((e) => `- ${r.scenario} · ${label(result, r.system)} · ${r.client} ${r.phase}: ${e}`));
  if (failures.length > 0) parts.push('', '### Failures', '', ...failures);
  if (result.notes.length > 0) parts.push('', '### Notes', '', ...result.notes.map((n) => `- ${n}`));
  return `${parts.join('\n')}\n`;
}
