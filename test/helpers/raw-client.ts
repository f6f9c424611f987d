/**
 * A minimal protocol client for tests: sends requests encoded with the registry codecs and
 * reads responses in order. It also sends arbitrary bytes, for bad-input tests.
 */
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { registry } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { responseHeaderIsFlexible, skipTaggedFields, writeRequestHeader } from '../../src/protocol/headers.js';
import { FrameDecoder } from '../../src/broker/frame-decoder.js';
import type { Message } from '../../src/protocol/codec.js';

export interface RawClientOptions {
  host?: string;
  port: number;
  tls?: { ca: Buffer | string; cert?: Buffer | string; key?: Buffer | string; servername?: string };
  /** Give up on any single wait after this long. */
  timeoutMs?: number;
}

export class RawClient {
  private readonly decoder = new FrameDecoder(256 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private waiting: (() => void) | null = null;
  private correlationId = 0;
  closed = false;

  private constructor(
    readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk, (frame) => this.frames.push(Buffer.from(frame)));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  static async connect(options: RawClientOptions): Promise<RawClient> {
    const host = options.host ?? '127.0.0.1';
    const timeoutMs = options.timeoutMs ?? 10_000;
    let socket: net.Socket;
    if (options.tls) {
      socket = tls.connect({ host, port: options.port, ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, servername: options.tls.servername ?? 'localhost' });
      await withTimeout(once(socket, 'secureConnect'), timeoutMs, 'TLS connect');
    } else {
      socket = net.connect({ host, port: options.port });
      await withTimeout(once(socket, 'connect'), timeoutMs, 'connect');
    }
    return new RawClient(socket, timeoutMs);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Encodes and sends a request; returns its correlation id. */
  send(apiName: string, version: number, body: Message, clientId: string | null = 'inkwell-test'): number {
    const api = registry().named(apiName);
    const flexible = api.isFlexible(version);
    const writer = new Writer();
    const sizeAt = writer.reserveInt32();
    const correlationId = ++this.correlationId;
    writeRequestHeader(writer, { apiKey: api.key, apiVersion: version, correlationId, clientId }, flexible);
    api.request(version).encode(writer, body);
    writer.fillInt32(sizeAt, writer.length - 4);
    for (const chunk of writer.finish()) this.socket.write(chunk);
    return correlationId;
  }

  /** The next response frame (without its size prefix), or null when the socket closed. */
  async nextFrame(): Promise<Buffer | null> {
    const deadline = Date.now() + this.timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) return null;
      if (Date.now() >= deadline) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, Math.max(1, deadline - Date.now())).unref();
      });
    }
    return this.frames.shift()!;
  }

  /** Sends a request and decodes its response. */
  async request(apiName: string, version: number, body: Message): Promise<Message & { correlationId: number }> {
    const id = this.send(apiName, version, body);
    const response = await this.readResponse(apiName, version);
    if (response === null) throw new Error(`connection closed before the ${apiName} v${version} response`);
    if (response.correlationId !== id) throw new Error(`correlation id ${response.correlationId}, expected ${id}`);
    return response;
  }

  async readResponse(apiName: string, version: number): Promise<(Message & { correlationId: number }) | null> {
    const frame = await this.nextFrame();
    if (frame === null) return null;
    const api = registry().named(apiName);
    const reader = new Reader(frame);
    const correlationId = reader.int32();
    if (responseHeaderIsFlexible(api.key, api.isFlexible(version))) skipTaggedFields(reader);
    const body = api.response(version).decode(reader);
    if (!reader.complete(true)) throw new Error(`bad ${apiName} v${version} response: ${reader.failure || 'trailing bytes'}`);
    return Object.assign(body, { correlationId });
  }

  /** Resolves true if the broker closes the connection within the timeout. */
  async closedByPeer(timeoutMs = this.timeoutMs): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs `body` with a RawClient connected over TLS to 127.0.0.1:`port` (verifying `ca`), closed after. */
export async function withTlsClient<T>(ca: Buffer, port: number, body: (client: RawClient) => Promise<T>): Promise<T> {
  const client = await RawClient.connect({ port, tls: { ca } });
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
