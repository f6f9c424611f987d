/**
 * The crash script (bench/durability-crash.ts), CI-sized: `inkwell serve` killed with SIGKILL 5
 * times while confluent-kafka-python and kafkajs produce with acks=all; nothing acknowledged may
 * be lost or reordered. Needs kcat and python3-confluent-kafka (skipped without them, except in CI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool, systemPython } from '../helpers/interop.js';
import { run } from '../helpers/run.js';
import { repoPath } from '../helpers/paths.js';

const cyclesCi = 5;
const scriptTimeoutMs = 60_000;

test(`the crash script: ${cyclesCi} SIGKILL cycles with real clients lose nothing acknowledged`, { timeout: scriptTimeoutMs + 10_000 }, async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  if (!(await requireTool(t, systemPython, ['-c', 'import confluent_kafka'], 'confluent-kafka-python (python3-confluent-kafka)'))) return;
  const result = await run(process.execPath, [repoPath('dist/bench/durability-crash.js'), '--cycles', String(cyclesCi), '--seed', '42'], { timeoutMs: scriptTimeoutMs });
  const summary = /acked (\d+), read back (\d+), lost (\d+), duplicated (\d+), out of order (\d+)/.exec(result.stdout);
  assert.ok(summary, `no summary line:\n${result.stdout}\n${result.stderr}`);
  const [acked, readBack, lost, , outOfOrder] = summary.slice(1).map(Number);
  assert.equal(result.code, 0, `the script failed:\n${result.stdout}\n${result.stderr}`);
  assert.ok(acked! > 1000, `${acked} values acknowledged`);
  assert.ok(readBack! >= acked!);
  assert.equal(lost, 0);
  assert.equal(outOfOrder, 0);
});
