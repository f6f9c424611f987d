/**
 * A consumer-group member in its own process, for member-crash.test.ts: joins the group, prints
 * one JSON line per event ({"assigned" | "revoked" | "lost": [partitions]} on each change of its partitions, {"read": [partition, offset]}
 * per record, before the auto-commit can cover it) and runs until it is killed.
 *
 *   node crash-member-child.js BOOTSTRAP CA_FILE TOPIC GROUP
 */
import { readFileSync } from 'node:fs';
import { Consumer } from '../../src/index.js';

const [bootstrap, caFile, topic, groupId] = process.argv.slice(2);
if (!bootstrap || !caFile || !topic || !groupId) {
  console.error('usage: crash-member-child.js BOOTSTRAP CA_FILE TOPIC GROUP');
  process.exit(2);
}

/** Writes to a pipe are synchronous on Linux: a line printed is a line the parent gets, even after SIGKILL. */
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const consumer = new Consumer({
  bootstrap,
  tls: { ca: readFileSync(caFile) },
  groupId,
  autoOffsetReset: 'earliest',
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 10_000,
  autoCommitIntervalMs: 100,
  maxWaitMs: 100,
  onRebalance: (event) => {
    emit({ [event.type]: event.partitions.map((tp) => tp.partition) });
  },
});
await consumer.subscribe([topic]);
await consumer.run({
  eachBatch: (batch) => {
    for (const record of batch.records) emit({ read: [record.partition, record.offset] });
  },
});
