/**
 * Golden request frames (test/protocol/golden/*.hex), built by hand from the Kafka protocol
 * guide, decoded with the registry codecs and checked field by field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { registry } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { readRequestHeaderStart, skipTaggedFields, writeRequestHeader, type RequestHeader } from '../../src/protocol/headers.js';
import type { Message } from '../../src/protocol/codec.js';
import { repoPath } from '../helpers/paths.js';

function goldenDirectory(): string {
  return repoPath('test/protocol/golden');
}

/** A fixture: lines starting with # are comments, whitespace is ignored, the rest is hex. */
function readFixture(name: string): { comment: string; bytes: Buffer } {
  const text = readFileSync(join(goldenDirectory(), name), 'utf8');
  const lines = text.split('\n');
  const comment = lines.filter((l) => l.startsWith('#')).join('\n');
  const hex = lines
    .filter((l) => !l.startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})+$/, `${name} is not lowercase hex`);
  return { comment, bytes: Buffer.from(hex, 'hex') };
}

interface Decoded {
  header: RequestHeader;
  body: Message;
}

/** Checks the frame size, decodes the header and the body, and requires every byte be used. */
function decodeFrame(bytes: Buffer): Decoded {
  assert.ok(bytes.length >= 4);
  assert.equal(bytes.readInt32BE(0), bytes.length - 4, 'size prefix');
  const reader = new Reader(bytes, 4);
  const header = readRequestHeaderStart(reader);
  assert.ok(reader.complete(), reader.failure);
  const api = registry().get(header.apiKey);
  assert.ok(api, `api key ${header.apiKey} is not implemented`);
  const flexible = api.isFlexible(header.apiVersion);
  if (flexible) skipTaggedFields(reader);
  const body = api.request(header.apiVersion).decode(reader);
  assert.ok(reader.complete(true), reader.failure || `${reader.remaining} bytes left over`);
  // Re-encoding gives back the same frame, byte for byte.
  const writer = new Writer();
  const at = writer.reserveInt32();
  writeRequestHeader(writer, header, flexible);
  api.request(header.apiVersion).encode(writer, body);
  writer.fillInt32(at, writer.length - 4);
  assert.deepEqual(writer.toBuffer(), bytes, 're-encoded frame');
  return { header, body };
}

