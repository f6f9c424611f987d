/**
 * librdkafka's built-in mock cluster, run through kcat: `-X test.mock.num.brokers=N` makes kcat
 * start N mock brokers on 127.0.0.1 and log their addresses ("replaced with host:port,...").
 * Plaintext only; topics are auto-created with 4 partitions; no CreateTopics. Its ListOffsets
 * v4+ responses are malformed (PEER-NOTES.md), so clients here cap ListOffsets at v3.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface MockCluster {
  readonly bootstrap: string;
  readonly brokers: number;
  stop(): Promise<void>;
}

/** Client options every test against the mock needs. */
export const mockClientCaps: Readonly<Record<string, number>> = { ListOffsets: 3 };

const startTimeoutMs = 20_000;

export async function startMockCluster(brokers = 3): Promise<MockCluster> {
  const child: ChildProcess = spawn('kcat', ['-X', `test.mock.num.brokers=${brokers}`, '-b', '127.0.0.1:1', '-d', 'mock', '-C', '-t', '__keepalive', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the kcat mock cluster printed no bootstrap address within ${startTimeoutMs} ms:\n${seen.slice(-2000)}`));
    }, startTimeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // The debug log is large: keep reading it (so kcat never blocks on a full pipe), keep only a tail.
    child.stderr!.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-20_000);
      const match = /replaced with (127\.0\.0\.1:\d+(?:,127\.0\.0\.1:\d+)*)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return {
    bootstrap,
    brokers,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
