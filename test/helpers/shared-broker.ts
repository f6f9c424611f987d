/**
 * One broker for a whole test file: started in `before`, closed in `after`. Each helper hands
 * what it started to `ready`, so a file keeps its own short names for them:
 *
 *   let client: RawClient;
 *   useRawBroker((started) => ({ client } = started));
 */
import { before, after } from 'node:test';
import { startBroker, type Broker, type StartBrokerOptions } from '../../src/index.js';
import { RawClient } from './raw-client.js';
import { testTls, type TestTls } from './tls.js';
import { createTopic } from './interop.js';

export interface RawBroker {
  readonly broker: Broker;
  /** A plaintext RawClient connected to the broker's first listener. */
  readonly client: RawClient;
}

/** An in-memory plaintext broker and one raw client. */
export function useRawBroker(ready: (started: RawBroker) => void, options: StartBrokerOptions = {}): void {
  let started: RawBroker | undefined;
  before(async () => {
    const broker = await startBroker({ storage: 'memory', log: () => {}, ...options });
    started = { broker, client: await RawClient.connect({ port: broker.listeners[0]!.port }) };
    ready(started);
  });
  after(async () => {
    started?.client.close();
    await started?.broker.close();
  });
}

export interface TlsBroker {
  readonly broker: Broker;
  /** The test certificates (PEM buffers and file paths); the CA verifies the broker. */
  readonly material: TestTls;
  readonly port: number;
  /** "127.0.0.1:port" of the SSL listener. */
  readonly bootstrap: string;
  /** Creates a topic through a raw CreateTopics request over TLS, asserting success. */
  createTopic(name: string, partitions: number): Promise<void>;
}

/** An in-memory broker with one SSL listener on 127.0.0.1, for the real clients. */
export function useTlsBroker(ready: (started: TlsBroker) => void, options: StartBrokerOptions = {}): void {
  let broker: Broker | undefined;
  before(async () => {
    const material = await testTls();
    const started = await startBroker({ listeners: 'SSL://127.0.0.1:0', storage: 'memory', tls: material, log: () => {}, ...options });
    broker = started;
    const port = started.listeners[0]!.port;
    ready({ broker: started, material, port, bootstrap: `127.0.0.1:${port}`, createTopic: (name, partitions) => createTopic(port, material.ca, name, partitions) });
  });
  after(async () => {
    await broker?.close();
  });
}
