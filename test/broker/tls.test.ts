/** TLS listener behaviour: versions, and client certificates per ssl.client.auth. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { once } from 'node:events';
import { startBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { testTls } from '../helpers/tls.js';

async function handshake(options: tls.ConnectionOptions): Promise<{ ok: boolean; socket: tls.TLSSocket }> {
  const socket = tls.connect(options);
  socket.on('error', () => {});
  const outcome = await Promise.race([
    once(socket, 'secureConnect').then(
      () => true,
      () => false,
    ),
    once(socket, 'close').then(() => false),
  ]);
  return { ok: outcome, socket };
}

test('ssl.client.auth=required refuses clients without a certificate and serves those with one', async () => {
  const material = await testTls();
  const broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', tls: { ...material, clientAuth: 'required' }, log: () => {} });
  try {
    const port = broker.listeners[0]!.port;
    // TLS 1.3 reports a missing client certificate after the handshake, on the first read.
    const anonymous = await RawClient.connect({ port, tls: { ca: material.ca } }).catch(() => null);
    if (anonymous) {
      anonymous.send('ApiVersions', 0, {});
      assert.equal(await anonymous.nextFrame().catch(() => null), null, 'no answer without a client certificate');
      anonymous.close();
    }
    const client = await RawClient.connect({ port, tls: { ca: material.ca, cert: material.clientCert, key: material.clientKey } });
    const response = await client.request('ApiVersions', 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    assert.equal(response.errorCode, 0);
    client.close();
  } finally {
    await broker.close();
  }
});

test('ssl.client.auth=requested accepts clients with and without a certificate', async () => {
  const material = await testTls();
  const broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', tls: { ...material, clientAuth: 'requested' }, log: () => {} });
  try {
    const port = broker.listeners[0]!.port;
    for (const extra of [{}, { cert: material.clientCert, key: material.clientKey }]) {
      const client = await RawClient.connect({ port, tls: { ca: material.ca, ...extra } });
      const response = await client.request('ApiVersions', 2, {});
      assert.equal(response.errorCode, 0);
      client.close();
    }
  } finally {
    await broker.close();
  }
});

test('TLS below 1.2 is refused; 1.2 and 1.3 are served', async () => {
  const material = await testTls();
  const broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', tls: material, log: () => {} });
  try {
    const port = broker.listeners[0]!.port;
    const old = await handshake({ host: '127.0.0.1', port, ca: material.ca, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    assert.equal(old.ok, false);
    old.socket.destroy();
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const modern = await handshake({ host: '127.0.0.1', port, ca: material.ca, servername: 'localhost', minVersion: version, maxVersion: version });
      assert.equal(modern.ok, true, version);
      assert.equal(modern.socket.getProtocol(), version);
      modern.socket.destroy();
    }
  } finally {
    await broker.close();
  }
});
