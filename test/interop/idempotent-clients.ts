/** Runs test/interop/python/idempotent_check.py: confluent-kafka-python producing with enable.idempotence=true. */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../helpers/run.js';
import { requireTool, systemPython } from '../helpers/interop.js';
import { repoPath } from '../helpers/paths.js';
import { testTls } from '../helpers/tls.js';

export interface ConfluentDelivery {
  readonly error: string | null;
  readonly partition: number;
  readonly offset: number;
  readonly i: number;
}

export interface ConfluentReport {
  readonly remaining: number;
  readonly deliveries: ConfluentDelivery[];
  readonly errors: { code: number; name: string; str: string; fatal: boolean }[];
  readonly seconds: number;
}

export interface ConfluentRun {
  readonly bootstrap: string;
  readonly topic: string;
  /** Record i has the value "<tag>-<i>". */
  readonly tag: string;
  readonly count: number;
  /** librdkafka's batch.num.messages; small batches mean many requests. */
  readonly batchMessages?: number;
  /** librdkafka's reconnect.backoff.max.ms: it doubles its wait after every lost connection (up to 10 s by default). */
  readonly reconnectBackoffMaxMs?: number;
  readonly timeoutSeconds?: number;
}

/** The script's report, or null when the test was skipped because the client is not installed. */
export async function confluentIdempotent(t: TestContext, options: ConfluentRun): Promise<ConfluentReport | null> {
  if (!(await requireTool(t, systemPython, ['-c', 'import confluent_kafka'], 'confluent-kafka-python (python3-confluent-kafka)'))) return null;
  const timeoutSeconds = options.timeoutSeconds ?? 120;
  const args = [
    repoPath('test/interop/python/idempotent_check.py'),
    '--bootstrap', options.bootstrap,
    '--cafile', (await testTls()).paths.ca,
    '--topic', options.topic,
    '--tag', options.tag,
    '--count', String(options.count),
    '--timeout', String(timeoutSeconds),
    ...(options.batchMessages === undefined ? [] : ['--batch-messages', String(options.batchMessages)]),
    ...(options.reconnectBackoffMaxMs === undefined ? [] : ['--reconnect-backoff-max-ms', String(options.reconnectBackoffMaxMs)]),
  ];
  const result = await run(systemPython, args, { timeoutMs: (timeoutSeconds + 60) * 1000 });
  assert.equal(result.code, 0, `idempotent_check.py exited ${result.code ?? result.signal}:\n${result.stderr.slice(-4000)}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as ConfluentReport;
}
