/** The benchmark's pure parts: statistics, framing, record reading, SVG output, target checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantile, spread, summarizeLatencies } from '../../bench/stats.js';
import { FrameSplitter } from '../../bench/wire/frames.js';
import { visitRecords } from '../../bench/wire/records.js';
import { lineChart, groupedBarChart } from '../../bench/report/charts.js';
import { escapeXml } from '../../bench/report/svg.js';
import { checkTargets } from '../../bench/report/targets.js';
import { connectionsChart, partitionsChart } from '../../bench/report/figures.js';
import { scenarios } from '../../bench/scenarios.js';
import { summarize, type Row, type SuiteResult } from '../../bench/results.js';
import { systemCatalog } from '../../bench/systems/catalog.js';
import { buildBatch } from '../../src/protocol/record-batch.js';

test('spread gives min, median and max; quantile uses the nearest rank', () => {
  assert.deepEqual(spread([3, 1, 2]), { min: 1, median: 2, max: 3 });
  assert.deepEqual(spread([4, 1, null, 2, 3]), { min: 1, median: 2.5, max: 4 });
  assert.equal(spread([]), null);
  const values = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i);
  const summary = summarizeLatencies(values);
  assert.equal(summary.p50, 500);
  assert.equal(summary.p99, 990);
  assert.equal(summary.p999, 999);
  assert.equal(summary.max, 1000);
  assert.equal(quantile([5], 0.999), 5);
});

test('FrameSplitter joins frames split across chunks and splits chunks holding several', () => {
  const frame = (body: string) => {
    const out = Buffer.alloc(4 + body.length);
    out.writeInt32BE(body.length, 0);
    out.write(body, 4);
    return out;
  };
  const stream = Buffer.concat([frame('first'), frame(''), frame('a longer third frame')]);
  for (const step of [1, 2, 3, 7, stream.length]) {
    const seen: string[] = [];
    const splitter = new FrameSplitter();
    for (let at = 0; at < stream.length; at += step) splitter.push(stream.subarray(at, at + step), (f) => seen.push(f.toString()));
    assert.deepEqual(seen, ['first', '', 'a longer third frame'], `chunks of ${step}`);
  }
});

test('visitRecords reads the values of whole batches from a given offset and leaves a partial batch', () => {
  const values = ['zero', 'one', 'two', 'three'].map((v) => Buffer.from(v));
  const first = buildBatch(values.slice(0, 2).map((value) => ({ key: Buffer.from('k'), value })), { baseOffset: 10 });
  const second = buildBatch(values.slice(2).map((value) => ({ key: null, value })), { baseOffset: 12 });
  const seen: [number, string][] = [];
  const data = Buffer.concat([first, second, second.subarray(0, 30)]);
  const next = visitRecords(data, 11, (offset, buf, at, bytes) => seen.push([offset, buf.subarray(at, at + bytes).toString()]));
  assert.deepEqual(seen, [
    [11, 'one'],
    [12, 'two'],
    [13, 'three'],
  ]);
  assert.equal(next, 14);
});

test('charts are well-formed SVG with escaped text', () => {
  assert.equal(escapeXml(`<a & "b">`), '&lt;a &amp; &quot;b&quot;&gt;');
  const lines = lineChart({
    title: 'T <1>',
    x: { label: 'x', log: true, format: String },
    y: { label: 'y', log: false, format: String },
    series: [{ name: 'a & b', points: [{ x: 100, y: 5, low: 4, high: 6 }, { x: 1000, y: 7 }] }],
  });
  assert.match(lines, /T &lt;1&gt;/);
  assert.match(lines, /a &amp; b/);
  assert.equal((lines.match(/<svg /g) ?? []).length, 1);
  const bars = groupedBarChart({ title: 'bars', xLabel: 'x', y: { label: 'ms', log: true, format: String }, barNames: ['p50', 'p99'], groups: [{ label: '1k\nA', values: [{ x: 0, y: 0.3 }, { x: 0, y: 2, low: 1, high: 3 }] }] });
  assert.equal((bars.match(/<rect /g) ?? []).length, 4, 'background, two bars, plot frame');
});

test('targets are met, not met, or not measured, from the medians', () => {
  const row = (scenario: string, system: Row['system'], client: Row['client'], phase: Row['phase'], recordsPerSecond: number, extra: Partial<Row['samples'][number]> = {}): Row => ({
    scenario,
    group: 'records',
    system,
    client,
    phase,
    errors: [],
    samples: [{ repetition: 1, records: 1_000_000, bytes: 100_000_000, seconds: 1_000_000 / recordsPerSecond, brokerCpuSeconds: 0.4, brokerPeakRssBytes: 100 << 20, ...extra }],
  });
  const rows = [
    row('records-100B', 'inkwell', 'kcat', 'produce', 1_200_000),
    row('records-100B', 'mock', 'kcat', 'produce', 1_000_000),
    row('records-100B', 'inkwell', 'kcat', 'consume', 1_600_000),
    row('records-100B', 'mock', 'kcat', 'consume', 1_000_000),
  ];
  const result = { systems: systemCatalog(), rows: rows.map((r) => ({ ...r, summary: summarize(r) })) } as unknown as SuiteResult;
  const checks = checkTargets(result).filter((c) => c.system === 'inkwell');
  const byStart = (start: string) => checks.find((c) => c.target.startsWith(start))!;
  assert.equal(byStart('produce 100 B').met, true);
  assert.equal(byStart('consume 100 B').met, false, '1.6× the mock is short of 3×');
  assert.equal(byStart('broker CPU').met, true);
  assert.equal(byStart('end-to-end').met, null);
  assert.match(byStart('end-to-end').measured, /^not measured/);
});

test('partition and connection charts draw one line per system and phase, and nothing without two points', () => {
  const row = (scenario: string, system: Row['system'], phase: Row['phase'], recordsPerSecond: number): Row => ({
    scenario,
    group: scenario.startsWith('partitions') ? 'partitions' : 'connections',
    system,
    client: scenario.startsWith('partitions') ? 'kcat' : 'raw',
    phase,
    errors: [],
    samples: [{ repetition: 1, records: 100_000, bytes: 10_000_000, seconds: 100_000 / recordsPerSecond, brokerCpuSeconds: 0.1, brokerPeakRssBytes: 100 << 20 }],
  });
  const resultOf = (rows: Row[]) => ({ scenarios: scenarios('quick'), systems: systemCatalog(), rows: rows.map((r) => ({ ...r, summary: summarize(r) })) }) as unknown as SuiteResult;
  const partitions = partitionsChart(
    resultOf([row('partitions-1', 'inkwell', 'produce', 800_000), row('partitions-100', 'inkwell', 'produce', 400_000), row('partitions-1000', 'inkwell', 'produce', 200_000), row('partitions-1', 'inkwell', 'consume', 1_000_000), row('partitions-1000', 'inkwell', 'consume', 300_000)]),
  );
  assert.ok(partitions);
  assert.equal((partitions.match(/<polyline /g) ?? []).length, 2, 'produce and consume');
  assert.match(partitions, />1,000</);
  const connections = connectionsChart(resultOf([row('connections-1', 'inkwell', 'produce', 800_000), row('connections-100', 'inkwell', 'produce', 900_000), row('connections-1', 'mock', 'produce', 5_000_000), row('connections-100', 'mock', 'produce', 3_000_000)]));
  assert.ok(connections);
  assert.equal((connections.match(/<polyline /g) ?? []).length, 2, 'Inkwell and the mock');
  assert.equal(partitionsChart(resultOf([row('partitions-1', 'inkwell', 'produce', 800_000)])), null);
});
