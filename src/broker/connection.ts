/**
 * One client connection: frames in, requests decoded and handled, responses out in request
 * order. Requests are handled as they arrive (pipelining), but at most `inflightRequestsMax`
 * may wait for their responses; past that the socket stops reading until responses drain.
 * A malformed frame closes this connection only.
 */
import type { Socket } from 'node:net';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { apiVersionsKey, readRequestHeaderStart, responseHeaderIsFlexible, skipTaggedFields, writeResponseHeader, type RequestHeader } from '../protocol/headers.js';
import { FrameDecoder, FrameError } from './frame-decoder.js';
import type { BrokerContext, ConnectionInfo, Handler, HandlerResult, RequestContext } from './context.js';
import { unsupportedApiVersionsResponse } from './handlers/18-api-versions.js';

/** How long a shutdown waits for a peer to close after our orderly end, before destroying the socket. */
export const shutdownCloseMsMax = 1000;

interface Slot {
  done: boolean;
  chunks: Buffer[] | null;
  /** Callbacks for once the response is written (see RequestContext.afterWrite). */
  afterWrite: (() => void)[] | null;
}

export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly slots: Slot[] = [];
  private closed = false;
  private pausedForInflight = false;
  private pausedForDrain = false;

  constructor(
    private readonly socket: Socket,
    private readonly broker: BrokerContext,
    private readonly handlers: ReadonlyMap<number, Handler>,
    readonly info: ConnectionInfo,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.decoder = new FrameDecoder(broker.settings.frameBytesMax);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.pausedForDrain = false;
      this.updateReading();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('end', () => {
      if (this.decoder.midFrame) this.broker.log(`connection from ${info.remoteAddress} ended mid-frame`);
      this.close();
    });
  }

  /**
   * Ends the connection for a broker shutdown: what was already written is flushed, a TLS
   * connection sends its close_notify, and the peer sees an orderly end instead of a reset.
   * Responses not yet written are dropped. The socket is destroyed if the peer has not closed
   * within `shutdownCloseMsMax`.
   */
  shutdown(): Promise<void> {
    if (!this.detach() || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), shutdownCloseMsMax);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  /** Closes the socket; responses not yet written are dropped. */
  close(reason?: string): void {
    if (!this.detach()) return;
    if (reason) this.broker.log(`closing connection from ${this.info.remoteAddress}: ${reason}`);
    this.socket.destroy();
  }

  /** Marks the connection closed and drops what it had not written; false when it already was. */
  private detach(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.slots.length = 0;
    this.onClose(this);
    return true;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.decoder.push(chunk, (frame) => this.onFrame(frame));
    } catch (error) {
      if (error instanceof FrameError) this.close(error.message);
      else this.close(`internal error: ${(error as Error).stack ?? error}`);
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.closed) return;
    const reader = new Reader(frame);
    const header = readRequestHeaderStart(reader);
    if (reader.failed) return this.close(`malformed request header: ${reader.failure}`);
    const api = this.broker.registry.get(header.apiKey);
    const handler = this.handlers.get(header.apiKey);
    if (!api || !handler) return this.close(`unknown or unimplemented api key ${header.apiKey}`);
    if (header.apiVersion < api.minVersion || header.apiVersion > api.maxVersion) {
      if (header.apiKey === apiVersionsKey) {
        // Answer in the v0 layout so that any client can read our range and retry.
        return this.enqueue(header, false, unsupportedApiVersionsResponse(this.broker), 0);
      }
      return this.close(`unsupported version ${header.apiVersion} of ${api.name} (supported ${api.minVersion}-${api.maxVersion})`);
    }
    const flexible = api.isFlexible(header.apiVersion);
    if (flexible) skipTaggedFields(reader);
    const codec = api.request(header.apiVersion);
    const request = codec.decode(reader);
    if (!reader.complete()) {
      return this.close(`malformed ${api.name} v${header.apiVersion} request: ${reader.failure}`);
    }
    let afterWrite: (() => void)[] | null = null;
    const context: RequestContext = {
      broker: this.broker,
      connection: this.info,
      header,
      apiVersion: header.apiVersion,
      afterWrite: (callback) => (afterWrite ??= []).push(callback),
    };
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = handler.handle(context, request);
    } catch (error) {
      return this.close(`${api.name} handler failed: ${(error as Error).stack ?? error}`);
    }
    this.enqueue(header, responseHeaderIsFlexible(header.apiKey, flexible), result, header.apiVersion, () => afterWrite);
  }

  private enqueue(header: RequestHeader, headerFlexible: boolean, result: HandlerResult | Promise<HandlerResult>, responseVersion: number, afterWrite: () => (() => void)[] | null = () => null): void {
    const slot: Slot = { done: false, chunks: null, afterWrite: null };
    this.slots.push(slot);
    this.updateReading();
    const finish = (body: HandlerResult) => {
      if (this.closed) return;
      slot.afterWrite = afterWrite();
      if (body !== null) {
        try {
          slot.chunks = this.encode(header, headerFlexible, body, responseVersion);
        } catch (error) {
          return this.close(`cannot encode response to api ${header.apiKey} v${responseVersion}: ${(error as Error).stack ?? error}`);
        }
      }
      slot.done = true;
      this.flush();
    };
    if (result instanceof Promise) {
      result.then(finish, (error: unknown) => this.close(`handler for api ${header.apiKey} failed: ${(error as Error)?.stack ?? error}`));
    } else {
      finish(result);
    }
  }

  private encode(header: RequestHeader, headerFlexible: boolean, body: NonNullable<HandlerResult>, version: number): Buffer[] {
    const api = this.broker.registry.get(header.apiKey)!;
    const writer = new Writer(512);
    const sizeAt = writer.reserveInt32();
    writeResponseHeader(writer, header.correlationId, headerFlexible);
    api.response(version).encode(writer, body);
    writer.fillInt32(sizeAt, writer.length - 4);
    return writer.finish();
  }

  /** Writes every finished response at the head of the queue, in order, in one corked burst. */
  private flush(): void {
    let wrote = false;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      if (slot.chunks === null) {
        // No response (acks=0): nothing refers to what the handler kept.
        if (slot.afterWrite) for (const callback of slot.afterWrite) callback();
        continue;
      }
      if (!wrote) {
        this.socket.cork();
        wrote = true;
      }
      const last = slot.chunks.length - 1;
      const callbacks = slot.afterWrite;
      for (let i = 0; i <= last; i++) {
        const written = i === last && callbacks ? (error?: Error | null) => !error && callbacks.forEach((callback) => callback()) : undefined;
        if (!this.socket.write(slot.chunks[i]!, written)) this.pausedForDrain = true;
      }
    }
    if (wrote) process.nextTick(() => this.socket.uncork());
    this.updateReading();
  }

  private updateReading(): void {
    if (this.closed) return;
    const full = this.slots.length >= this.broker.settings.inflightRequestsMax;
    this.pausedForInflight = full;
    if (this.pausedForInflight || this.pausedForDrain) this.socket.pause();
    else this.socket.resume();
  }
}
