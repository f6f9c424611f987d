/**
 * Flags every client command shares (where the broker is, TLS material, how long to wait) and
 * turning them into client options. Missing TLS files are usage errors (exit 2); a broker that
 * cannot be reached within --timeout-ms is an operation failure (exit 1) reported in one line.
 */
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { ClientOptions } from '../client/options.js';
import { KafkaError } from '../client/errors.js';
import { CliError, UsageError } from './errors.js';

export const defaultPlaintextBootstrap = '127.0.0.1:9092';
export const defaultTlsBootstrap = '127.0.0.1:9093';
export const defaultTimeoutMs = 10_000;

const wholeNumber = '^[0-9]{1,9}$';

/** The TypeBox properties of the shared flags, spread into each command's schema. */
export const clientFlagProperties = {
  bootstrap: Type.Optional(Type.String({ short: 'b', pattern: '\\S', expected: 'host:port[,host:port...]' })),
  tls: Type.Optional(Type.Boolean()),
  ca: Type.Optional(Type.String({ minLength: 1, expected: 'a PEM file' })),
  cert: Type.Optional(Type.String({ minLength: 1, expected: 'a PEM file' })),
  key: Type.Optional(Type.String({ minLength: 1, expected: 'a PEM file' })),
  'timeout-ms': Type.Optional(Type.String({ pattern: wholeNumber, expected: 'a whole number of milliseconds' })),
  help: Type.Optional(Type.Boolean({ short: 'h' })),
};

export const clientFlagsUsage = `Connection options:
  -b, --bootstrap LIST   brokers, host:port[,host:port...] (default ${defaultPlaintextBootstrap}, or ${defaultTlsBootstrap} with --tls)
  --tls                  connect with TLS (implied by --ca, --cert, --key)
  --ca FILE              PEM CA certificate to verify the broker with
  --cert FILE            PEM client certificate, for mutual TLS
  --key FILE             PEM client key, for mutual TLS
  --timeout-ms N         give up on an unreachable broker after N ms (default ${defaultTimeoutMs})
  -h, --help             show this help
`;

export interface ClientFlags {
  bootstrap?: string;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  'timeout-ms'?: string;
}

function readPem(command: string, flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${command}: --${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export function timeoutOf(flags: ClientFlags): number {
  const value = flags['timeout-ms'] === undefined ? defaultTimeoutMs : Number(flags['timeout-ms']);
  return Math.max(1, value);
}

/** Client options from the shared flags: a short connect timeout and few retries, so failures surface within --timeout-ms. */
export function clientOptionsFromFlags(command: string, flags: ClientFlags): ClientOptions {
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new UsageError(`${command}: --cert and --key go together`);
  const useTls = flags.tls === true || flags.ca !== undefined || flags.cert !== undefined;
  const timeoutMs = timeoutOf(flags);
  return {
    bootstrap: flags.bootstrap ?? (useTls ? defaultTlsBootstrap : defaultPlaintextBootstrap),
    clientId: `inkwell-${command}`,
    tls: useTls
      ? {
          ...(flags.ca !== undefined ? { ca: readPem(command, 'ca', flags.ca) } : {}),
          ...(flags.cert !== undefined ? { cert: readPem(command, 'cert', flags.cert) } : {}),
          ...(flags.key !== undefined ? { key: readPem(command, 'key', flags.key) } : {}),
        }
      : false,
    connectTimeoutMs: timeoutMs,
    requestTimeoutMs: Math.max(timeoutMs, 30_000),
    retries: 3,
    retryBackoffMs: 50,
    retryBackoffMsMax: 500,
  };
}

/** Parses the bootstrap list early, so a malformed address is a usage error rather than a failure. */
export function checkBootstrap(command: string, options: ClientOptions): void {
  const list = typeof options.bootstrap === 'string' ? options.bootstrap.split(',') : [...options.bootstrap];
  for (const entry of list) {
    if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(entry.trim())) throw new UsageError(`${command}: --bootstrap must be host:port[,host:port...], got ${JSON.stringify(entry)}`);
  }
}

/** Runs `work`, turning a timeout or a client error into a one-line CliError (exit 1). */
export async function withDeadline<T>(command: string, timeoutMs: number, what: string, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CliError(`${command}: ${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw asCliError(command, error);
  } finally {
    clearTimeout(timer);
  }
}

/** A one-line CliError for anything the client threw. */
export function asCliError(command: string, error: unknown): Error {
  if (error instanceof CliError || error instanceof UsageError) return error;
  if (error instanceof KafkaError) return new CliError(`${command}: ${error.message.split('\n')[0]}`);
  if (error instanceof RangeError || error instanceof TypeError) return new UsageError(`${command}: ${error.message}`);
  return new CliError(`${command}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
}

/** "k=v" → [k, v]; the value may contain '='. */
export function splitAssignment(command: string, flag: string, text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`${command}: --${flag} must be key=value, got ${JSON.stringify(text)}`);
  return [text.slice(0, at), text.slice(at + 1)];
}
