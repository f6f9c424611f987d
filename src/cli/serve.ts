/**
 * `inkwell serve`: resolves the configuration (defaults < --config FILE < --set < flags), loads
 * the TLS material when an SSL listener exists, starts the broker and prints one
 * `listening NAME://host:port` line per bound listener on stdout. Logs go to stderr.
 *
 * SIGTERM or SIGINT closes the broker and exits 0; a second signal exits at once.
 * Problems with the command line, the configuration or the TLS files exit 2 before anything
 * starts; a failure to start (a port in use) exits 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import tls from 'node:tls';
import { Type } from '@sinclair/typebox';
import { resolveConfig, type BrokerConfig, type ConfigInput } from '../broker/config.js';
import { formatListener, parseListeners } from '../broker/listeners.js';
import { certificateFileNames, defaultCertificateDays, defaultCertificateHosts, generateCertificates, CertificateError } from './certs.js';
import { CliError, UsageError, exitFailure } from './errors.js';
import { parseFlags } from './flags.js';

/** How long a graceful shutdown may take before we give up on it and exit non-zero. */
export const shutdownTimeoutMs = 30_000;

const ServeFlags = Type.Object({
  listeners: Type.Optional(Type.String()),
  'advertised-listeners': Type.Optional(Type.String()),
  'data-dir': Type.Optional(Type.String()),
  storage: Type.Optional(Type.Union([Type.Literal('disk'), Type.Literal('memory')])),
  'tls-cert': Type.Optional(Type.String()),
  'tls-key': Type.Optional(Type.String()),
  'tls-ca': Type.Optional(Type.String()),
  'client-auth': Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('requested'), Type.Literal('required')])),
  config: Type.Optional(Type.String({ minLength: 1, expected: 'a file name' })),
  set: Type.Optional(Type.Array(Type.String())),
  'dev-certs': Type.Optional(Type.Boolean()),
  help: Type.Optional(Type.Boolean({ short: 'h' })),
});

/** Which broker config each dedicated flag sets. */
const configKeyByFlag = {
  listeners: 'listeners',
  'advertised-listeners': 'advertised.listeners',
  'data-dir': 'log.dirs',
  storage: 'inkwell.storage',
  'tls-cert': 'inkwell.tls.cert',
  'tls-key': 'inkwell.tls.key',
  'tls-ca': 'inkwell.tls.ca',
  'client-auth': 'ssl.client.auth',
} as const;

export const serveUsage = `Usage: inkwell serve [options]

Starts the broker. Prints "listening NAME://host:port" on stdout for each listener once bound.

Options (each sets the broker config in brackets):
  --listeners LIST             listeners, e.g. PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093 [listeners]
  --advertised-listeners LIST  addresses given to clients [advertised.listeners]
  --data-dir DIR               where the log lives [log.dirs]
  --storage disk|memory        keep the log on disk or only in memory [inkwell.storage]
  --tls-cert FILE              server certificate, PEM [inkwell.tls.cert]
  --tls-key FILE               server private key, PEM [inkwell.tls.key]
  --tls-ca FILE                CA certificate(s) for client certificates, PEM [inkwell.tls.ca]
  --client-auth none|requested|required
                               ask SSL clients for a certificate [ssl.client.auth]
  --config FILE                a server.properties or JSON file of broker configs
  --set KEY=VALUE              one broker config (repeatable); wins over --config
  --dev-certs                  if the TLS files are missing, generate development ones
  -h, --help                   show this help

Precedence: defaults < --config < --set < the flags above.
`;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Generates development certificates where the configured TLS paths expect them (the --dev-certs case). */
async function createDevCertificates(files: TlsFiles): Promise<void> {
  const directory = dirname(files.cert);
  const fits =
    basename(files.cert) === certificateFileNames.serverCert &&
    resolve(files.key) === resolve(directory, certificateFileNames.serverKey) &&
    resolve(files.ca) === resolve(directory, certificateFileNames.caCert);
  if (!fits) {
    throw new UsageError(
      `--dev-certs writes ${certificateFileNames.serverCert}, ${certificateFileNames.serverKey} and ${certificateFileNames.caCert} into one directory, ` +
        `which the configured TLS paths (${files.cert}, ${files.key}, ${files.ca}) do not match`,
    );
  }
  try {
    await generateCertificates({ out: directory, hosts: defaultCertificateHosts, days: defaultCertificateDays });
  } catch (error) {
    if (error instanceof CertificateError) throw new UsageError(`--dev-certs: some TLS files are missing and others exist: ${error.message}`);
    throw error;
  }
  process.stderr.write(
    `generated development certificates in ${directory} (a CA, a server certificate for ${defaultCertificateHosts.join(', ')}, a client certificate)\n`,
  );
}

function readTlsFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read TLS file ${path}: ${(error as Error).message}`);
  }
}

/** Reads (or, with --dev-certs, first creates) the TLS files and checks that they make a usable context. */
async function loadTls(config: BrokerConfig, devCerts: boolean) {
  const files: TlsFiles = { cert: config['inkwell.tls.cert'], key: config['inkwell.tls.key'], ca: config['inkwell.tls.ca'] };
  const missing = Object.values(files).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    if (!devCerts) throw new UsageError(`TLS file not found: ${missing.join(', ')} (create them with "inkwell certs", or start with --dev-certs)`);
    await createDevCertificates(files);
  }
  const material = { cert: readTlsFile(files.cert), key: readTlsFile(files.key), ca: readTlsFile(files.ca), clientAuth: config['ssl.client.auth'] };
  try {
    tls.createSecureContext({ cert: material.cert, key: material.key, ca: material.ca });
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new UsageError(`TLS files ${files.cert}, ${files.key} and ${files.ca} do not make a usable TLS setup: ${reason}`);
  }
  return material;
}

const signalExitCodes: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Resolves with the first SIGTERM/SIGINT; a second one exits the process at once. */
function firstSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    let received: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received !== undefined) {
        log(`${signal} again: exiting without finishing shutdown`);
        process.exit(signalExitCodes[signal] ?? exitFailure);
      }
      received = signal;
      resolveSignal(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** `inkwell serve ...`; resolves with the exit code once the broker has closed. */
export async function runServe(args: readonly string[]): Promise<number> {
  const flags = parseFlags('serve', args, ServeFlags);
  if (flags.help === true) {
    process.stdout.write(serveUsage);
    return 0;
  }
  const overrides: Record<string, ConfigInput | undefined> = {};
  for (const [flag, key] of Object.entries(configKeyByFlag)) overrides[key] = flags[flag as keyof typeof configKeyByFlag];
  const config = resolveConfig({ file: flags.config, set: flags.set ?? [], overrides });
  const hasSsl = parseListeners(config.listeners).some((listener) => listener.securityProtocol === 'SSL');
  const tlsMaterial = hasSsl ? await loadTls(config, flags['dev-certs'] === true) : undefined;

  // Signals are watched from here on, so one arriving during start-up still closes cleanly.
  const stopSignal = firstSignal();
  let stopping = false;
  void stopSignal.then(() => (stopping = true));
  const { startBrokerFromConfig } = await import('../broker/broker.js').catch((error: unknown) => {
    throw new CliError(`serve: cannot load the broker: ${(error as Error).message.split('\n')[0]}`);
  });
  let broker: Awaited<ReturnType<typeof startBrokerFromConfig>>;
  try {
    broker = await startBrokerFromConfig(config, { tls: tlsMaterial, log });
  } catch (error) {
    throw new CliError(`serve: cannot start: ${(error as Error).message}`);
  }
  if (!stopping) {
    for (const listener of broker.listeners) process.stdout.write(`listening ${formatListener(listener)}\n`);
  }
  const signal = await stopSignal;
  log(`${signal}: shutting down`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), shutdownTimeoutMs);
  });
  const closed = broker.close().then(
    () => 'closed' as const,
    (error: unknown) => {
      log(`shutdown failed: ${(error as Error).message}`);
      return 'failed' as const;
    },
  );
  const outcome = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') log(`shutdown did not finish within ${shutdownTimeoutMs} ms; exiting`);
  if (outcome !== 'closed') return exitFailure;
  log('stopped');
  return 0;
}
