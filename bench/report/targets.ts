/**
 * The targets, checked against a suite run's medians. A target is met, not met, or not
 * measured (its scenario did not run, or failed) — never guessed.
 */
import type { RowSummary, SuiteResult } from '../results.js';
import type { SystemId } from '../systems/types.js';
import { integer, significant } from './format.js';

export interface TargetCheck {
  readonly target: string;
  readonly system: SystemId;
  /** null: not measured. */
  readonly met: boolean | null;
  readonly measured: string;
}

const GiB = 1024 * 1024 * 1024;

type Row = SuiteResult['rows'][number];

function find(result: SuiteResult, scenario: string | RegExp, system: SystemId, client: string, phase: string): Row | undefined {
  return result.rows.find((r) => (typeof scenario === 'string' ? r.scenario === scenario : scenario.test(r.scenario)) && r.system === system && r.client === client && r.phase === phase);
}

function median(row: Row | undefined, pick: (s: RowSummary) => { median: number } | null): number | null {
  if (!row || row.samples.length === 0) return null;
  return pick(row.summary)?.median ?? null;
}

const recordsPerSecond = (s: RowSummary) => s.recordsPerSecond;
const megabytesPerSecond = (s: RowSummary) => s.megabytesPerSecond;

export function checkTargets(result: SuiteResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const inkwells = result.systems.filter((s) => s.kind === 'broker' && s.id.startsWith('inkwell') && s.id !== 'inkwell-memory' && s.unavailable === null).map((s) => s.id);
  const notMeasured = (target: string, system: SystemId, why: string) => checks.push({ target, system, met: null, measured: `not measured: ${why}` });

  for (const system of inkwells) {
    // 1, 2: kcat produce and consume of 100-byte records, against the mock.
    for (const [phase, ratio, floor] of [
      ['produce', 0.9, 1_000_000],
      ['consume', 3, 1_500_000],
    ] as const) {
      const target = `${phase} 100 B records, kcat over TLS ≥ ${ratio}× kcat plaintext to the mock and ≥ ${integer(floor)} records/s`;
      const ours = median(find(result, 'records-100B', system, 'kcat', phase), recordsPerSecond);
      const mock = median(find(result, 'records-100B', 'mock', 'kcat', phase), recordsPerSecond);
      if (ours === null || mock === null) notMeasured(target, system, ours === null ? 'no Inkwell figure' : 'no mock figure');
      else checks.push({ target, system, met: ours >= ratio * mock && ours >= floor, measured: `${integer(ours)} records/s = ${significant(ours / mock)}× the mock's ${integer(mock)}` });
    }
    // 3: 1 MiB records against the raw TLS pipe.
    for (const phase of ['produce', 'consume'] as const) {
      const target = `${phase} 1 MiB records over TLS ≥ 50% of the raw Node TLS pipe's MB/s`;
      const ours = median(find(result, 'size-1MiB', system, 'kcat', phase), megabytesPerSecond);
      const pipe = median(find(result, 'size-1MiB', 'tls-pipe', 'pipe', 'pipe'), megabytesPerSecond);
      if (ours === null || pipe === null) notMeasured(target, system, ours === null ? 'no Inkwell figure' : 'no pipe figure');
      else checks.push({ target, system, met: ours >= 0.5 * pipe, measured: `${significant(ours)} MB/s = ${Math.round((ours / pipe) * 100)}% of the pipe's ${significant(pipe)} MB/s` });
    }
    // 4: latency.
    {
      const target = 'end-to-end p99 ≤ 5 ms at 10,000 records/s, acks=all';
      const p99 = median(find(result, 'latency-10k', system, 'raw', 'latency'), (s) => s.latencyP99Ms);
      if (p99 === null) notMeasured(target, system, 'no latency figure');
      else checks.push({ target, system, met: p99 <= 5, measured: `p99 ${significant(p99)} ms` });
    }
    // 5: broker CPU per million records produced.
    {
      const target = 'broker CPU ≤ 0.5 CPU-s per million 100 B records produced over TLS (kcat)';
      const cpu = median(find(result, 'records-100B', system, 'kcat', 'produce'), (s) => s.cpuSecondsPerMillion);
      if (cpu === null) notMeasured(target, system, 'no CPU figure');
      else checks.push({ target, system, met: cpu <= 0.5, measured: `${significant(cpu)} CPU-s per million` });
    }
  }
  // 6: 10,000 partitions and 10,000 idle connections within 1 GiB (whatever systems ran them).
  for (const [scenario, label, phase] of [
    ['partitions-10000', '10,000 partitions within 1 GiB RSS', 'consume'],
    ['idle-10000', '10,000 idle TLS connections within 1 GiB RSS', 'idle'],
  ] as const) {
    const rows = result.rows.filter((r) => r.scenario === scenario && r.system.startsWith('inkwell') && (r.phase === phase || r.phase === 'produce'));
    const systems = [...new Set(rows.map((r) => r.system))];
    if (systems.length === 0) notMeasured(label, 'inkwell', `scenario ${scenario} did not run${scenario.startsWith('idle') ? ' (quick mode opens fewer connections)' : ''}`);
    for (const system of systems) {
      const mine = rows.filter((r) => r.system === system);
      const failed = mine.flatMap((r) => r.errors);
      const peaks = mine.map((r) => r.summary.brokerPeakRssBytes?.max ?? null).filter((v): v is number => v !== null);
      if (peaks.length === 0 || failed.length > 0) {
        checks.push({ target: label, system, met: failed.length > 0 ? false : null, measured: failed.length > 0 ? `failed: ${failed[0]}` : 'not measured' });
        continue;
      }
      const peak = Math.max(...peaks);
      checks.push({ target: label, system, met: peak <= GiB, measured: `peak RSS ${integer(peak / 1024 / 1024)} MiB` });
    }
  }
  // 7: partitions 1,000 against 1.
  {
    const target = 'produce at 1,000 partitions ≥ half of produce at 1 partition (kcat)';
    const one = median(find(result, 'partitions-1', 'inkwell', 'kcat', 'produce'), recordsPerSecond);
    const many = median(find(result, 'partitions-1000', 'inkwell', 'kcat', 'produce'), recordsPerSecond);
    if (one === null || many === null) notMeasured(target, 'inkwell', 'a partitions scenario is missing');
    else checks.push({ target, system: 'inkwell', met: many >= one / 2, measured: `${integer(many)} vs ${integer(one)} records/s = ${significant(many / one)}×` });
  }
  return checks;
}
