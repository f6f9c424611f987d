/** The offset log's record encoding: every record type survives a round trip through a batch; damage is reported, not thrown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeRecord, readBatchRecords, type LogRecord } from '../../../src/broker/groups/offset-log-format.js';
import { buildBatch } from '../../../src/protocol/record-batch.js';

const records: LogRecord[] = [
  { type: 'logStart', epoch: 7, createdMs: 1_700_000_000_000 },
  { type: 'offset', group: 'g', topic: 'orders', partition: 3, value: { topic: 'orders', partition: 3, offset: 2 ** 40, leaderEpoch: 5, metadata: 'ünïcode', commitTimestamp: 1_700_000_000_001, expireTimestamp: -1 } },
  { type: 'offset', group: 'g', topic: 'orders', partition: 4, value: null },
  {
    type: 'group',
    group: 'g',
    value: {
      protocolType: 'consumer',
      generationId: 12,
      protocolName: 'range',
      leaderId: 'm-1',
      stateTimestamp: 1_700_000_000_002,
      members: [
        { memberId: 'm-1', groupInstanceId: null, clientId: 'c', clientHost: '/127.0.0.1', rebalanceTimeoutMs: 300_000, sessionTimeoutMs: 45_000, subscription: Buffer.from([0, 1]), assignment: Buffer.from([2]) },
        { memberId: 'm-2', groupInstanceId: 'i-2', clientId: '', clientHost: '/::1', rebalanceTimeoutMs: 1, sessionTimeoutMs: 2, subscription: Buffer.alloc(0), assignment: Buffer.alloc(0) },
      ],
    },
  },
  { type: 'group', group: 'gone', value: { protocolType: null, generationId: 1, protocolName: null, leaderId: null, stateTimestamp: 0, members: [] } },
  { type: 'group', group: 'gone', value: null },
  { type: 'snapshotEnd', epoch: 7, records: 4 },
];

test('every record type round-trips through a stored batch', () => {
  const batch = buildBatch(records.map(encodeRecord));
  const read = readBatchRecords(batch);
  assert.ok(Array.isArray(read));
  assert.deepEqual(
    read.map((r) => decodeRecord(r.key!, r.value)),
    records,
  );
});

test('damaged batches and records are reported as reasons', () => {
  const batch = buildBatch(records.slice(0, 2).map(encodeRecord));
  const flipped = Buffer.from(batch);
  flipped[flipped.length - 1]! ^= 0xff;
  assert.match(readBatchRecords(flipped) as string, /CRC/);
  assert.match(readBatchRecords(batch.subarray(0, 30)) as string, /shorter/);
  assert.match(decodeRecord(Buffer.from([0, 9]), null) as string, /unknown record type 9/);
  const { key, value } = encodeRecord(records[1]!);
  assert.match(decodeRecord(key, value!.subarray(0, 5)) as string, /malformed offset/);
  assert.match(decodeRecord(Buffer.concat([key, Buffer.from([1])]), value) as string, /malformed key/);
});
