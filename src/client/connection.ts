/**
 * One connection to one broker: TCP or TLS, an ApiVersions exchange that settles the version of
 * every API for this connection, then pipelined requests. Up to `inflightRequestsMax` requests
 * are on the wire at once; a broker answers a connection's requests in order, so responses are
 * matched to the oldest request and its correlation id is checked. A request that times out, a
 * malformed response or a lost socket closes the connection and fails everything still pending
 * on it (retriably, except for a malformed response); the cluster opens a new one when needed.
 */
import net from 'node:net';
import tls from 'node:tls';
import { clientRegistry, type ApiEntry } from '../protocol/registry.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { apiVersionsKey, responseHeaderIsFlexible, skipTaggedFields, writeRequestHeader } from '../protocol/headers.js';
import type { Message } from '../protocol/codec.js';
import { errorName } from '../protocol/errors.js';
import { FrameSplitter } from './frame-splitter.js';
import { KafkaError } from './errors.js';
import type { BrokerAddress, ResolvedClientOptions } from './options.js';

export const clientSoftwareName = 'inkwell-client';
export const clientSoftwareVersion = '0.1.0';

/** Correlation ids wrap before int32 overflows. */
const correlationIdMax = 0x7fff_ffff;

export interface RequestOptions {
  /** Default: the connection's request timeout. */
  readonly timeoutMs?: number;
  /** Use this version rather than the negotiated one (it must be in the agreed range). */
  readonly version?: number;
  /** The broker sends no response (Produce with acks=0): resolves once the bytes are written. */
  readonly noResponse?: boolean;
}

interface Pending {
  readonly correlationId: number;
  readonly api: ApiEntry;
  readonly version: number;
  readonly resolve: (message: Message) => void;
  readonly reject: (error: KafkaError) => void;
  timer: NodeJS.Timeout | undefined;
}

