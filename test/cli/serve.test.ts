/**
 * `inkwell serve` end to end: it prints one `listening NAME://host:port` line per bound listener,
 * serves TLS with the given certificates, generates development certificates with --dev-certs,
 * exits 0 on SIGTERM and SIGINT, and exits 1 when a port is taken. Skipped while the broker
 * cannot be loaded (it is built separately).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ServeProcess, inkwell, killAll } from './cli-process.js';
import { testTls } from '../helpers/tls.js';

const brokerProblem = await import('../../src/broker/broker.js').then(
  () => null,
  (error: unknown) => `the broker cannot be loaded yet: ${(error as Error).message.split('\n')[0]}`,
);
const skip = brokerProblem ?? false;

const root = mkdtempSync(join(tmpdir(), 'inkwell-serve-'));
after(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

const listeningPattern = /^listening (PLAINTEXT|SSL):\/\/127\.0\.0\.1:(\d+)$/;
const connectTimeoutMs = 10_000;

/** A TLS handshake with the broker, trusting `ca` and checking the name 'localhost'; resolves true when authorized. */
async function tlsHandshake(port: number, ca: Buffer): Promise<boolean> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', timeout: connectTimeoutMs });
  try {
    await Promise.race([
      once(socket, 'secureConnect'),
      once(socket, 'timeout').then(() => {
        throw new Error('TLS handshake timed out');
      }),
    ]);
    return socket.authorized;
  } finally {
    // The broker may reset the connection as we leave; that is not this test's concern.
    socket.on('error', () => {});
    socket.destroy();
  }
}

async function tcpConnect(port: number): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port, timeout: connectTimeoutMs });
  try {
    await Promise.race([
      once(socket, 'connect'),
      once(socket, 'timeout').then(() => {
        throw new Error('connect timed out');
      }),
    ]);
  } finally {
    socket.on('error', () => {});
    socket.destroy();
  }
}

test('serve prints one listening line per listener, serves TLS, and exits 0 on SIGTERM', { skip }, async () => {
  const material = await testTls();
  const serve = new ServeProcess([
    '--listeners', 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
    '--storage', 'memory',
    '--tls-cert', material.paths.cert,
    '--tls-key', material.paths.key,
    '--tls-ca', material.paths.ca,
  ]);
  const lines = await serve.lines(listeningPattern, 2);
  assert.deepEqual(lines.map((match) => match[1]), ['PLAINTEXT', 'SSL']);
  const [plainPort, sslPort] = lines.map((match) => Number(match[2]));
  assert.ok(plainPort! > 0 && sslPort! > 0 && plainPort !== sslPort, 'real bound ports, not 0');
  assert.equal(serve.stdout.trim().split('\n').length, 2, `stdout holds only the listening lines:\n${serve.stdout}`);
  await tcpConnect(plainPort!);
  assert.equal(await tlsHandshake(sslPort!, material.ca), true);
  assert.deepEqual(await serve.stop('SIGTERM'), { code: 0, signal: null }, serve.output());
});

test('serve --dev-certs generates missing certificates into certs/, says so, and exits 0 on SIGINT', { skip }, async () => {
  const cwd = mkdtempSync(join(root, 'dev-certs-'));
  const serve = new ServeProcess(['--dev-certs', '--storage', 'memory', '--listeners', 'SSL://127.0.0.1:0'], { cwd });
  const [line] = await serve.lines(listeningPattern, 1);
  assert.match(serve.stderr, /generated development certificates in certs/);
  for (const name of ['ca-cert.pem', 'ca-key.pem', 'server-cert.pem', 'server-key.pem', 'client-cert.pem', 'client-key.pem']) {
    assert.ok(existsSync(join(cwd, 'certs', name)), name);
  }
  assert.equal(statSync(join(cwd, 'certs', 'server-key.pem')).mode & 0o777, 0o600);
  assert.equal(await tlsHandshake(Number(line![2]), readFileSync(join(cwd, 'certs', 'ca-cert.pem'))), true);
  assert.deepEqual(await serve.stop('SIGINT'), { code: 0, signal: null }, serve.output());

  // The second start finds the certificates and leaves them alone.
  const before = readFileSync(join(cwd, 'certs', 'ca-cert.pem'));
  const again = new ServeProcess(['--dev-certs', '--storage', 'memory', '--listeners', 'SSL://127.0.0.1:0'], { cwd });
  await again.lines(listeningPattern, 1);
  assert.doesNotMatch(again.stderr, /generated development certificates/);
  assert.deepEqual(readFileSync(join(cwd, 'certs', 'ca-cert.pem')), before);
  assert.deepEqual(await again.stop('SIGTERM'), { code: 0, signal: null }, again.output());
});

test('serve exits 1 with one line when a listener port is taken', { skip }, async () => {
  const blocker = net.createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  try {
    const { port } = blocker.address() as net.AddressInfo;
    const result = await inkwell(['serve', '--storage', 'memory', '--listeners', `PLAINTEXT://127.0.0.1:${port}`]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /inkwell: serve: cannot start: .*EADDRINUSE/);
  } finally {
    blocker.close();
  }
});
