/**
 * The machine's limit: both ends of a raw socket pipe (TLS or plain TCP), each its own process,
 * moving the same bytes a scenario's records carry, with no protocol at all.
 *
 *   sink:   node pipe-endpoint.js sink [--cert F --key F] --bytes N
 *           prints "listening PORT", reads N bytes from one connection, answers one byte, exits.
 *   source: node pipe-endpoint.js source --port P [--ca F] --bytes N --chunk-bytes C
 *           (a child of the suite) writes N bytes in C-byte writes, honouring backpressure, and
 *           reports the seconds from its first write to the sink's answer.
 */
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mark, report, runChild } from '../child-protocol.js';

export interface PipeResult {
  readonly bytes: number;
  readonly seconds: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    port: { type: 'string' },
    bytes: { type: 'string' },
    'chunk-bytes': { type: 'string' },
  },
});
const bytes = Number(values.bytes);

async function sink(): Promise<void> {
  const onConnection = (socket: net.Socket) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes) socket.end('k');
    });
    socket.on('error', () => {});
    socket.on('close', () => server.close());
  };
  const server = values.cert
    ? tls.createServer({ cert: readFileSync(values.cert), key: readFileSync(values.key!) }, onConnection)
    : net.createServer(onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`);
  await once(server, 'close');
}

async function source(): Promise<void> {
  const port = Number(values.port);
  const socket = values.ca ? tls.connect({ host: '127.0.0.1', port, ca: readFileSync(values.ca), servername: 'localhost' }) : net.connect({ host: '127.0.0.1', port });
  await once(socket, values.ca ? 'secureConnect' : 'connect');
  socket.setNoDelay(true);
  const answered = once(socket, 'data');
  await mark('connected');
  const chunk = Buffer.alloc(Number(values['chunk-bytes']), 0x76);
  const started = process.hrtime.bigint();
  let left = bytes;
  while (left > 0) {
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= piece.length;
    if (!socket.write(piece)) await once(socket, 'drain');
  }
  await answered;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await mark('moved');
  socket.destroy();
  report({ bytes, seconds } satisfies PipeResult);
}

if (positionals[0] === 'sink') {
  sink().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
} else {
  runChild(source);
}
