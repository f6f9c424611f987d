/**
 * Development certificates: valid PEM, the right extensions and names, usable by node:tls for
 * server authentication (by DNS name and by IP address) and for mutual TLS; key files 0600;
 * no overwriting without force.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { CertificateError, certificateFileNames, generateCertificates, type CertificatePaths } from '../../src/cli/certs.js';

const root = mkdtempSync(join(tmpdir(), 'inkwell-certs-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const hosts = ['localhost', '127.0.0.1', '::1'];
let generated: Promise<CertificatePaths> | undefined;
function certificates(): Promise<CertificatePaths> {
  generated ??= generateCertificates({ out: join(root, 'main'), hosts, days: 3 });
  return generated;
}

const read = (path: string): Buffer => readFileSync(path);
const handshakeTimeoutMs = 10_000;

interface Handshake {
  authorized: boolean;
  error?: string;
  peerCommonName?: string;
}

/** Starts a TLS server, makes one connection, closes both; every wait bounded. */
async function handshake(serverOptions: tls.TlsOptions, clientOptions: tls.ConnectionOptions): Promise<{ client: Handshake; server: Handshake }> {
  let serverResult: Handshake | undefined;
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ ...serverOptions, handshakeTimeout: handshakeTimeoutMs }, (socket) => {
    sockets.add(socket);
    const peer = socket.getPeerCertificate();
    serverResult = { authorized: socket.authorized, ...(peer?.subject?.CN !== undefined ? { peerCommonName: String(peer.subject.CN) } : {}) };
    socket.end('ok');
  });
  server.on('tlsClientError', (error) => (serverResult = { authorized: false, error: error.message }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const client = await new Promise<Handshake>((resolve) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ...clientOptions });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ authorized: false, error: 'timed out' });
      }, handshakeTimeoutMs);
      socket.on('secureConnect', () => {
        // Reading the server's reply shows the server also accepted us (TLS 1.3 rejects a client certificate after this event).
        socket.once('data', () => {
          clearTimeout(timer);
          resolve({ authorized: socket.authorized });
          socket.destroy();
        });
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        resolve({ authorized: false, error: error.message });
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ authorized: false, error: 'closed before any data' });
      });
    });
    return { client, server: serverResult ?? { authorized: false, error: 'no server-side result' } };
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}

test('the files are valid PEM with the expected extensions, names and key modes', async () => {
  const paths = await certificates();
  for (const name of Object.values(certificateFileNames)) assert.ok(statSync(join(root, 'main', name)).isFile(), name);
  const ca = new X509Certificate(read(paths.caCert));
  const server = new X509Certificate(read(paths.serverCert));
  const client = new X509Certificate(read(paths.clientCert));

  assert.equal(ca.ca, true, 'the CA has basicConstraints CA:true');
  assert.equal(server.ca, false);
  assert.equal(client.ca, false);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'the server certificate is signed by the CA');
  assert.ok(client.checkIssued(ca) && client.verify(ca.publicKey), 'the client certificate is signed by the CA');
  assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');

  assert.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(server.checkHost('localhost'), 'localhost');
  assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(server.checkIP('::1'), '::1');
  assert.equal(server.checkHost('example.com'), undefined);
  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extendedKeyUsage serverAuth');
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'extendedKeyUsage clientAuth');

  for (const certificate of [ca, server, client]) {
    assert.equal(certificate.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(certificate.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    const lifetimeMs = Date.parse(certificate.validTo) - Date.parse(certificate.validFrom);
    assert.ok(lifetimeMs > 2 * 86_400_000 && lifetimeMs < 4 * 86_400_000, 'valid for about the days asked');
  }

  for (const [cert, key] of [
    [paths.caCert, paths.caKey],
    [paths.serverCert, paths.serverKey],
    [paths.clientCert, paths.clientKey],
  ] as const) {
    const privateKey = createPrivateKey(read(key));
    assert.equal(privateKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('hex'),
      new X509Certificate(read(cert)).publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
      `${key} belongs to ${cert}`,
    );
    assert.equal(statSync(key).mode & 0o777, 0o600, `${key} is readable by its owner only`);
    assert.match(read(cert).toString('ascii'), /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/);
  }

  // Signed with sha256WithRSAEncryption (OID 1.2.840.113549.1.1.11), which appears in the DER.
  const sha256WithRsa = Buffer.from('06092a864886f70d01010b', 'hex');
  for (const certificate of [ca, server, client]) assert.ok(certificate.raw.includes(sha256WithRsa), 'signed with SHA-256');
});

