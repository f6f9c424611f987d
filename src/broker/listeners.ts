/**
 * Kafka listener syntax: `NAME://host:port[,NAME://host:port...]`, as in the broker configs
 * `listeners` and `advertised.listeners`.
 *
 * The security protocol of a listener comes from its name through Kafka's default
 * listener.security.protocol.map, reduced to the two protocols Inkwell speaks: PLAINTEXT and SSL.
 * Names are case-insensitive and normalised to upper case, as Kafka does. A host may be a name,
 * an IPv4 address or a bracketed IPv6 address (`[::1]`); an empty host means every interface.
 */
import net from 'node:net';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL';

export interface Listener {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  readonly host: string;
  readonly port: number;
}

/** Kafka's default listener.security.protocol.map, limited to what we implement. */
const securityProtocolByName: ReadonlyMap<string, SecurityProtocol> = new Map([
  ['PLAINTEXT', 'PLAINTEXT'],
  ['SSL', 'SSL'],
]);

/** Protocols Kafka knows that Inkwell does not implement, named in errors rather than called unknown. */
const unsupportedProtocols: ReadonlySet<string> = new Set(['SASL_PLAINTEXT', 'SASL_SSL']);

/** The host an empty host stands for: every IPv4 interface. */
export const allInterfacesHost = '0.0.0.0';

export const portMax = 65_535;

/** More listeners than this in one setting is a mistake, not a configuration. */
export const listenersMax = 64;

export class ListenerError extends Error {
  override readonly name = 'ListenerError';
}

/** `PLAINTEXT://127.0.0.1:9092` etc: NAME, then `://`, then the host (maybe bracketed), then `:port`. */
const listenerPattern = /^([A-Za-z0-9_.-]*):\/\/(\[[^\]]*\]|[^[\]/]*):([^:/]*)$/;

/** A DNS name: dot-separated labels of letters, digits and inner hyphens (underscores tolerated, as resolvers do). */
const hostnamePattern = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function parseHost(raw: string, listener: string): string {
  if (raw === '') return allInterfacesHost;
  if (raw.startsWith('[')) {
    const inner = raw.slice(1, -1);
    if (!net.isIPv6(inner)) throw new ListenerError(`listener "${listener}": ${raw} is not a bracketed IPv6 address`);
    return inner;
  }
  if (raw.includes(':')) throw new ListenerError(`listener "${listener}": an IPv6 host must be in brackets, as in [::1]:9092`);
  if (net.isIPv4(raw) || hostnamePattern.test(raw)) return raw;
  throw new ListenerError(`listener "${listener}": "${raw}" is not a host name or IP address`);
}

function parsePort(raw: string, listener: string): number {
  if (!/^[0-9]{1,5}$/.test(raw)) throw new ListenerError(`listener "${listener}": port "${raw}" is not a number from 0 to ${portMax}`);
  const port = Number(raw);
  if (port > portMax) throw new ListenerError(`listener "${listener}": port ${port} is larger than ${portMax}`);
  return port;
}

function parseSecurityProtocol(name: string, listener: string): SecurityProtocol {
  const protocol = securityProtocolByName.get(name);
  if (protocol !== undefined) return protocol;
  if (unsupportedProtocols.has(name)) throw new ListenerError(`listener "${listener}": security protocol ${name} is not supported (only PLAINTEXT and SSL)`);
  throw new ListenerError(`listener "${listener}": unknown listener name ${name} (the name gives the security protocol: PLAINTEXT or SSL)`);
}

/** Parses one `NAME://host:port`. */
export function parseListener(text: string): Listener {
  const listener = text.trim();
  const match = listenerPattern.exec(listener);
  if (match === null) throw new ListenerError(`listener "${listener}" is not of the form NAME://host:port`);
  const [, rawName, rawHost, rawPort] = match as unknown as [string, string, string, string];
  if (rawName === '') throw new ListenerError(`listener "${listener}" has no name before ://`);
  const name = rawName.toUpperCase();
  return {
    name,
    securityProtocol: parseSecurityProtocol(name, listener),
    host: parseHost(rawHost, listener),
    port: parsePort(rawPort, listener),
  };
}

/**
 * Parses a comma-separated listener list. Names must be distinct, and so must ports other
 * than 0 (port 0 asks the operating system for a free port, so it may repeat).
 */
export function parseListeners(text: string): Listener[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.every((part) => part === '')) throw new ListenerError('no listeners given (expected NAME://host:port[,NAME://host:port...])');
  if (parts.some((part) => part === '')) throw new ListenerError(`empty entry in listener list "${text.trim()}"`);
  if (parts.length > listenersMax) throw new ListenerError(`${parts.length} listeners is more than the ${listenersMax} allowed`);
  const listeners = parts.map(parseListener);
  const names = new Set<string>();
  const ports = new Map<number, string>();
  for (const listener of listeners) {
    if (names.has(listener.name)) throw new ListenerError(`listener name ${listener.name} is used more than once`);
    names.add(listener.name);
    if (listener.port === 0) continue;
    const other = ports.get(listener.port);
    if (other !== undefined) throw new ListenerError(`listeners ${other} and ${listener.name} both use port ${listener.port}`);
    ports.set(listener.port, listener.name);
  }
  return listeners;
}

/** `NAME://host:port`, with an IPv6 host in brackets: the inverse of parseListener. */
export function formatListener(listener: Pick<Listener, 'name' | 'host' | 'port'>): string {
  const host = listener.host.includes(':') ? `[${listener.host}]` : listener.host;
  return `${listener.name}://${host}:${listener.port}`;
}
