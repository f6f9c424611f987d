/** Reading the consumer protocol's subscription leniently, as the coordinator does for OffsetDelete. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSubscription, subscribedTopics } from '../../../src/broker/groups/consumer-protocol.js';
import { Writer } from '../../../src/protocol/writer.js';
import { subscription } from './group-client.js';

test('versions 0 to 3 are read, with their later fields', () => {
  for (const version of [0, 1, 2, 3]) {
    const parsed = parseSubscription(subscription(['a', 'b'], version));
    assert.ok(parsed, `v${version}`);
    assert.deepEqual(parsed.topics, ['a', 'b']);
    assert.equal(parsed.version, version);
  }
  const full = new Writer().int16(3).int32(1).string('orders').nullableBytes(Buffer.from('ud'));
  full.int32(1).string('orders').int32(2).int32(0).int32(4);
  full.int32(7).nullableString('rack-1');
  const parsed = parseSubscription(full.toBuffer())!;
  assert.deepEqual(parsed.userData, Buffer.from('ud'));
  assert.deepEqual(parsed.ownedPartitions, [{ topic: 'orders', partitions: [0, 4] }]);
  assert.equal(parsed.generationId, 7);
  assert.equal(parsed.rackId, 'rack-1');
});

test('later versions may carry fields we do not know; a damaged tail keeps the topics', () => {
  const future = Buffer.concat([subscription(['x'], 3), Buffer.from([9, 9, 9])]);
  assert.deepEqual(parseSubscription(future)?.topics, ['x']);
  const damaged = new Writer().int16(1).int32(1).string('y').nullableBytes(null).int32(5).toBuffer();
  const parsed = parseSubscription(damaged);
  assert.deepEqual(parsed?.topics, ['y'], 'v1 with an owned-partitions count it cannot satisfy');
  assert.deepEqual(parsed?.ownedPartitions, []);
});

test('malformed subscriptions yield null, and then every topic counts as subscribed', () => {
  assert.equal(parseSubscription(Buffer.alloc(0)), null);
  assert.equal(parseSubscription(Buffer.from([0, 0, 0x7f, 0xff, 0xff, 0xff])), null, 'a topic count that cannot fit');
  assert.equal(parseSubscription(Buffer.from([0, 0, 0, 0, 0, 1, 0])), null, 'a topic cut short');
  assert.equal(parseSubscription(Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])), null, 'a negative version');
  assert.equal(subscribedTopics([subscription(['a']), Buffer.from([1])]), null);
  assert.deepEqual(subscribedTopics([subscription(['a']), subscription(['b', 'a'])]), new Set(['a', 'b']));
});
