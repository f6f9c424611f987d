import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, FrameError } from '../../src/broker/frame-decoder.js';

function frame(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

const bodies = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(70000, 7), Buffer.from([1, 2, 3])];
const stream = Buffer.concat(bodies.map(frame));

test('frames split at every byte position come out whole and in order', () => {
  for (let cut = 0; cut <= stream.length; cut += cut < 200 || cut > stream.length - 200 ? 1 : 97) {
    const decoder = new FrameDecoder(1 << 20);
    const out: Buffer[] = [];
    decoder.push(stream.subarray(0, cut), (f) => out.push(Buffer.from(f)));
    decoder.push(stream.subarray(cut), (f) => out.push(Buffer.from(f)));
    assert.equal(out.length, bodies.length, `cut at ${cut}`);
    out.forEach((b, i) => assert.ok(b.equals(bodies[i]!), `frame ${i} cut at ${cut}`));
    assert.equal(decoder.midFrame, false);
  }
});

test('one byte at a time', () => {
  const decoder = new FrameDecoder(1 << 20);
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1), (f) => out.push(Buffer.from(f)));
  assert.equal(out.length, bodies.length);
  out.forEach((b, i) => assert.ok(b.equals(bodies[i]!)));
});

test('negative and oversized frame sizes are rejected before allocation', () => {
  const decoder = new FrameDecoder(1000);
  assert.throws(() => decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]), () => {}), FrameError);
  const second = new FrameDecoder(1000);
  assert.throws(() => second.push(Buffer.from([0, 0, 0x03, 0xe9]), () => {}), /exceeds the limit/);
});

test('memory follows bytes received, not the size claimed', () => {
  const decoder = new FrameDecoder(100 * 1024 * 1024);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(100 * 1024 * 1024 - 1, 0);
  decoder.push(Buffer.concat([prefix, Buffer.alloc(10)]), () => assert.fail('no frame expected'));
  assert.ok(decoder.bufferedBytes <= 64 * 1024, `buffered ${decoder.bufferedBytes}`);
  assert.equal(decoder.midFrame, true);
});
