/**
 * Running the clients as their own processes: external programs (kcat) timed from spawn to exit,
 * and our Node client scripts, which talk to the suite over a line protocol (see
 * child-protocol.ts) so that the suite can read the broker's CPU between their phases.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Keeps the last `limit` characters of a stream (a failing kcat can print a line per record). */
export class Tail {
  private text = '';
  constructor(private readonly limit = 4000) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return this.text.slice(-this.limit).trim();
  }
}

export interface CommandResult {
  /** Spawn to exit. */
  readonly seconds: number;
  /** Spawn to the first byte on stdout (null when nothing came). */
  readonly firstOutputSeconds: number | null;
  /** Newlines seen on stdout. */
  readonly lines: number;
  readonly pid: number;
}

export interface CommandOptions {
  /** A file piped to the program's stdin. */
  readonly stdinFile?: string;
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Called once the process exists (for sampling its /proc entries). */
  readonly onSpawn?: (pid: number) => void;
}

/** Runs a program to completion, counting its stdout lines; rejects on a non-zero exit or the timeout. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const child = spawn(command, [...args], { stdio: [options.stdinFile ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let firstOutputSeconds: number | null = null;
    let lines = 0;
    const stderr = new Tail();
    let timedOut = false;
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.stdout!.on('data', (chunk: Buffer) => {
      firstOutputSeconds ??= elapsed();
      // indexOf runs in native code; a per-byte loop here would cost more than the client itself.
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    });
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (options.stdinFile) {
      const input = createReadStream(options.stdinFile);
      input.on('error', (error) => child.kill('SIGKILL') && reject(error));
      child.stdin!.on('error', () => {});
      input.pipe(child.stdin!);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = elapsed();
      if (timedOut) reject(new Error(`${command} did not finish within ${options.timeoutMs / 1000} s${describeTail(stderr)}`));
      else if (code !== 0) reject(new Error(`${command} exited ${code ?? signal}${describeTail(stderr)}`));
      else resolve({ seconds, firstOutputSeconds, lines, pid: child.pid ?? -1 });
    });
  });
}

function describeTail(tail: Tail): string {
  const lines = tail.toString().split('\n').filter(Boolean);
  if (lines.length === 0) return '';
  // A Node crash ends with its version after the stack: the error line is the one to show.
  if (/^Node\.js v/.test(lines[lines.length - 1]!)) {
    const thrown = [...lines].reverse().find((line) => /^\w*(Error|Exception)\b|^\s*\w+Error:/.test(line));
    if (thrown) return `: ${thrown.trim()}`;
  }
  // A client that fails per record repeats one line; show it once with the count seen.
  const last = lines[lines.length - 1]!;
  const repeats = lines.filter((line) => line === last).length;
  return `: ${last}${repeats > 1 ? ` (repeated, ${repeats}+ times)` : ''}`;
}

export interface NodeChildOptions {
  readonly timeoutMs: number;
  /** Called at each `mark NAME` the child prints; the child waits until this resolves. */
  readonly onMark?: (name: string, pid: number) => void | Promise<void>;
  readonly nodeArgs?: readonly string[];
}

/** Runs one of our client scripts (dist/bench/clients/*.js) and resolves with the JSON it reports. */
export function runNodeChild<T>(script: string, args: readonly string[], options: NodeChildOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid ?? -1;
    const stderr = new Tail();
    let result: T | undefined;
    let timedOut = false;
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin!.on('error', () => {});
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('mark ')) {
        const name = line.slice(5);
        Promise.resolve(options.onMark?.(name, pid)).then(
          () => child.stdin!.write('go\n'),
          (error: unknown) => {
            child.kill('SIGKILL');
            reject(error);
          },
        );
      } else if (line.startsWith('result ')) {
        result = JSON.parse(line.slice(7)) as T;
      }
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const name = script.split('/').slice(-1)[0];
      if (timedOut) reject(new Error(`${name} did not finish within ${options.timeoutMs / 1000} s${describeTail(stderr)}`));
      else if (code !== 0) reject(new Error(`${name} exited ${code ?? signal}${describeTail(stderr)}`));
      else if (result === undefined) reject(new Error(`${name} reported no result${describeTail(stderr)}`));
      else resolve(result);
    });
  });
}
