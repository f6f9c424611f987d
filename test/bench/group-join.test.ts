/**
 * `node dist/bench/group-join.js` at its smallest (3 members, one repetition, memory storage):
 * checks that it runs to the end and prints its settings, the command and one row of figures
 * per case — not how fast anything is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/run.js';

/** dist/bench/group-join.js, next to this file's compiled form in dist/test/bench/. */
const script = fileURLToPath(new URL('../../bench/group-join.js', import.meta.url));

test('bench/group-join.js --members 3 --repetitions 1 prints min/median/max for forming and joining a group', { timeout: 90_000 }, async () => {
  const args = ['--members', '3', '--repetitions', '1', '--storage', 'memory'];
  const result = await run(process.execPath, [script, ...args], { timeoutMs: 80_000 });
  assert.equal(result.code, 0, `group-join.js exited ${result.code ?? result.signal}:\n${result.stderr.slice(-3000)}`);
  const out = result.stdout;
  assert.match(out, /TLS, memory storage, group\.initial\.rebalance\.delay\.ms=0 \(the broker default\)/);
  assert.match(out, /heartbeat every 100 ms/);
  assert.ok(out.includes(`\ncommand: node ${relative(process.cwd(), script)} ${args.join(' ')}\n`), `the exact command:\n${out}`);
  assert.match(out, /members +case +min ms +median ms +max ms +generations/);
  const figure = String.raw`\d+\.\d`;
  const form = new RegExp(String.raw`^ +3  form: 3 from empty +(${figure}) +(${figure}) +(${figure}) +(\d+(?:\.5)?)$`, 'm').exec(out);
  const join = new RegExp(String.raw`^ +3  join: member 4 into stable 3 +(${figure}) +(${figure}) +(${figure}) +(\d+(?:\.5)?)$`, 'm').exec(out);
  for (const [name, match] of [['form', form], ['join', join]] as const) {
    assert.ok(match, `a ${name} row:\n${out}`);
    const [min, median, max, generations] = match.slice(1).map(Number) as [number, number, number, number];
    // One repetition: min, median and max are the same figure.
    assert.ok(min > 0 && min === median && median === max, `${name}: ${match[0]}`);
    assert.ok(generations >= 1, `${name}: at least one generation`);
  }
  assert.doesNotMatch(result.stderr, /Error/, result.stderr);
});
