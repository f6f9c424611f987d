/**
 * Inkwell as the system under test: `node dist/src/cli/main.js serve` in its own process, one
 * TLS listener on a port the OS picks (read back from its `listening SSL://host:port` line), a
 * fresh data directory per run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Tail } from '../child.js';
import type { BrokerStartOptions, RunningBroker, SystemId } from './types.js';

export interface InkwellSetup {
  /** Holds server-cert.pem, server-key.pem and ca-cert.pem. */
  readonly certificates: string;
  /** Parent of the per-run data directories. */
  readonly work: string;
  /** The inkwell CLI (dist/src/cli/main.js) to run: this checkout's, or another build's. */
  readonly cli: string;
}

const startTimeoutMs = 30_000;
const stopTimeoutMs = 40_000;

export async function startInkwell(system: SystemId, setup: InkwellSetup, baseSettings: Readonly<Record<string, string>>, options: BrokerStartOptions): Promise<RunningBroker> {
  const dataDirectory = options.dataDirectory ?? mkdtempSync(join(setup.work, 'data-'));
  const settings = { 'num.partitions': String(options.partitions), ...baseSettings, ...options.settings };
  const args = [
    ...(options.nodeArgs ?? []),
    setup.cli,
    'serve',
    '--listeners',
    'SSL://127.0.0.1:0',
    '--data-dir',
    dataDirectory,
    '--tls-cert',
    join(setup.certificates, 'server-cert.pem'),
    '--tls-key',
    join(setup.certificates, 'server-key.pem'),
    '--tls-ca',
    join(setup.certificates, 'ca-cert.pem'),
    ...Object.entries(settings).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = new Tail();
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const removeData = () => {
    if (options.dataDirectory === undefined) rmSync(dataDirectory, { recursive: true, force: true });
  };

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inkwell serve did not listen within ${startTimeoutMs / 1000} s: ${stderr}`)), startTimeoutMs);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const match = /^listening SSL:\/\/[^\s]+:(\d+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`inkwell serve exited (${code}) before listening: ${stderr}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    removeData();
    throw error;
  }

  return {
    system,
    bootstrap: `127.0.0.1:${port}`,
    pid: child.pid!,
    caFile: join(setup.certificates, 'ca-cert.pem'),
    fetchWaitMs: 500,
    logTail: () => stderr.toString(),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      removeData();
      if (code !== 0 && code !== 'SIGTERM') throw new Error(`inkwell serve exited ${code}: ${stderr}`);
    },
  };
}
