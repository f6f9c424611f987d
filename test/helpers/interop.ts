/** Shared set-up for interop tests with real clients. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { available } from './run.js';

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