interface SlotWaiter {
  readonly grant: () => void;
  readonly reject: (error: KafkaError) => void;
}

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export class Connection {
  /** Negotiated version per API key; an API absent here cannot be used on this connection. */
  readonly versions = new Map<number, number>();
  /** What the broker advertised, by API key. */
  readonly brokerVersions = new Map<number, VersionRange>();
  private readonly inflight: Pending[] = [];
  private inflightHead = 0;
  private readonly slotWaiters: SlotWaiter[] = [];
  /** Slots handed to waiters that have not sent their request yet. */
  private grantedSlots = 0;
  private readonly splitter: FrameSplitter;
  private nextCorrelationId = 1;
  private closeError: KafkaError | null = null;
  private readonly closeListeners: ((error: KafkaError) => void)[] = [];
  /** When the last request was sent or response received (for idle accounting). */
  lastActivityMs = Date.now();

  private constructor(
    private readonly socket: net.Socket,
    readonly address: BrokerAddress,
    readonly nodeId: number,
    private readonly options: ResolvedClientOptions,
  ) {
    this.splitter = new FrameSplitter(options.responseBytesMax);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(new KafkaError('NETWORK_EXCEPTION', `connection to ${this.describe()} failed: ${error.message}`, { cause: error })));
    socket.on('close', () => this.fail(new KafkaError('NETWORK_EXCEPTION', `connection to ${this.describe()} closed`)));
  }

  /** Connects, handshakes TLS when configured, and negotiates API versions, all within connectTimeoutMs. */
  static async open(address: BrokerAddress, nodeId: number, options: ResolvedClientOptions): Promise<Connection> {
    const where = `${address.host}:${address.port}`;
    const socket = await connectSocket(address, options);
    const connection = new Connection(socket, address, nodeId, options);
    try {
      await connection.negotiate();
    } catch (error) {
      connection.close();
      if (error instanceof KafkaError && error.errorName === 'REQUEST_TIMED_OUT') {
        throw new KafkaError('CONNECTION_FAILED', `broker ${where} did not answer ApiVersions within ${options.connectTimeoutMs} ms`, { cause: error });
      }
      throw error;
    }
    return connection;
  }

  get closed(): boolean {
    return this.closeError !== null;
  }

  get inflightCount(): number {
    return this.inflight.length - this.inflightHead;
  }

  describe(): string {
    return `${this.address.host}:${this.address.port}${this.nodeId >= 0 ? ` (node ${this.nodeId})` : ''}`;
  }

  onClose(listener: (error: KafkaError) => void): void {
    if (this.closeError !== null) listener(this.closeError);
    else this.closeListeners.push(listener);
  }

  /** Whether this connection agreed a version of `apiName`. */
  supports(apiName: string): boolean {
    return this.versions.has(clientRegistry().named(apiName).key);
  }

  /** The agreed version of `apiName`; throws UNSUPPORTED_VERSION when there is none. */
  version(apiName: string): number {
    const api = clientRegistry().named(apiName);
    const version = this.versions.get(api.key);
    if (version === undefined) {
      const theirs = this.brokerVersions.get(api.key);
      const detail = theirs === undefined ? 'the broker does not offer it' : `the broker offers v${theirs.min}-${theirs.max}, we speak v${api.minVersion}-${api.maxVersion}`;
      throw new KafkaError('UNSUPPORTED_VERSION', `${api.name} cannot be used with ${this.describe()}: ${detail}`);
    }
    return version;
  }

  /** Sends a request and resolves with its decoded response body. */
  async request<T = Message>(apiName: string, body: Message, options: RequestOptions = {}): Promise<T> {
    const api = clientRegistry().named(apiName);
    const version = options.version ?? this.version(apiName);
    if (this.closeError !== null) throw this.closeError;
    if (!options.noResponse && (this.slotWaiters.length > 0 || this.inflightCount + this.grantedSlots >= this.options.inflightRequestsMax)) {
      await this.waitForSlot();
      this.grantedSlots--;
      if (this.closeError !== null) throw this.closeError;
    }
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = correlationId >= correlationIdMax ? 1 : correlationId + 1;
    const frame = this.encode(api, version, correlationId, body);
    this.lastActivityMs = Date.now();
    if (options.noResponse) {
      await this.write(frame, true);
      return {} as T;
    }
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { correlationId, api, version, resolve: resolve as (message: Message) => void, reject, timer: undefined };
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
      pending.timer = setTimeout(() => {
        this.fail(new KafkaError('REQUEST_TIMED_OUT', `${api.name} v${version} to ${this.describe()} got no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.inflight.push(pending);
      void this.write(frame, false);
    });
  }

  /** Closes the socket; pending requests fail with CLIENT_CLOSED. */
  close(): void {
    this.fail(new KafkaError('CLIENT_CLOSED', `connection to ${this.describe()} was closed by the client`, { retriable: true }));
  }

  private encode(api: ApiEntry, version: number, correlationId: number, body: Message): Buffer[] {
    const flexible = api.isFlexible(version);
    const writer = new Writer(512);
    const sizeAt = writer.reserveInt32();
    writeRequestHeader(writer, { apiKey: api.key, apiVersion: version, correlationId, clientId: this.options.clientId }, flexible);
    api.request(version).encode(writer, body);
    writer.fillInt32(sizeAt, writer.length - 4);
    return writer.finish();
  }

  private write(chunks: Buffer[], waitForFlush: boolean): Promise<void> {
    const socket = this.socket;
    if (chunks.length === 1) {
      if (!waitForFlush) {
        socket.write(chunks[0]!);
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => socket.write(chunks[0]!, (error) => (error ? reject(this.closeError ?? error) : resolve())));
    }
    socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) socket.write(chunks[i]!);
    const done = waitForFlush
      ? new Promise<void>((resolve, reject) => socket.write(chunks[chunks.length - 1]!, (error) => (error ? reject(this.closeError ?? error) : resolve())))
      : (socket.write(chunks[chunks.length - 1]!), Promise.resolve());
    socket.uncork();
    return done;
  }

  private waitForSlot(): Promise<void> {
    return new Promise((grant, reject) => this.slotWaiters.push({ grant, reject }));
  }

  private onData(chunk: Buffer): void {
    try {
      this.splitter.push(chunk, (frame) => this.onFrame(frame));
    } catch (error) {
      this.fail(error instanceof KafkaError ? error : new KafkaError('PROTOCOL_VIOLATION', `${this.describe()}: ${(error as Error).message}`, { retriable: true }));
    }
  }

  private onFrame(frame: Buffer): void {
    this.lastActivityMs = Date.now();
    const pending = this.inflight[this.inflightHead];
    if (pending === undefined) throw new KafkaError('PROTOCOL_VIOLATION', `${this.describe()} sent a response to no request`, { retriable: true });
    const reader = new Reader(frame);
    const correlationId = reader.int32();
    if (correlationId !== pending.correlationId) {
      throw new KafkaError('PROTOCOL_VIOLATION', `${this.describe()} answered correlation id ${correlationId} where ${pending.correlationId} was expected`, { retriable: true });
    }
    this.inflight[this.inflightHead] = undefined as unknown as Pending;
    this.inflightHead++;
    if (this.inflightHead > 64 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight.splice(0, this.inflightHead);
      this.inflightHead = 0;
    }
    clearTimeout(pending.timer);
    const body = this.decodeBody(pending, reader);
    const waiter = this.slotWaiters.shift();
    if (waiter !== undefined) {
      this.grantedSlots++;
      waiter.grant();
    }
    if (body instanceof KafkaError) pending.reject(body);
    else pending.resolve(body);
  }

  private decodeBody(pending: Pending, reader: Reader): Message | KafkaError {
    const { api, version } = pending;
    if (responseHeaderIsFlexible(api.key, api.isFlexible(version))) skipTaggedFields(reader);
    const bodyAt = reader.offset;
    // A broker that does not speak the requested ApiVersions version answers in v0 with UNSUPPORTED_VERSION.
    if (api.key === apiVersionsKey && version > 0 && reader.remaining >= 2 && reader.buffer.readInt16BE(bodyAt) === 35) {
      const v0 = new Reader(reader.buffer, bodyAt, reader.end);
      const message = api.response(0).decode(v0);
      if (v0.complete()) return message;
      return { errorCode: 35, apiKeys: [] };
    }
    const message = api.response(version).decode(reader);
    if (!reader.complete()) {
      return new KafkaError('PROTOCOL_VIOLATION', `malformed ${api.name} v${version} response from ${this.describe()}: ${reader.failure}`);
    }
    return message;
  }

  private fail(error: KafkaError): void {
    if (this.closeError !== null) return;
    this.closeError = error;
    this.socket.destroy();
    const pending = this.inflight.slice(this.inflightHead);
    this.inflight.length = 0;
    this.inflightHead = 0;
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    for (const waiter of this.slotWaiters.splice(0)) waiter.reject(error);
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }

  /** ApiVersions at the highest version both sides know, falling back as the broker asks. */
  private async negotiate(): Promise<void> {
    const registry = clientRegistry();
    const apiVersions = registry.named('ApiVersions');
    let version = Math.min(apiVersions.maxVersion, this.options.apiVersionCaps.ApiVersions ?? Infinity);
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await this.request<{ errorCode: number; apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[] }>(
        'ApiVersions',
        { clientSoftwareName, clientSoftwareVersion },
        { version, timeoutMs: this.options.connectTimeoutMs },
      );
      if (response.errorCode === 35 && version > 0) {
        const offered = response.apiKeys.find((entry) => entry.apiKey === apiVersionsKey);
        version = Math.max(0, Math.min(version - 1, offered?.maxVersion ?? 0));
        continue;
      }
      if (response.errorCode !== 0) {
        throw new KafkaError(errorName(response.errorCode) ?? 'UNKNOWN_SERVER_ERROR', `ApiVersions to ${this.describe()} failed with error code ${response.errorCode}`);
      }
      for (const entry of response.apiKeys) this.brokerVersions.set(entry.apiKey, { min: entry.minVersion, max: entry.maxVersion });
      for (const api of registry.all()) {
        const theirs = this.brokerVersions.get(api.key);
        if (theirs === undefined) continue;
        const cap = this.options.apiVersionCaps[api.name] ?? Infinity;
        const high = Math.min(api.maxVersion, theirs.max, cap);
        if (high >= Math.max(api.minVersion, theirs.min)) this.versions.set(api.key, high);
      }
      return;
    }
    throw new KafkaError('UNSUPPORTED_VERSION', `${this.describe()} accepts no ApiVersions version we speak`);
  }
}

function connectSocket(address: BrokerAddress, options: ResolvedClientOptions): Promise<net.Socket> {
  const where = `${address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const readyEvent = options.tls ? 'secureConnect' : 'connect';
    if (options.tls) {
      const servername = options.tls.servername ?? (net.isIP(address.host) === 0 ? address.host : undefined);
      socket = tls.connect({
        host: address.host,
        port: address.port,
        ca: options.tls.ca as tls.ConnectionOptions['ca'],
        cert: options.tls.cert,
        key: options.tls.key,
        rejectUnauthorized: options.tls.rejectUnauthorized ?? true,
        ...(servername !== undefined ? { servername } : {}),
      });
    } else {
      socket = net.connect({ host: address.host, port: address.port });
    }
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(new KafkaError('CONNECTION_FAILED', `could not connect to ${where} within ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    const onError = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(new KafkaError('CONNECTION_FAILED', `could not connect to ${where}: ${error.message}`, { cause: error }));
    };
    const onReady = () => {
      cleanup();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
    };
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
  });
}
