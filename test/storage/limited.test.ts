/** mapLimited: results in item order, never more than `limit` steps at once, every item tried, the first failure thrown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimited } from '../../src/storage/limited.js';

test('mapLimited keeps item order and runs at most `limit` steps at once', async () => {
  let running = 0;
  let most = 0;
  const out = await mapLimited([5, 1, 4, 2, 3, 0, 6, 2, 1, 3], 3, async (delay, index) => {
    running++;
    most = Math.max(most, running);
    await sleep(delay);
    running--;
    return `${index}:${delay}`;
  });
  assert.deepEqual(out, ['0:5', '1:1', '2:4', '3:2', '4:3', '5:0', '6:6', '7:2', '8:1', '9:3']);
  assert.equal(most, 3);
  assert.deepEqual(await mapLimited([], 4, async () => 1), []);
});

test('mapLimited tries every item after a failure, then throws the first failure', async () => {
  const tried: number[] = [];
  await assert.rejects(
    mapLimited([0, 1, 2, 3, 4, 5], 2, async (item) => {
      tried.push(item);
      await sleep(1);
      if (item === 1 || item === 4) throw new Error(`item ${item} failed`);
      return item;
    }),
    /item 1 failed/,
  );
  assert.deepEqual([...tried].sort(), [0, 1, 2, 3, 4, 5]);
});