test('node:tls accepts the server certificate for localhost and for 127.0.0.1, trusting the CA', async () => {
  const paths = await certificates();
  const serverOptions = { cert: read(paths.serverCert), key: read(paths.serverKey) };
  const byName = await handshake(serverOptions, { ca: read(paths.caCert), servername: 'localhost' });
  assert.deepEqual(byName.client, { authorized: true });
  // With no servername, node:tls checks the certificate against the host connected to: 127.0.0.1.
  const byAddress = await handshake(serverOptions, { ca: read(paths.caCert) });
  assert.deepEqual(byAddress.client, { authorized: true });

  const cert = new X509Certificate(read(paths.serverCert)).toLegacyObject();
  assert.equal(tls.checkServerIdentity('localhost', cert), undefined);
  assert.equal(tls.checkServerIdentity('127.0.0.1', cert), undefined);
  assert.equal(tls.checkServerIdentity('::1', cert), undefined);
  assert.ok(tls.checkServerIdentity('example.com', cert) instanceof Error);

  const untrusted = await handshake(serverOptions, { servername: 'localhost' });
  assert.equal(untrusted.client.authorized, false, 'without the CA the chain is not trusted');
  assert.match(untrusted.client.error ?? '', /self[- ]signed|unable to (get|verify)/i);
});

test('mutual TLS: the client certificate is accepted; a client without one is refused', async () => {
  const paths = await certificates();
  const serverOptions: tls.TlsOptions = {
    cert: read(paths.serverCert),
    key: read(paths.serverKey),
    ca: read(paths.caCert),
    requestCert: true,
    rejectUnauthorized: true,
  };
  const mutual = await handshake(serverOptions, { ca: read(paths.caCert), servername: 'localhost', cert: read(paths.clientCert), key: read(paths.clientKey) });
  assert.deepEqual(mutual.client, { authorized: true });
  assert.deepEqual(mutual.server, { authorized: true, peerCommonName: 'inkwell-client' });

  const anonymous = await handshake(serverOptions, { ca: read(paths.caCert), servername: 'localhost' });
  assert.equal(anonymous.client.authorized, false);
  assert.equal(anonymous.server.authorized, false);

  // The server certificate is for serverAuth only: presenting it as a client certificate fails.
  const wrongUsage = await handshake(serverOptions, { ca: read(paths.caCert), servername: 'localhost', cert: read(paths.serverCert), key: read(paths.serverKey) });
  assert.equal(wrongUsage.server.authorized, false);
});

test('existing files are not overwritten without force; with force they are replaced, keys still 0600', async () => {
  const out = join(root, 'force');
  const first = await generateCertificates({ out, hosts: ['localhost'], days: 1 });
  const before = read(first.caCert);
  await assert.rejects(generateCertificates({ out, hosts: ['localhost'], days: 1 }), (error: unknown) => {
    return error instanceof CertificateError && /refusing to overwrite .*ca-cert\.pem/.test(error.message) && /--force/.test(error.message);
  });
  assert.deepEqual(read(first.caCert), before, 'nothing was written');
  const second = await generateCertificates({ out, hosts: ['example.test', '10.1.2.3'], days: 1, force: true });
  assert.notDeepEqual(read(second.caCert), before);
  assert.equal(new X509Certificate(read(second.serverCert)).subjectAltName, 'DNS:example.test, IP Address:10.1.2.3');
  for (const key of [second.caKey, second.serverKey, second.clientKey]) assert.equal(statSync(key).mode & 0o777, 0o600);
});

test('bad hosts and days are refused before anything is written', async () => {
  const out = join(root, 'bad');
  await assert.rejects(generateCertificates({ out, hosts: ['not a host'], days: 1 }), /"not a host" is neither a DNS name nor an IP address/);
  await assert.rejects(generateCertificates({ out, hosts: [], days: 1 }), /at least one host/);
  await assert.rejects(generateCertificates({ out, hosts: ['localhost'], days: 0 }), /days must be a whole number/);
  assert.throws(() => statSync(out), /ENOENT/);
});
