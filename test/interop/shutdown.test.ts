/**
 * A broker that shuts down ends its TLS connections in order (close_notify, then FIN) instead of
 * dropping them: a kcat consumer connected over TLS sees "Disconnected", not librdkafka's
 * "SSL routines::unexpected eof while reading" transport error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startBroker } from '../../src/index.js';
import { testTls } from '../helpers/tls.js';
import { createTopic, requireTool } from '../helpers/interop.js';
import { run } from '../helpers/run.js';
import { withTimeout } from '../helpers/raw-client.js';

test('kcat sees an orderly TLS close when the broker shuts down', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  const material = await testTls();
  const broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', storage: 'memory', tls: material, log: () => {} });
  let closed = false;
  const kcatArgs = ['-b', broker.bootstrap('SSL'), '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${material.paths.ca}`];
  const consumer = spawn('kcat', [...kcatArgs, '-C', '-t', 'bye', '-o', 'beginning'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await createTopic(broker.listeners[0]!.port, material.ca, 'bye', 1);
    await run('kcat', [...kcatArgs, '-P', '-t', 'bye'], { input: 'one\n', timeoutMs: 20_000 });
    let stderr = '';
    consumer.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (/Reached end of topic bye/.test(stderr) ? resolve() : setTimeout(check, 50));
        check();
      }),
      20_000,
      'kcat reading to the end of the topic',
    );
    await broker.close();
    closed = true;
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (/FAIL|ERROR/.test(stderr) ? resolve() : setTimeout(check, 50));
        check();
      }),
      10_000,
      'kcat noticing the broker is gone',
    );
    assert.doesNotMatch(stderr, /unexpected eof/i, stderr);
    assert.match(stderr, /Disconnected/, stderr);
  } finally {
    consumer.kill('SIGKILL');
    if (!closed) await broker.close();
  }
});
