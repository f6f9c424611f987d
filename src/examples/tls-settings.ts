/**
 * How the examples reach the broker: `npm start` serves TLS on 127.0.0.1:9093 with the
 * certificates it writes into certs/ (or `inkwell certs` writes). The client certificate is
 * sent too when it is there, so the examples also work with `--client-auth required`.
 * INKWELL_BOOTSTRAP and INKWELL_CERTS override the address and the directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientOptions } from '../index.js';

export function exampleClientOptions(clientId: string): ClientOptions {
  const certs = process.env.INKWELL_CERTS ?? 'certs';
  const ca = join(certs, 'ca-cert.pem');
  if (!existsSync(ca)) {
    throw new Error(`${ca} not found: run \`npm start\` (which writes development certificates) or \`inkwell certs\` first`);
  }
  const clientCert = join(certs, 'client-cert.pem');
  const clientKey = join(certs, 'client-key.pem');
  const mutual = existsSync(clientCert) && existsSync(clientKey);
  return {
    bootstrap: process.env.INKWELL_BOOTSTRAP ?? '127.0.0.1:9093',
    clientId,
    tls: {
      ca: readFileSync(ca),
      ...(mutual ? { cert: readFileSync(clientCert), key: readFileSync(clientKey) } : {}),
    },
    connectTimeoutMs: 5000,
  };
}
