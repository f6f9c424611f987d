/** Test certificates: generated once per test process into a temporary directory. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificates } from '../../src/cli/certs.js';

export interface TestTls {
  dir: string;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  clientAuth: 'none' | 'requested' | 'required';
  paths: { cert: string; key: string; ca: string; clientCert: string; clientKey: string };
}

let cached: Promise<TestTls> | undefined;

export function testTls(): Promise<TestTls> {
  cached ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inkwell-certs-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await generateCertificates({ out: dir, hosts: ['localhost', '127.0.0.1', '::1'], days: 2 });
    const paths = {
      cert: join(dir, 'server-cert.pem'),
      key: join(dir, 'server-key.pem'),
      ca: join(dir, 'ca-cert.pem'),
      clientCert: join(dir, 'client-cert.pem'),
      clientKey: join(dir, 'client-key.pem'),
    };
    return {
      dir,
      cert: readFileSync(paths.cert),
      key: readFileSync(paths.key),
      ca: readFileSync(paths.ca),
      clientCert: readFileSync(paths.clientCert),
      clientKey: readFileSync(paths.clientKey),
      clientAuth: 'none' as const,
      paths,
    };
  })();
  return cached;
}
