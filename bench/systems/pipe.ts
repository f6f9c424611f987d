/** Runs one raw-pipe measurement: a sink process, then a source process writing into it. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { benchScript } from '../paths.js';
import { runNodeChild, Tail } from '../child.js';
import type { PipeResult } from './pipe-endpoint.js';

export interface PipeRun {
  readonly tls: boolean;
  readonly bytes: number;
  readonly chunkBytes: number;
  /** Holds server-cert.pem, server-key.pem and ca-cert.pem. */
  readonly certificates: string;
  readonly timeoutMs: number;
  /** Called at the source's marks with the sink's pid, to measure it like a broker. */
  readonly onMark: (name: string, sinkPid: number) => void;
}

export async function runPipe(run: PipeRun): Promise<PipeResult> {
  const script = benchScript('systems/pipe-endpoint.js');
  const tlsArgs = run.tls ? ['--cert', join(run.certificates, 'server-cert.pem'), '--key', join(run.certificates, 'server-key.pem')] : [];
  const sink = spawn(process.execPath, [script, 'sink', ...tlsArgs, '--bytes', String(run.bytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = new Tail();
  sink.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | string>((resolve) => sink.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: sink.stdout! }).on('line', (line) => {
        const match = /^listening (\d+)$/.exec(line);
        if (match) resolve(Number(match[1]));
      });
      void exited.then((code) => reject(new Error(`pipe sink exited (${code}): ${stderr}`)));
    });
    const caArgs = run.tls ? ['--ca', join(run.certificates, 'ca-cert.pem')] : [];
    return await runNodeChild<PipeResult>(script, ['source', '--port', String(port), ...caArgs, '--bytes', String(run.bytes), '--chunk-bytes', String(run.chunkBytes)], {
      timeoutMs: run.timeoutMs,
      onMark: (name) => run.onMark(name, sink.pid!),
    });
  } finally {
    const timer = setTimeout(() => sink.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
