/** Shared set-up for interop tests with real clients. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { available, run } from './run.js';
import { RawClient } from './raw-client.js';
import { repoPath } from './paths.js';

/**
 * Interop tests need real clients (kcat, Debian's python3-kafka and python3-confluent-kafka,
 * installed by .ci/run). Under CI a missing client is a failure; elsewhere the test is skipped
 * with the reason, so a developer without them can still run the rest.
 */
export async function requireTool(t: TestContext, command: string, args: string[], what: string): Promise<boolean> {
  if (await available(command, args)) return true;
  if (process.env.CI) throw new Error(`${what} is not installed; .ci/run installs it`);
  t.skip(`${what} is not installed`);
  return false;
}

export const systemPython = '/usr/bin/python3';

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** test/interop/python/<name>. */
export function pythonScript(name: string): string {
  return repoPath(`test/interop/python/${name}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Report = Record<string, any>;

/**
 * Runs one of our Python check scripts under Debian's python (skipping, or failing under CI, when
 * the client library is missing) and returns the JSON report it prints last.
 */
export async function pythonReport(t: TestContext, client: { module: string; what: string }, script: string, args: string[]): Promise<Report | null> {
  if (!(await requireTool(t, systemPython, ['-c', `import ${client.module}`], client.what))) return null;
  const result = await run(systemPython, [script, ...args], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `${basename(script)} ${args[0]} exited ${result.code ?? result.signal}:\n${result.stderr.slice(-4000)}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Report;
}

/** Creates a topic through a raw CreateTopics v4 request, asserting success. */
export async function createTopic(port: number, ca: Buffer | undefined, name: string, partitions: number): Promise<void> {
  const client = await RawClient.connect({ port, tls: ca ? { ca } : undefined });
  try {
    const response = await client.request('CreateTopics', 4, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    assert.equal((response.topics as { errorCode: number }[])[0]!.errorCode, 0);
  } finally {
    client.close();
  }
}
