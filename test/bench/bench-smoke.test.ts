/**
 * `inkwell bench --smoke`: the smallest scenario end to end (kcat against Inkwell over TLS and the
 * librdkafka mock, and the raw TLS pipe, twice each). Checks that the benchmark works and that
 * its output has the expected shape — not how fast anything is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../cli/cli-process.js';
import { run } from '../helpers/run.js';
import { requireTool, tempDir } from '../helpers/interop.js';
import type { SuiteResult } from '../../bench/results.js';

test('inkwell bench --smoke measures every system and writes JSON, markdown and an SVG chart', { timeout: 60_000 }, async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  const out = tempDir('inkwell-bench-smoke-');
  t.after(out.remove);
  const result = await run(process.execPath, [cliPath, 'bench', '--smoke', '--repetitions', '2', '--out', out.path, '--no-progress'], { timeoutMs: 55_000 });
  assert.equal(result.code, 0, `inkwell bench exited ${result.code ?? result.signal}:\n${result.stderr.slice(-3000)}`);

  // The markdown report on stdout.
  for (const heading of ['### Throughput', '### Targets', '### Notes']) assert.ok(result.stdout.includes(heading), `stdout has ${heading}:\n${result.stdout}`);
  assert.doesNotMatch(result.stdout, /### Failures/, 'no run failed');
  // records/s: the median, then (min–max) when the two runs differ.
  assert.match(result.stdout, /\| smoke \| Inkwell TLS[^|]* \| kcat \| produce \| [\d,]+( \([\d,]+–[\d,]+\))? \|/);
  assert.match(result.stdout, /\| smoke \| mock \(plaintext\) \| kcat \| consume \| [\d,]+( \([\d,]+–[\d,]+\))? \|/);

  // The files.
  const files = readdirSync(out.path).sort();
  const stem = files.find((f) => f.endsWith('-smoke.json'))?.replace(/\.json$/, '');
  assert.ok(stem && /^\d{4}-\d{2}-\d{2}-smoke$/.test(stem), `a <date>-smoke.json among ${files.join(', ')}`);
  assert.deepEqual(files, [`${stem}-throughput.svg`, `${stem}.json`, `${stem}.md`].sort());
  assert.equal(readFileSync(join(out.path, `${stem}.md`), 'utf8'), result.stdout);
  const svg = readFileSync(join(out.path, `${stem}-throughput.svg`), 'utf8');
  assert.match(svg, /^<\?xml[^>]*>\n<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<polyline /);
  assert.match(svg, /<\/svg>\n$/);

  // The JSON: every row has both repetitions, with figures that make sense as a shape.
  const json = JSON.parse(readFileSync(join(out.path, `${stem}.json`), 'utf8')) as SuiteResult;
  assert.equal(json.format, 'inkwell-bench/1');
  assert.equal(json.mode, 'smoke');
  assert.equal(json.repetitions, 2);
  assert.ok(json.machine.cpus > 0 && json.machine.loadAverageBefore.length === 3);
  const rows = json.rows.map((r) => `${r.system}/${r.client}/${r.phase}`).sort();
  assert.deepEqual(rows, ['inkwell/kcat/consume', 'inkwell/kcat/produce', 'mock/kcat/consume', 'mock/kcat/produce', 'tls-pipe/pipe/pipe']);
  for (const row of json.rows) {
    const name = `${row.system}/${row.client}/${row.phase}`;
    assert.deepEqual(row.errors, [], name);
    assert.deepEqual(row.samples.map((s) => s.repetition), [1, 2], name);
    const rate = row.summary.recordsPerSecond;
    assert.ok(rate && rate.min > 0 && rate.min <= rate.median && rate.median <= rate.max, `${name}: records/s spread ${JSON.stringify(rate)}`);
    for (const sample of row.samples) {
      assert.ok(sample.seconds > 0, `${name}: seconds`);
      assert.ok(typeof sample.brokerCpuSeconds === 'number' && sample.brokerCpuSeconds >= 0, `${name}: broker CPU read from /proc`);
      assert.ok(typeof sample.brokerPeakRssBytes === 'number' && sample.brokerPeakRssBytes > 1024 * 1024, `${name}: broker peak RSS read from /proc`);
    }
    if (row.system !== 'mock') assert.ok(row.samples.every((s) => s.records === 2000), `${name}: every record counted`);
  }
});
