/**
 * The peer broker: librdkafka's built-in mock cluster, hosted by a kcat consumer of a keep-alive
 * topic (`-X test.mock.num.brokers=1`). Plaintext, in memory, about 5 MiB kept per partition,
 * topics auto-created with 4 partitions. Its address comes from the notice
 * "... replaced with 127.0.0.1:PORT" on kcat's stderr. The kcat process *is* the broker, so its
 * CPU and memory are measured like Inkwell's (its keep-alive consumer costs next to nothing).
 */
import { spawn } from 'node:child_process';
import { Tail } from '../child.js';
import type { RunningBroker } from './types.js';

const startTimeoutMs = 15_000;

export async function startMock(): Promise<RunningBroker> {
  // No `-d mock`: its per-request debug lines would be written by the broker thread and slow it.
  const child = spawn('kcat', ['-X', 'test.mock.num.brokers=1', '-b', '127.0.0.1:1', '-C', '-t', '__keepalive', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = new Tail();
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the mock cluster gave no address within ${startTimeoutMs / 1000} s: ${stderr}`)), startTimeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      const match = /replaced with (\S+:\d+)/.exec(stderr.toString());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the mock cluster's kcat exited (${code}): ${stderr}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return {
    system: 'mock',
    bootstrap,
    pid: child.pid!,
    caFile: null,
    fetchWaitMs: 1,
    logTail: () => stderr.toString(),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
