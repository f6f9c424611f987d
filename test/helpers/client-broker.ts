/**
 * One Inkwell broker over TLS, on disk, for a file of tests of our own client: started in
 * `before`, closed in `after` together with every client the tests `track`ed.
 *
 *   const target = useClientBroker('h-cl-coop-');
 *   const producer = target.track(new Producer(target.client({ lingerMs: 0 })));
 */
import { before, after } from 'node:test';
import { startBroker, type Broker, type StartBrokerOptions } from '../../src/index.js';
import { testTls, type TestTls } from './tls.js';
import { tempDir } from './interop.js';

interface Closable {
  close(): Promise<void>;
}

export interface ClientBroker {
  readonly broker: Broker;
  readonly material: TestTls;
  /** "127.0.0.1:port" of the SSL listener. */
  readonly bootstrap: string;
  /** Closes `instance` in `after` (if the test has not). */
  track<T extends Closable>(instance: T): T;
  /** Client options for this broker (bootstrap, our CA, a 10 s connect timeout), with `extra` on top. */
  client<E extends object = object>(extra?: E): { bootstrap: string; tls: { ca: Buffer }; connectTimeoutMs: number } & E;
}

export function useClientBroker(dirPrefix: string, options: StartBrokerOptions = {}): ClientBroker {
  const data = tempDir(dirPrefix);
  const clients = new Set<Closable>();
  let broker: Broker | undefined;
  let material: TestTls | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the broker is started in before()');
    return value;
  };
  const target: ClientBroker = {
    get broker() {
      return started(broker);
    },
    get material() {
      return started(material);
    },
    get bootstrap() {
      return started(broker).bootstrap('SSL');
    },
    track(instance) {
      clients.add(instance);
      return instance;
    },
    client<E extends object = object>(extra?: E) {
      return { bootstrap: target.bootstrap, tls: { ca: target.material.ca }, connectTimeoutMs: 10_000, ...extra } as { bootstrap: string; tls: { ca: Buffer }; connectTimeoutMs: number } & E;
    },
  };
  before(async () => {
    material = await testTls();
    broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', dataDir: data.path, tls: material, log: () => {}, ...options });
  });
  after(async () => {
    await Promise.all([...clients].map((instance) => instance.close().catch(() => {})));
    await broker?.close();
    data.remove();
  });
  return target;
}
