/**
 * Listeners: one TCP or TLS server per configured listener, each handing sockets to Connection.
 * TLS is restricted to 1.2 and 1.3; client certificates are asked for or required per
 * ssl.client.auth. A failed TLS handshake (plaintext bytes on the TLS port, a bad client
 * certificate) drops only that socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { BrokerContext, Handler } from './context.js';
import { Connection } from './connection.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL';
export type ClientAuth = 'none' | 'requested' | 'required';

export interface ListenerSpec {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  readonly host: string;
  readonly port: number;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  readonly clientAuth: ClientAuth;
}

export interface BoundListener extends ListenerSpec {
  /** The port actually bound (differs from the spec's when it asked for port 0). */
  readonly port: number;
}

/** Sockets not yet past the TLS handshake are bounded by this (bytes of buffered handshake). */
export const tlsHandshakeTimeoutMs = 10_000;

export class ListenerSet {
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  readonly bound: BoundListener[] = [];

  constructor(
    private readonly broker: BrokerContext,
    private readonly handlers: ReadonlyMap<number, Handler>,
    /** Address overrides from advertised.listeners, by listener name. */
    private readonly advertised: ReadonlyMap<string, { host: string; port: number }>,
  ) {}

  async listen(specs: readonly ListenerSpec[], tlsMaterial: TlsMaterial | undefined): Promise<void> {
    for (const spec of specs) {
      const server = this.createServer(spec, tlsMaterial);
      this.servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: spec.host, port: spec.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as net.AddressInfo;
      const bound: BoundListener = { ...spec, port: address.port };
      this.bound.push(bound);
      server.on('error', (error) => this.broker.log(`listener ${spec.name}: ${error.message}`));
    }
  }

  private createServer(spec: ListenerSpec, tlsMaterial: TlsMaterial | undefined): net.Server {
    const accept = (socket: net.Socket) => this.accept(spec, socket);
    if (spec.securityProtocol === 'PLAINTEXT') {
      return net.createServer({ noDelay: true }, accept);
    }
    if (!tlsMaterial) throw new Error(`listener ${spec.name} is SSL but no TLS certificate and key were given`);
    const server = tls.createServer(
      {
        cert: tlsMaterial.cert,
        key: tlsMaterial.key,
        ca: tlsMaterial.ca,
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.3',
        requestCert: tlsMaterial.clientAuth !== 'none',
        rejectUnauthorized: tlsMaterial.clientAuth === 'required',
        handshakeTimeout: tlsHandshakeTimeoutMs,
        noDelay: true,
      },
      accept,
    );
    server.on('tlsClientError', (error, socket) => {
      this.broker.log(`TLS handshake failed on ${spec.name} from ${socket.remoteAddress}: ${error.message}`);
      socket.destroy();
    });
    return server;
  }

  private accept(spec: ListenerSpec, socket: net.Socket): void {
    socket.setNoDelay(true);
    const override = this.advertised.get(spec.name);
    const local = this.bound.find((b) => b.name === spec.name);
    const host = override?.host ?? (isWildcard(spec.host) ? (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '') : spec.host);
    const port = override?.port ?? local?.port ?? socket.localPort ?? spec.port;
    const connection = new Connection(
      socket,
      this.broker,
      this.handlers,
      { listenerName: spec.name, advertised: { host, port }, remoteAddress: `${socket.remoteAddress}:${socket.remotePort}` },
      (closed) => this.connections.delete(closed),
    );
    this.connections.add(connection);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    const closing = this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    const ending = [...this.connections].map((connection) => connection.shutdown());
    await Promise.all([...closing, ...ending]);
  }
}

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}
