/**
 * kafkajs 2.2.4 admin.deleteTopicRecords over TLS (DeleteRecords, after its own ListOffsets
 * checks): the earliest offsets move, -1 deletes up to the high watermark, and a kafkajs consumer
 * side check through fetchTopicOffsets sees the new low watermarks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import type { TestTls } from '../helpers/tls.js';
import { useTlsBroker } from '../helpers/shared-broker.js';
import { RawClient, withTimeout } from '../helpers/raw-client.js';
import { buildBatch } from '../../src/protocol/record-batch.js';
import { createTopic, fetchOnce, produce } from '../broker/idempotence-helpers.js';

let material: TestTls;
let port = 0;
useTlsBroker((started) => ({ material, port } = started));

test('kafkajs deleteTopicRecords moves the low watermarks', async () => {
  const topic = 'kjs-delete-records';
  const client = await RawClient.connect({ port, tls: { ca: material.ca } });
  try {
    await createTopic(client, topic, 2);
    for (let i = 0; i < 10; i++) {
      for (const partition of [0, 1]) {
        assert.equal((await produce(client, topic, partition, buildBatch([{ key: null, value: Buffer.from(`v${i}`) }]))).errorCode, 0);
      }
    }
    const kafka = new Kafka({ clientId: 'inkwell-kafkajs-delete-records', brokers: [`127.0.0.1:${port}`], ssl: { ca: [material.ca.toString('utf8')] }, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await withTimeout(admin.connect(), 30_000, 'admin.connect');
    try {
      // kafkajs's deleteTopicRecords needs the topic's metadata loaded, which fetchTopicOffsets does.
      const before = await withTimeout(admin.fetchTopicOffsets(topic), 30_000, 'fetchTopicOffsets');
      assert.deepEqual(before.map((o) => [o.low, o.high]), [['0', '10'], ['0', '10']]);
      await withTimeout(admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '-1' }] }), 30_000, 'deleteTopicRecords');
      const offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition);
      assert.deepEqual(
        offsets.map((o) => [o.partition, o.low, o.high]),
        [
          [0, '7', '10'],
          [1, '10', '10'],
        ],
      );
      // kafkajs checks offsets beyond the high watermark itself (it lists offsets first) and refuses them.
      await assert.rejects(admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '50' }] }));
    } finally {
      await admin.disconnect();
    }
    assert.equal((await fetchOnce(client, topic, 0, 6)).errorCode, 1, 'below the new start is OFFSET_OUT_OF_RANGE');
    assert.equal((await fetchOnce(client, topic, 0, 7)).errorCode, 0);
  } finally {
    client.close();
  }
});
