/** Runs the compiled `inkwell` CLI as a child process, with every wait bounded and every child reaped. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../helpers/run.js';

/** dist/src/cli/main.js, next to this file's compiled form in dist/test/cli/. */
export const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export const commandTimeoutMs = 20_000;

/** Runs `inkwell ...args` to completion (killed after commandTimeoutMs). */
export function inkwell(args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
  return run(process.execPath, [cliPath, ...args], { timeoutMs: commandTimeoutMs, ...options });
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A long-running `inkwell serve`, with its output so far. */
export class ServeProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout = '';
  stderr = '';
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], options: { cwd?: string } = {}) {
    this.child = spawn(process.execPath, [cliPath, 'serve', ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
      this.notify();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        running.delete(this);
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Waits until `count` stdout lines match `pattern`; fails if the process exits first or after timeoutMs. */
  async lines(pattern: RegExp, count: number, timeoutMs = commandTimeoutMs): Promise<RegExpExecArray[]> {
    const matches = (): RegExpExecArray[] =>
      this.stdout
        .split('\n')
        .map((line) => pattern.exec(line))
        .filter((match): match is RegExpExecArray => match !== null);
    return new Promise((resolve, reject) => {
      let exitedAt: Exit | undefined;
      void this.exited.then((exit) => (exitedAt = exit));
      const check = (): void => {
        const found = matches();
        if (found.length >= count) finish(() => resolve(found.slice(0, count)));
        else if (exitedAt !== undefined) finish(() => reject(new Error(`inkwell serve exited (${exitedAt!.code ?? exitedAt!.signal}) before listening:\n${this.output()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`inkwell serve did not print ${count} lines within ${timeoutMs} ms:\n${this.output()}`))), timeoutMs);
      const finish = (action: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        action();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends `signal` and waits (bounded) for the exit; kills it if it does not come. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<Exit> {
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`inkwell serve did not exit within ${timeoutMs} ms of ${signal}:\n${this.output()}`);
    }
    return result;
  }

  output(): string {
    return `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`;
  }
}

const running = new Set<ServeProcess>();

/** Kills whatever is still running (for an `after` hook) and waits for it to go. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const serve of left) serve.child.kill('SIGKILL');
  await Promise.all(left.map((serve) => serve.exited));
}
