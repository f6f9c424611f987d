/**
 * Shared set-up for the client command tests (produce, consume, topics): an in-process Inkwell
 * with a TLS listener, and `inkwell ...` run as a child process with stdin, a hard timeout and
 * the TLS flags pointing at the test CA.
 */
import assert from 'node:assert/strict';
import { startBroker, type Broker } from '../../src/index.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { run, type RunResult } from '../helpers/run.js';
import { cliPath, commandTimeoutMs } from './cli-process.js';

export interface TlsBroker {
  readonly broker: Broker;
  readonly material: TestTls;
  /** -b and --ca for this broker. */
  readonly flags: string[];
}

export async function startTlsBroker(clientAuth: 'none' | 'required' = 'none'): Promise<TlsBroker> {
  const material = await testTls();
  const broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', tls: { ...material, clientAuth }, log: () => {} });
  return { broker, material, flags: ['-b', broker.bootstrap('SSL'), '--ca', material.paths.ca] };
}

/** Runs `inkwell ...args` with `input` on stdin. */
export function cli(args: string[], input?: string, timeoutMs = commandTimeoutMs): Promise<RunResult> {
  return run(process.execPath, [cliPath, ...args], { ...(input !== undefined ? { input } : {}), timeoutMs });
}

/** Exit code 2, nothing on stdout, one `inkwell: ` line on stderr matching `message`. */
export function assertUsageError(result: RunResult, message: RegExp): void {
  assert.equal(result.code, 2, `exit 2 expected, got ${result.code}\n${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`);
  assert.match(lines[0]!, /^inkwell: /);
  assert.match(lines[0]!, message);
}

/** Exit code 1 with one `inkwell: ` line on stderr matching `message`. */
export function assertFailure(result: RunResult, message: RegExp): void {
  assert.equal(result.code, 1, `exit 1 expected, got ${result.code}\n${result.stderr}`);
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`);
  assert.match(lines[0]!, /^inkwell: /);
  assert.match(lines[0]!, message);
}
