/**
 * Keyed records must land where the Java client and kafkajs put them: murmur2 and the
 * partition choice are checked against kafkajs's own implementation on many keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { murmur2, partitionForKey, pickStickyPartition } from '../../src/client/partitioner.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: { partitionId: number; leader: number }[]; message: { key: Buffer } }) => number };
};

test('murmur2 equals kafkajs murmur2 on 20,000 random keys of every length up to 64 bytes', () => {
  for (let i = 0; i < 20_000; i++) {
    const key = randomBytes(i % 65);
    assert.equal(murmur2(key), kafkajsMurmur2(key), `key ${key.toString('hex')}`);
  }
});

test('murmur2 of short, long and non-ASCII strings equals kafkajs', () => {
  for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'key-1', '21', 'foobar', 'a-little-bit-long-string', 'éàü']) {
    assert.equal(murmur2(Buffer.from(key)), kafkajsMurmur2(Buffer.from(key)));
  }
});

test('keyed partition equals kafkajs DefaultPartitioner for 1 to 64 partitions', () => {
  const partitioner = Partitioners.DefaultPartitioner();
  for (let count = 1; count <= 64; count++) {
    const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1 }));
    for (let i = 0; i < 300; i++) {
      const key = Buffer.from(`key-${count}-${i}`);
      assert.equal(partitionForKey(key, count), partitioner({ topic: 't', partitionMetadata, message: { key } }));
    }
  }
});

test('the sticky partition avoids the previous one and partitions without a leader', () => {
  for (let i = 0; i < 200; i++) {
    const choice = pickStickyPartition([1, -1, 1, 1], 0);
    assert.ok(choice === 2 || choice === 3, `got ${choice}`);
  }
  assert.equal(pickStickyPartition([1], 0), 0);
  for (let i = 0; i < 50; i++) assert.notEqual(pickStickyPartition([-1, -1, -1], 1), 1);
});
