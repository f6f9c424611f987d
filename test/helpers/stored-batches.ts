/** What a topic holds, batch by batch, read raw with Fetch v11: to check how records were stored (compression codec, batching). */
import assert from 'node:assert/strict';
import { RawClient } from './raw-client.js';
import { readBatches } from './v2-batch-reader.js';

/** The codec (attributes & 0x07) and record count of every batch stored in the topic, partition by partition, over TLS. */
export async function storedBatches(port: number, ca: Buffer, topic: string, partitions: number): Promise<{ codec: number; records: number }[]> {
  const client = await RawClient.connect({ port, tls: { ca } });
  const stored: { codec: number; records: number }[] = [];
  try {
    for (let partition = 0; partition < partitions; partition++) {
      let fetchOffset = 0n;
      for (let round = 0; round < 1000; round++) {
        const response = await client.request('Fetch', 11, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 8 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset, logStartOffset: -1n, partitionMaxBytes: 8 << 20 }] }],
          forgottenTopicsData: [],
          rackId: '',
        });
        const part = (response.responses as { partitions: { errorCode: number; highWatermark: bigint; records: Buffer | null }[] }[])[0]!.partitions[0]!;
        assert.equal(part.errorCode, 0);
        if (fetchOffset >= part.highWatermark) break;
        const batches = await readBatches(part.records ?? Buffer.alloc(0));
        assert.ok(batches.length > 0, `Fetch of ${topic}-${partition} at ${fetchOffset} returned no whole batch`);
        for (const batch of batches) {
          stored.push({ codec: batch.codec, records: batch.records.length });
          fetchOffset = BigInt(batch.baseOffset + batch.records.length);
        }
      }
    }
  } finally {
    client.close();
  }
  return stored;
}
