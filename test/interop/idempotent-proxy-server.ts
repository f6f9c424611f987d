/**
 * A TLS-terminating TCP proxy for the idempotence tests: clients connect to it with TLS, it
 * connects to the broker with TLS, and it forwards Kafka frames both ways. For a chosen share of
 * Produce requests (seeded, so a run can be repeated) it forwards the request, lets the broker
 * append it, then drops the response and closes both connections: the client never learns that
 * the records were written and must retry, which is exactly what idempotence is for.
 */
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';

const produceKey = 0;
/** Bytes of the size prefix, then api key and version (2 + 2) before a request's correlation id. */
const requestCorrelationIdAt = 8;
const responseCorrelationIdAt = 4;

export interface ProxyStats {
  connections: number;
  produceRequests: number;
  droppedResponses: number;
}

/** A small seeded PRNG (mulberry32): the same seed drops the same requests. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Calls `onFrame` with every whole length-prefixed frame in the bytes pushed so far. */
class Frames {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (frame: Buffer) => boolean): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const size = 4 + this.pending.readInt32BE(0);
      if (this.pending.length < size) return;
      const frame = this.pending.subarray(0, size);
      this.pending = this.pending.subarray(size);
      if (!onFrame(frame)) return;
    }
  }
}

export interface DroppingProxyOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** Share of Produce responses dropped, 0..1. */
  readonly dropRate: number;
  readonly seed: number;
}

export class DroppingProxy {
  readonly stats: ProxyStats = { connections: 0, produceRequests: 0, droppedResponses: 0 };
  private upstreamPort = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly random: () => number;

  private constructor(
    private readonly server: tls.Server,
    private readonly options: DroppingProxyOptions,
  ) {
    this.random = seeded(options.seed);
    server.on('secureConnection', (client) => this.accept(client));
  }

  static async start(options: DroppingProxyOptions): Promise<DroppingProxy> {
    const server = tls.createServer({ cert: options.cert, key: options.key });
    const proxy = new DroppingProxy(server, options);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Where the broker listens (known only after the broker starts, advertising this proxy). */
  setUpstream(port: number): void {
    this.upstreamPort = port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: tls.TLSSocket): void {
    this.stats.connections++;
    this.track(client);
    const upstream = tls.connect({ host: '127.0.0.1', port: this.upstreamPort, ca: this.options.ca, servername: 'localhost' });
    this.track(upstream);
    const doomed = new Set<number>();
    const requests = new Frames();
    const responses = new Frames();
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    // Requests are forwarded whole, once the TLS connection to the broker is up.
    const forward: Buffer[] = [];
    let connected = false;
    upstream.on('secureConnect', () => {
      connected = true;
      for (const frame of forward.splice(0)) upstream.write(frame);
    });
    client.on('data', (chunk: Buffer) =>
      requests.push(chunk, (frame) => {
        if (frame.readInt16BE(4) === produceKey) {
          this.stats.produceRequests++;
          if (this.random() < this.options.dropRate) doomed.add(frame.readInt32BE(requestCorrelationIdAt));
        }
        const copy = Buffer.from(frame);
        if (connected) upstream.write(copy);
        else forward.push(copy);
        return true;
      }),
    );
    upstream.on('data', (chunk: Buffer) =>
      responses.push(chunk, (frame) => {
        if (doomed.has(frame.readInt32BE(responseCorrelationIdAt))) {
          this.stats.droppedResponses++;
          closeBoth();
          return false;
        }
        client.write(Buffer.from(frame));
        return true;
      }),
    );
  }
}
