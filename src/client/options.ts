/**
 * Options shared by the Producer, Consumer and Admin: where the brokers are, how to reach them,
 * and the bounds on every wait and retry. `resolveClientOptions` fills in the defaults once.
 */

export interface TlsOptions {
  /** PEM CA certificate(s) to verify the broker with; default: Node's bundled roots. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** PEM client certificate and key, for mutual TLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Name to check the broker's certificate against; default: the host connected to. */
  readonly servername?: string;
  /** Default true. Turn off only for experiments. */
  readonly rejectUnauthorized?: boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export interface ClientOptions {
  /** "host:port" addresses, as a list or comma-separated; any one of them is enough. */
  readonly bootstrap: string | readonly string[];
  readonly clientId?: string;
  /** TLS (true: verify with Node's roots); absent or false: plaintext. */
  readonly tls?: boolean | TlsOptions;
  /** Default 10 s: the TCP and TLS handshake and the ApiVersions exchange. */
  readonly connectTimeoutMs?: number;
  /** Default 30 s: one request's wait for its response (a Fetch adds its own max wait). */
  readonly requestTimeoutMs?: number;
  /** Requests sent on one connection and not yet answered; default 8. */
  readonly inflightRequestsMax?: number;
  /** Attempts after the first for metadata and admin requests that fail retriably; default 5. */
  readonly retries?: number;
  /** First backoff between retries; doubles up to retryBackoffMsMax. Defaults 100 and 1000. */
  readonly retryBackoffMs?: number;
  readonly retryBackoffMsMax?: number;
  /** First wait before reconnecting to a broker that failed; doubles up to reconnectBackoffMsMax. Defaults 50 and 1000. */
  readonly reconnectBackoffMs?: number;
  readonly reconnectBackoffMsMax?: number;
  /** Metadata older than this is refreshed before use; default 5 minutes. */
  readonly metadataMaxAgeMs?: number;
  /** The largest response frame accepted; default 256 MiB. */
  readonly responseBytesMax?: number;
  /**
   * Highest version to use per API, by name, below what the broker and our spec agree on, e.g.
   * `{ ListOffsets: 3 }` for librdkafka's mock cluster, whose ListOffsets v4+ responses are malformed.
   */
  readonly apiVersionCaps?: Readonly<Record<string, number>>;
  readonly log?: Logger;
}

export interface ResolvedClientOptions {
  readonly bootstrap: readonly BrokerAddress[];
  readonly clientId: string;
  readonly tls: TlsOptions | null;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly inflightRequestsMax: number;
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMsMax: number;
  readonly reconnectBackoffMs: number;
  readonly reconnectBackoffMsMax: number;
  readonly metadataMaxAgeMs: number;
  readonly responseBytesMax: number;
  readonly apiVersionCaps: Readonly<Record<string, number>>;
  readonly log: Logger;
}

export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/** Bounds that keep a typo from turning into an unbounded wait or a busy loop. */
const timeoutMsMax = 24 * 60 * 60 * 1000;
const inflightRequestsLimit = 1024;
const retriesMax = 1000;

/** Parses "host:port", "[v6]:port"; throws RangeError with the address in the message. */
export function parseAddress(text: string): BrokerAddress {
  const trimmed = text.trim().replace(/^[A-Za-z_]+:\/\//, '');
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed) ?? /^([^:]+):(\d+)$/.exec(trimmed);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`bad broker address ${JSON.stringify(text)}: expected host:port`);
  }
  return { host: match[1]!, port };
}

export function parseBootstrap(bootstrap: string | readonly string[]): BrokerAddress[] {
  const parts = (typeof bootstrap === 'string' ? bootstrap.split(',') : bootstrap.flatMap((entry) => entry.split(',')))
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (parts.length === 0) throw new RangeError('bootstrap: at least one host:port is needed');
  return parts.map(parseAddress);
}

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < min || result > max) throw new RangeError(`${name} must be from ${min} to ${max}, got ${result}`);
  return result;
}

const silent: Logger = () => {};

export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  const tls = options.tls === true ? {} : options.tls === false || options.tls === undefined ? null : options.tls;
  return {
    bootstrap: parseBootstrap(options.bootstrap),
    clientId: options.clientId ?? 'inkwell',
    tls,
    connectTimeoutMs: bounded('connectTimeoutMs', options.connectTimeoutMs, 10_000, 1, timeoutMsMax),
    requestTimeoutMs: bounded('requestTimeoutMs', options.requestTimeoutMs, 30_000, 1, timeoutMsMax),
    inflightRequestsMax: bounded('inflightRequestsMax', options.inflightRequestsMax, 8, 1, inflightRequestsLimit),
    retries: bounded('retries', options.retries, 5, 0, retriesMax),
    retryBackoffMs: bounded('retryBackoffMs', options.retryBackoffMs, 100, 0, timeoutMsMax),
    retryBackoffMsMax: bounded('retryBackoffMsMax', options.retryBackoffMsMax, 1000, 0, timeoutMsMax),
    reconnectBackoffMs: bounded('reconnectBackoffMs', options.reconnectBackoffMs, 50, 0, timeoutMsMax),
    reconnectBackoffMsMax: bounded('reconnectBackoffMsMax', options.reconnectBackoffMsMax, 1000, 0, timeoutMsMax),
    metadataMaxAgeMs: bounded('metadataMaxAgeMs', options.metadataMaxAgeMs, 300_000, 0, timeoutMsMax),
    responseBytesMax: bounded('responseBytesMax', options.responseBytesMax, 256 * 1024 * 1024, 1024, 2 ** 31 - 1),
    apiVersionCaps: options.apiVersionCaps ?? {},
    log: options.log ?? silent,
  };
}

/** Exponential backoff with ±20% jitter: attempt 1 waits about `base`, doubling up to `max`. */
export function backoffMs(attempt: number, base: number, max: number): number {
  const plain = Math.min(max, base * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(plain * (0.8 + Math.random() * 0.4));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
