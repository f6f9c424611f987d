/**
 * A scriptable broker for connection tests: it decodes request headers, answers ApiVersions
 * with a chosen table, and hands every other request to the test, which may answer, hold or
 * ignore it.
 */
import net from 'node:net';
import { once } from 'node:events';
import { clientRegistry } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { readRequestHeaderStart, skipTaggedFields, writeResponseHeader, type RequestHeader } from '../../src/protocol/headers.js';
import type { Message } from '../../src/protocol/codec.js';
import { FrameSplitter } from '../../src/client/frame-splitter.js';

export interface FakeRequest {
  readonly header: RequestHeader;
  readonly body: Message;
  readonly socket: net.Socket;
  respond(body: Message, correlationId?: number): void;
}

export interface FakeBrokerOptions {
  /** ApiVersions table: key → [min, max]; default every API in the spec at its full range. */
  readonly versions?: ReadonlyMap<number, readonly [number, number]>;
  /** Highest ApiVersions request version answered normally; above it, UNSUPPORTED_VERSION in v0. */
  readonly apiVersionsMax?: number;
  /** Do not answer ApiVersions at all. */
  readonly silent?: boolean;
}

export class FakeBroker {
  readonly requests: FakeRequest[] = [];
  private readonly sockets = new Set<net.Socket>();
  onRequest: (request: FakeRequest) => void = () => {};

  private constructor(
    readonly server: net.Server,
    private readonly options: FakeBrokerOptions,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(options: FakeBrokerOptions = {}, port = 0): Promise<FakeBroker> {
    const server = net.createServer();
    const broker = new FakeBroker(server, options);
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return broker;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const splitter = new FrameSplitter(64 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => splitter.push(chunk, (frame) => this.onFrame(socket, Buffer.from(frame))));
  }

  private onFrame(socket: net.Socket, frame: Buffer): void {
    const reader = new Reader(frame);
    const header = readRequestHeaderStart(reader);
    const api = clientRegistry().get(header.apiKey)!;
    const flexible = api.isFlexible(header.apiVersion);
    if (flexible) skipTaggedFields(reader);
    const body = api.request(header.apiVersion).decode(reader);
    const respond = (message: Message, correlationId = header.correlationId, version = header.apiVersion): void => {
      const writer = new Writer();
      const sizeAt = writer.reserveInt32();
      writeResponseHeader(writer, correlationId, flexible && header.apiKey !== 18);
      api.response(version).encode(writer, message);
      writer.fillInt32(sizeAt, writer.length - 4);
      socket.write(writer.toBuffer());
    };
    if (header.apiKey === 18) {
      if (this.options.silent) return;
      const table = this.options.versions ?? new Map(clientRegistry().all().map((entry) => [entry.key, [entry.minVersion, entry.maxVersion] as const]));
      const apiKeys = [...table].map(([apiKey, [minVersion, maxVersion]]) => ({ apiKey, minVersion, maxVersion }));
      if (this.options.apiVersionsMax !== undefined && header.apiVersion > this.options.apiVersionsMax) {
        respond({ errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: this.options.apiVersionsMax }], throttleTimeMs: 0 }, header.correlationId, 0);
        return;
      }
      respond({ errorCode: 0, apiKeys, throttleTimeMs: 0 });
      return;
    }
    const request: FakeRequest = { header, body, socket, respond: (message, correlationId) => respond(message, correlationId) };
    this.requests.push(request);
    this.onRequest(request);
  }

  /** Drops every client connection. */
  disconnectAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.disconnectAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Waits until `condition` holds, polling; fails after timeoutMs. */
export async function eventually(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
