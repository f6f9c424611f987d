/**
 * One Kafka protocol connection (TLS or plain TCP) for the benchmark's own clients. Requests are
 * encoded once with the registry codecs from src/protocol and may be sent many times: only the
 * correlation id differs between sends, so it goes out as a separate 4-byte write between the
 * frame's fixed head and body (corked into one TLS record). Responses are matched in order.
 */
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { registry } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { responseHeaderIsFlexible, skipTaggedFields, writeRequestHeader } from '../../src/protocol/headers.js';
import type { Message } from '../../src/protocol/codec.js';
import { FrameSplitter } from './frames.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** PEM of the CA to verify the broker with; null for plaintext. */
  readonly ca: Buffer | null;
}

/** A request frame with a placeholder correlation id, reusable across sends. */
export interface EncodedRequest {
  readonly apiName: string;
  readonly version: number;
  /** Size prefix, api key and api version: bytes 0-7 of the frame. */
  readonly head: Buffer;
  /** Everything after the correlation id. */
  readonly body: Buffer;
}

/** Size prefix (4) + api key (2) + api version (2): where the correlation id starts. */
const correlationIdAt = 8;

export function encodeRequest(apiName: string, version: number, body: Message, clientId = 'inkwell-bench'): EncodedRequest {
  const api = registry().named(apiName);
  const writer = new Writer(1024);
  const sizeAt = writer.reserveInt32();
  writeRequestHeader(writer, { apiKey: api.key, apiVersion: version, correlationId: 0, clientId }, api.isFlexible(version));
  api.request(version).encode(writer, body);
  writer.fillInt32(sizeAt, writer.length - 4);
  const frame = writer.toBuffer();
  return { apiName, version, head: frame.subarray(0, correlationIdAt), body: frame.subarray(correlationIdAt + 4) };
}

export function decodeResponse(apiName: string, version: number, frame: Buffer): Message {
  const api = registry().named(apiName);
  const reader = new Reader(frame);
  reader.int32();
  if (responseHeaderIsFlexible(api.key, api.isFlexible(version))) skipTaggedFields(reader);
  const body = api.response(version).decode(reader);
  if (!reader.complete(true)) throw new Error(`malformed ${apiName} v${version} response: ${reader.failure || 'trailing bytes'}`);
  return body;
}

interface Pending {
  readonly correlationId: number;
  readonly resolve: (frame: Buffer) => void;
  readonly reject: (error: Error) => void;
}

export class WireConnection {
  private readonly splitter = new FrameSplitter();
  private pending: Pending[] = [];
  private pendingHead = 0;
  private nextCorrelationId = 1;
  private failure: Error | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.splitter.push(chunk, (frame) => this.answer(frame));
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed by the broker')));
  }

  static async open(endpoint: Endpoint, timeoutMs = 30_000): Promise<WireConnection> {
    const socket = endpoint.ca
      ? tls.connect({ host: endpoint.host, port: endpoint.port, ca: endpoint.ca, servername: 'localhost' })
      : net.connect({ host: endpoint.host, port: endpoint.port });
    const ready = once(socket, endpoint.ca ? 'secureConnect' : 'connect');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connecting to ${endpoint.host}:${endpoint.port} timed out`)), timeoutMs);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return new WireConnection(socket);
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Sends an encoded request; resolves with the response frame (size prefix removed). */
  sendEncoded(request: EncodedRequest): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++ & 0x7fffffff;
    const id = Buffer.allocUnsafe(4);
    id.writeInt32BE(correlationId, 0);
    this.socket.cork();
    this.socket.write(request.head);
    this.socket.write(id);
    this.socket.write(request.body);
    this.socket.uncork();
    return new Promise((resolve, reject) => this.pending.push({ correlationId, resolve, reject }));
  }

  /** Encodes, sends and decodes one request. */
  async request(apiName: string, version: number, body: Message): Promise<Message> {
    const frame = await this.sendEncoded(encodeRequest(apiName, version, body));
    return decodeResponse(apiName, version, frame);
  }

  close(): void {
    this.socket.destroy();
  }

  private answer(frame: Buffer): void {
    const waiter = this.pending[this.pendingHead];
    if (!waiter) {
      this.fail(new Error('a response arrived with no request waiting'));
      return;
    }
    this.pending[this.pendingHead++] = undefined as unknown as Pending;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    const correlationId = frame.readInt32BE(0);
    if (correlationId !== waiter.correlationId) waiter.reject(new Error(`correlation id ${correlationId}, expected ${waiter.correlationId}`));
    else waiter.resolve(frame);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const waiting = this.pending.slice(this.pendingHead);
    this.pending = [];
    this.pendingHead = 0;
    for (const waiter of waiting) waiter.reject(error);
  }
}
