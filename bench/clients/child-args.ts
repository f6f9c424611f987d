/** Flags shared by the benchmark's client scripts: where the broker is, and numbers. */
import { readFileSync } from 'node:fs';
import type { Endpoint } from '../wire/connection.js';

export const endpointFlags = {
  bootstrap: { type: 'string' },
  /** A CA file: connect over TLS and verify the broker with it. Without it, plain TCP. */
  ca: { type: 'string' },
} as const;

export function endpointFrom(values: { bootstrap?: string; ca?: string }): Endpoint {
  const match = /^(.+):(\d+)$/.exec(values.bootstrap ?? '');
  if (!match) throw new Error('--bootstrap host:port is required');
  return { host: match[1]!, port: Number(match[2]), ca: values.ca ? readFileSync(values.ca) : null };
}

/** A whole number flag, with a default; throws on anything else. */
export function wholeNumber(values: Record<string, unknown>, name: string, fallback?: number): number {
  const raw = values[name];
  if (raw === undefined && fallback !== undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, got ${String(raw)}`);
  return value;
}

/** What the producer and consumer scripts report: records moved in the timed part. */
export interface ClientResult {
  readonly records: number;
  readonly seconds: number;
}

/** The bootstrap/ca flags for a child script, from what the suite knows about a broker. */
export function endpointArgs(bootstrap: string, caFile: string | null): string[] {
  return ['--bootstrap', bootstrap, ...(caFile ? ['--ca', caFile] : [])];
}