/** A plain table-driven CRC-32C, independent of the library the broker uses. */
function crc32cReference(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('every fixture has a comment naming api key, version and source, and decodes', () => {
  const files = readdirSync(goldenDirectory()).filter((f) => f.endsWith('.hex'));
  assert.ok(files.length >= 3);
  for (const file of files) {
    const { comment, bytes } = readFixture(file);
    assert.match(comment, /^# .*api key \d+, version \d+.*Source: /s, file);
    const { header } = decodeFrame(bytes);
    const [, key, version] = /api key (\d+), version (\d+)/.exec(comment)!;
    assert.equal(header.apiKey, Number(key), file);
    assert.equal(header.apiVersion, Number(version), file);
  }
});

test('Metadata v1 request naming two topics', () => {
  const { header, body } = decodeFrame(readFixture('metadata-v1-request.hex').bytes);
  assert.deepEqual(header, { apiKey: 3, apiVersion: 1, correlationId: 5, clientId: 'producer-1' });
  assert.deepEqual(body.topics, [{ name: 'orders' }, { name: 'payments' }]);
  assert.equal(body.allowAutoTopicCreation, true, 'absent before v4: the default');
});

test('Metadata v1 request for every topic (null array, null client id)', () => {
  const { header, body } = decodeFrame(readFixture('metadata-v1-all-topics-request.hex').bytes);
  assert.deepEqual(header, { apiKey: 3, apiVersion: 1, correlationId: 1, clientId: null });
  assert.equal(body.topics, null);
});

test('Produce v3 request with one record batch', () => {
  const { header, body } = decodeFrame(readFixture('produce-v3-request.hex').bytes);
  assert.deepEqual(header, { apiKey: 0, apiVersion: 3, correlationId: 6, clientId: 'producer-1' });
  assert.equal(body.transactionalId, null);
  assert.equal(body.acks, 1);
  assert.equal(body.timeoutMs, 30000);
  const topics = body.topicData as { name: string; partitionData: { index: number; records: Buffer }[] }[];
  assert.equal(topics.length, 1);
  assert.equal(topics[0]!.name, 'orders');
  assert.equal(topics[0]!.partitionData.length, 1);
  const { index, records } = topics[0]!.partitionData[0]!;
  assert.equal(index, 0);
  assert.equal(records.length, 73);

  // The batch, field by field.
  assert.equal(records.readBigInt64BE(0), 0n, 'baseOffset');
  assert.equal(records.readInt32BE(8), records.length - 12, 'batchLength');
  assert.equal(records.readInt32BE(12), -1, 'partitionLeaderEpoch');
  assert.equal(records.readInt8(16), 2, 'magic');
  const crc = records.readUInt32BE(17);
  assert.equal(crc, crc32cReference(records.subarray(21)), 'crc (reference CRC-32C)');
  assert.equal(crc, crc32c(records.subarray(21)) >>> 0, 'crc (@node-rs/crc32)');
  assert.equal(records.readInt16BE(21), 0, 'attributes');
  assert.equal(records.readInt32BE(23), 0, 'lastOffsetDelta');
  assert.equal(records.readBigInt64BE(27), 1700000000000n, 'baseTimestamp');
  assert.equal(records.readBigInt64BE(35), 1700000000000n, 'maxTimestamp');
  assert.equal(records.readBigInt64BE(43), -1n, 'producerId');
  assert.equal(records.readInt16BE(51), -1, 'producerEpoch');
  assert.equal(records.readInt32BE(53), -1, 'baseSequence');
  assert.equal(records.readInt32BE(57), 1, 'recordsCount');
  const r = new Reader(records, 61);
  assert.equal(r.varint(), 11, 'record length');
  assert.equal(r.int8(), 0, 'record attributes');
  assert.equal(r.varlong(), 0n, 'timestampDelta');
  assert.equal(r.varint(), 0, 'offsetDelta');
  assert.equal(r.varint(), -1, 'keyLength (null key)');
  const valueLength = r.varint();
  assert.equal(r.bytesOf(valueLength)?.toString(), 'hello', 'value');
  assert.equal(r.varint(), 0, 'headersCount');
  assert.ok(r.complete(true));
});

test('the reference CRC-32C gives the standard check value', () => {
  assert.equal(crc32cReference(Buffer.from('123456789')), 0xe3069283);
});

test('ApiVersions v0 request (empty body)', () => {
  const { header, body } = decodeFrame(readFixture('api-versions-v0-request.hex').bytes);
  assert.deepEqual(header, { apiKey: 18, apiVersion: 0, correlationId: 0, clientId: 'kafkajs' });
  assert.equal(body.clientSoftwareName, '');
});

test('ApiVersions v3 request (header v2, compact strings)', () => {
  const { header, body } = decodeFrame(readFixture('api-versions-v3-request.hex').bytes);
  assert.deepEqual(header, { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'producer-1' });
  assert.equal(body.clientSoftwareName, 'apache-kafka-java');
  assert.equal(body.clientSoftwareVersion, '3.7.0');
  assert.equal(body.unknownTags, undefined);
});

test('DeleteTopics v4 request (flexible)', () => {
  const { header, body } = decodeFrame(readFixture('delete-topics-v4-request.hex').bytes);
  assert.deepEqual(header, { apiKey: 20, apiVersion: 4, correlationId: 9, clientId: 'adminclient-1' });
  assert.deepEqual(body.topicNames, ['orders']);
  assert.equal(body.timeoutMs, 30000);
});

test('CreatePartitions v2 request (flexible, null compact array)', () => {
  const { header, body } = decodeFrame(readFixture('create-partitions-v2-request.hex').bytes);
  assert.deepEqual(header, { apiKey: 37, apiVersion: 2, correlationId: 10, clientId: 'adminclient-1' });
  assert.deepEqual(body.topics, [{ name: 'orders', count: 6, assignments: null }]);
  assert.equal(body.timeoutMs, 30000);
  assert.equal(body.validateOnly, false);
});
