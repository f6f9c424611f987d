/** Inkwell's public API. */
export { startBroker, type Broker, type StartBrokerOptions } from './broker/broker.js';
export type { BoundListener, ClientAuth, SecurityProtocol } from './broker/server.js';
export * from './client/index.js';
