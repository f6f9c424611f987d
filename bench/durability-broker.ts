/**
 * The broker as a child process for the durability scripts: `inkwell serve` on a data directory
 * and a fixed plaintext port, started, killed with SIGKILL and started again, plus a raw
 * ApiVersions probe (which APIs the running broker advertises).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The repository root (this file runs as dist/bench/*.js). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How long a start may take: start-up includes crash recovery of the data directory. */
export const startTimeoutMs = 120_000;
/** Lines of the broker's stderr kept for a failure report. */
const stderrLinesKept = 200;

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

export interface BrokerProcessOptions {
  readonly dataDir: string;
  readonly port: number;
  /** `--set key=value` pairs. */
  readonly settings?: readonly string[];
}

export class BrokerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** The broker's last stderr lines (logs), across restarts. */
  readonly stderr: string[] = [];

  constructor(private readonly options: BrokerProcessOptions) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.options.port}`;
  }

  /** Starts `inkwell serve`; resolves with the milliseconds until it printed its listening line. */
  async start(): Promise<number> {
    const started = performance.now();
    const args = [join(repoRoot, 'dist/src/cli/main.js'), 'serve', '--listeners', `PLAINTEXT://127.0.0.1:${this.options.port}`, '--data-dir', this.options.dataDir];
    for (const pair of this.options.settings ?? []) args.push('--set', pair);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // If this script ends first (an error, a signal), the broker must not outlive it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    this.exited = once(child, 'exit').then(() => void process.removeListener('exit', killOnExit));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > stderrLinesKept) this.stderr.shift();
    });
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`broker did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
      lines.on('line', (line) => {
        if (line.startsWith('listening ')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`broker exited during start-up (${code ?? signal}):\n${this.stderr.slice(-20).join('\n')}`));
      });
    });
    return performance.now() - started;
  }

  /** SIGKILL: no shutdown at all, as a crash or the OOM killer would do it. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** SIGTERM: a clean shutdown (the broker syncs and writes its clean-shutdown marker). */
  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
    this.child = null;
  }
}

/** The API keys a broker advertises, by a raw ApiVersions v0 request (no client library involved). */
export async function advertisedApiKeys(port: number): Promise<Set<number>> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const clientId = Buffer.from('durability-probe');
  const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  request.writeInt32BE(request.length - 4, 0);
  request.writeInt16BE(18, 4);
  request.writeInt16BE(0, 6);
  request.writeInt32BE(1, 8);
  request.writeInt16BE(clientId.length, 12);
  clientId.copy(request, 14);
  socket.write(request);
  let received = Buffer.alloc(0);
  for await (const chunk of socket) {
    received = Buffer.concat([received, chunk as Buffer]);
    if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) break;
  }
  socket.destroy();
  const keys = new Set<number>();
  const count = received.readInt32BE(10);
  for (let i = 0; i < count; i++) keys.add(received.readInt16BE(14 + i * 6));
  return keys;
}
