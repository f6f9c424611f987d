/** The coordinator's single timer: deadlines fire in order, later re-arms cost no heap entries, disarmed ones stay quiet. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deadline, Scheduler } from '../../../src/broker/groups/scheduler.js';
import { sleep } from './group-client.js';

test('deadlines fire in time order, once each', async () => {
  const scheduler = new Scheduler((error) => assert.fail(String(error)));
  const fired: string[] = [];
  const a = new Deadline(() => fired.push('a'));
  const b = new Deadline(() => fired.push('b'));
  const c = new Deadline(() => fired.push('c'));
  scheduler.arm(c, 60);
  scheduler.arm(a, 10);
  scheduler.arm(b, 30);
  await sleep(120);
  assert.deepEqual(fired, ['a', 'b', 'c']);
  assert.equal(a.armed || b.armed || c.armed, false);
  scheduler.stop();
});

test('moving a deadline later (a heartbeat) adds no heap entry; it fires at the last time set', async () => {
  const scheduler = new Scheduler((error) => assert.fail(String(error)));
  let firedAt = 0;
  const started = Date.now();
  const session = new Deadline(() => (firedAt = Date.now()));
  scheduler.arm(session, 40);
  for (let i = 0; i < 1000; i++) scheduler.arm(session, 40 + i / 10);
  assert.equal(scheduler.queued, 1);
  for (let i = 0; i < 5; i++) {
    await sleep(20);
    scheduler.arm(session, 60);
  }
  assert.equal(firedAt, 0, 'kept alive by re-arming');
  await sleep(120);
  assert.ok(firedAt - started >= 150, `fired after the last re-arm (${firedAt - started} ms)`);
  assert.equal(scheduler.queued, 0);
  scheduler.stop();
});

test('moving a deadline earlier takes effect; a disarmed deadline never fires; stop forgets everything', async () => {
  const scheduler = new Scheduler((error) => assert.fail(String(error)));
  const fired: string[] = [];
  const early = new Deadline(() => fired.push('early'));
  const quiet = new Deadline(() => fired.push('quiet'));
  const late = new Deadline(() => fired.push('late'));
  scheduler.arm(early, 10_000);
  scheduler.arm(early, 10);
  scheduler.arm(quiet, 20);
  scheduler.disarm(quiet);
  // Wide margins: a loaded CI machine can wake a sleep tens of milliseconds late.
  scheduler.arm(late, 1000);
  await sleep(200);
  assert.deepEqual(fired, ['early']);
  scheduler.stop();
  await sleep(1000);
  assert.deepEqual(fired, ['early']);
  scheduler.arm(late, 1);
  await sleep(20);
  assert.deepEqual(fired, ['early'], 'a stopped scheduler arms nothing');
});

test('a deadline that throws is reported and the others still fire', async () => {
  const errors: unknown[] = [];
  const scheduler = new Scheduler((error) => errors.push(error));
  let fired = false;
  scheduler.arm(new Deadline(() => { throw new Error('boom'); }), 5);
  scheduler.arm(new Deadline(() => (fired = true)), 10);
  await sleep(40);
  assert.equal(errors.length, 1);
  assert.ok(fired);
  scheduler.stop();
});
