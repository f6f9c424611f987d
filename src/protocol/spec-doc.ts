/**
 * Generates protocol-spec/SPEC.md, the human-readable protocol specification, from the
 * machine-readable definitions in protocol-spec/apis/ and the error table in errors.ts.
 * Run it as `node dist/src/protocol/spec-doc.js` (`npm run spec`); tests compare the file on
 * disk with `renderSpec()`, so it cannot go stale.
 *
 * The worked examples are encoded with the registry codecs. Their annotations come from a
 * separate walk over the definitions that labels every byte; that walk's bytes are compared
 * with the codec's output (and with headers.ts for the headers) and rendering fails on any
 * difference, so a dump can never show bytes the codec would not send.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32c } from '@node-rs/crc32';
import type { ApiSpec, FieldSpec } from './spec-types.js';
import { ApiRegistry, loadSpecs, specDirectory, type ApiEntry } from './registry.js';
import { defaultFor, type Message } from './codec.js';
import { inVersions, parseVersions } from './versions.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { apiVersionsKey, responseHeaderIsFlexible, writeRequestHeader, writeResponseHeader } from './headers.js';
import { allErrors, errorName } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Examples: from the JSON form of the definitions to the values the codecs use.
// ---------------------------------------------------------------------------------------------

function isStructType(type: string): boolean {
  return type === 'struct' || type === '[]struct';
}

function scalarFromJson(type: string, value: unknown, where: string): unknown {
  if (value === null) return null;
  switch (type) {
    case 'int64':
      if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw new Error(`${where}: int64 values are written as decimal strings`);
      return BigInt(value);
    case 'uuid':
    case 'bytes':
    case 'records': {
      if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) throw new Error(`${where}: ${type} values are written as hex strings`);
      if (type === 'uuid' && value.length !== 32) throw new Error(`${where}: a uuid is 32 hex digits`);
      return Buffer.from(value, 'hex');
    }
    case 'bool':
      if (typeof value !== 'boolean') throw new Error(`${where}: expected true or false`);
      return value;
    case 'string':
      if (typeof value !== 'string') throw new Error(`${where}: expected a string`);
      return value;
    default:
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where}: expected a number`);
      return value;
  }
}

/**
 * The value of one message or struct of an example, as the codecs take and give it for
 * `version`: int64 as bigint, bytes/uuid/records as Buffers, every field of the version present
 * (the example's value, or the field's default), and fields the version does not have set to
 * their defaults (which is what decoding produces for them). Unknown names in the example throw.
 */
export function exampleMessage(fields: FieldSpec[], json: Record<string, unknown>, version: number, where = 'example'): Message {
  const known = new Set(fields.map((f) => f.name));
  for (const key of Object.keys(json)) {
    if (!known.has(key)) throw new Error(`${where}: ${key} is not a field of this message`);
  }
  const out: Message = {};
  for (const field of fields) {
    const given = json[field.name];
    if (!inVersions(field.versions, version) || given === undefined) {
      out[field.name] = defaultFor(field, version)();
      continue;
    }
    const here = `${where}.${field.name}`;
    if (field.type.startsWith('[]')) {
      if (given === null) {
        out[field.name] = null;
        continue;
      }
      if (!Array.isArray(given)) throw new Error(`${here}: expected an array`);
      const inner = field.type.slice(2);
      out[field.name] = given.map((item: unknown, i) =>
        inner === 'struct'
          ? exampleMessage(field.fields ?? [], item as Record<string, unknown>, version, `${here}[${i}]`)
          : scalarFromJson(inner, item, `${here}[${i}]`),
      );
    } else if (field.type === 'struct') {
      out[field.name] = given === null ? null : exampleMessage(field.fields ?? [], given as Record<string, unknown>, version, here);
    } else {
      out[field.name] = scalarFromJson(field.type, given, here);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Annotated encoding: the same bytes as the codec, with a label for every field.
// ---------------------------------------------------------------------------------------------

interface Segment {
  bytes: Buffer;
  label: string;
}

class Annotator {
  readonly segments: Segment[] = [];

  constructor(
    readonly version: number,
    readonly flexible: boolean,
  ) {}

  emit(label: string, write: (w: Writer) => void): void {
    const writer = new Writer(16);
    write(writer);
    this.segments.push({ bytes: Buffer.from(writer.toBuffer()), label });
  }

  raw(label: string, bytes: Buffer): void {
    this.segments.push({ bytes, label });
  }

  bytes(): Buffer {
    return Buffer.concat(this.segments.map((s) => s.bytes));
  }
}

/** The same test the codec uses to leave a tagged field out. */
function isDefaultValue(value: unknown, defaultValue: unknown): boolean {
  if (value === undefined || value === defaultValue) return true;
  if (Array.isArray(value) && Array.isArray(defaultValue)) return value.length === 0 && defaultValue.length === 0;
  if (Buffer.isBuffer(value) && Buffer.isBuffer(defaultValue)) return value.equals(defaultValue);
  return false;
}

const timestampFields = new Set(['baseTimestamp', 'maxTimestamp', 'timestamp', 'logAppendTimeMs']);

function showInteger(name: string, value: number | bigint): string {
  if (name === 'errorCode') {
    const error = errorName(Number(value));
    return error === undefined ? String(value) : `${value} (${error})`;
  }
  if (timestampFields.has(name) && BigInt(value) > 1_000_000_000_000n && BigInt(value) < 10_000_000_000_000n) {
    return `${value} (${new Date(Number(value)).toISOString()})`;
  }
  return String(value);
}

function showText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(bytes) && /^[\x20-\x7e]*$/.test(text)) return JSON.stringify(text);
  return `0x${bytes.toString('hex')}`;
}

function lengthLabel(label: string, length: number, flexible: boolean): string {
  return flexible ? `${label}: length ${length} (sent as ${length}+1)` : `${label}: length ${length}`;
}

function walkScalar(a: Annotator, type: string, value: unknown, label: string, name: string): void {
  const flexible = a.flexible;
  switch (type) {
    case 'bool':
      return a.emit(`${label}: ${value ? 'true' : 'false'}`, (w) => w.bool(Boolean(value)));
    case 'int8':
      return a.emit(`${label}: ${showInteger(name, value as number)}`, (w) => w.int8(value as number));
    case 'int16':
      return a.emit(`${label}: ${showInteger(name, value as number)}`, (w) => w.int16(value as number));
    case 'uint16':
      return a.emit(`${label}: ${value as number}`, (w) => w.uint16(value as number));
    case 'int32':
      return a.emit(`${label}: ${showInteger(name, value as number)}`, (w) => w.int32(value as number));
    case 'int64':
      return a.emit(`${label}: ${showInteger(name, BigInt(value as bigint))}`, (w) => w.int64(BigInt(value as bigint)));
    case 'float64':
      return a.emit(`${label}: ${value as number}`, (w) => w.float64(value as number));
    case 'uuid':
      return a.emit(`${label}: ${(value as Buffer).toString('hex')}`, (w) => w.uuid(value as Buffer));
    case 'string': {
      if (value === null) return a.emit(`${label}: null`, (w) => (flexible ? w.uvarint(0) : w.int16(-1)));
      const bytes = Buffer.from(value as string, 'utf8');
      a.emit(lengthLabel(label, bytes.length, flexible), (w) => (flexible ? w.uvarint(bytes.length + 1) : w.int16(bytes.length)));
      if (bytes.length > 0) a.raw(`${label}: ${JSON.stringify(value)}`, bytes);
      return;
    }
    case 'bytes':
    case 'records': {
      if (value === null || value === undefined) return a.emit(`${label}: null`, (w) => (flexible ? w.uvarint(0) : w.int32(-1)));
      const bytes = value as Buffer;
      a.emit(lengthLabel(label, bytes.length, flexible), (w) => (flexible ? w.uvarint(bytes.length + 1) : w.int32(bytes.length)));
      if (bytes.length === 0) return;
      if (type === 'records') annotateRecords(a, bytes, label);
      else a.raw(`${label}: ${showText(bytes)}`, bytes);
      return;
    }
    default:
      throw new Error(`cannot annotate type ${type}`);
  }
}

function walkField(a: Annotator, field: FieldSpec, value: unknown, label: string): void {
  const nullable = inVersions(field.nullableVersions, a.version, false);
  if (field.type.startsWith('[]')) {
    const inner = field.type.slice(2);
    if (value === null) {
      a.emit(`${label}: null`, (w) => (a.flexible ? w.uvarint(0) : w.int32(-1)));
      return;
    }
    const list = (value ?? []) as unknown[];
    const items = `${list.length} ${list.length === 1 ? 'item' : 'items'}`;
    const countLabel = a.flexible ? `${label}: ${items} (sent as ${list.length}+1)` : `${label}: ${items}`;
    a.emit(countLabel, (w) => (a.flexible ? w.uvarint(list.length + 1) : w.int32(list.length)));
    list.forEach((item, i) => {
      if (inner === 'struct') walkStruct(a, field.fields ?? [], item as Message, `${label}[${i}].`);
      else walkScalar(a, inner, item, `${label}[${i}]`, field.name);
    });
    return;
  }
  if (field.type === 'struct') {
    if (nullable) {
      if (value === null || value === undefined) {
        a.emit(`${label}: null`, (w) => w.int8(-1));
        return;
      }
      a.emit(`${label}: present`, (w) => w.int8(1));
    }
    walkStruct(a, field.fields ?? [], (value ?? {}) as Message, `${label}.`);
    return;
  }
  walkScalar(a, field.type, value, label, field.name);
}

function walkStruct(a: Annotator, fields: FieldSpec[], value: Message, prefix: string): void {
  const tagged: { field: FieldSpec; value: unknown }[] = [];
  for (const field of fields) {
    if (!inVersions(field.versions, a.version)) continue;
    const fieldValue = value[field.name] === undefined ? defaultFor(field, a.version)() : value[field.name];
    if (a.flexible && field.tag !== undefined && inVersions(field.taggedVersions, a.version, false)) {
      if (!isDefaultValue(fieldValue, defaultFor(field, a.version)())) tagged.push({ field, value: fieldValue });
      continue;
    }
    walkField(a, field, fieldValue, `${prefix}${field.name}`);
  }
  if (!a.flexible) return;
  tagged.sort((x, y) => x.field.tag! - y.field.tag!);
  const where = prefix === '' ? 'body' : prefix.slice(0, -1);
  a.emit(`${where}: ${tagged.length} tagged ${tagged.length === 1 ? 'field' : 'fields'}`, (w) => w.uvarint(tagged.length));
  for (const { field, value: fieldValue } of tagged) {
    const sub = new Annotator(a.version, a.flexible);
    walkField(sub, field, fieldValue, `${prefix}${field.name}`);
    const size = sub.bytes().length;
    a.emit(`${prefix}${field.name}: tag ${field.tag}`, (w) => w.uvarint(field.tag!));
    a.emit(`${prefix}${field.name}: ${size} bytes follow`, (w) => w.uvarint(size));
    a.segments.push(...sub.segments);
  }
}

// ---------------------------------------------------------------------------------------------
// Record batches inside a records field.
// ---------------------------------------------------------------------------------------------

/** Bytes in a RecordBatch v2 header, up to and including the record count. */
export const batchHeaderBytes = 61;
const compressionNames = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

class Stepper {
  readonly reader: Reader;

  constructor(
    readonly a: Annotator,
    readonly data: Buffer,
    readonly prefix: string,
  ) {
    this.reader = new Reader(data);
  }

  step<T>(name: string, read: (r: Reader) => T, show: (v: T) => string = (v) => String(v)): T {
    const at = this.reader.offset;
    const value = read(this.reader);
    if (this.reader.failed) throw new Error(`${this.prefix}${name}: ${this.reader.failure}`);
    this.a.raw(`${this.prefix}${name}: ${show(value)}`, this.data.subarray(at, this.reader.offset));
    return value;
  }

  /** A varint length (-1 for null) followed by that many bytes. */
  lengthAndBytes(name: string): void {
    const length = this.step(`${name}Length`, (r) => r.varint());
    if (length < 0) return;
    const at = this.reader.offset;
    const bytes = this.reader.bytesOf(length);
    if (bytes === null) throw new Error(`${this.prefix}${name}: ${this.reader.failure}`);
    if (length > 0) this.a.raw(`${this.prefix}${name}: ${showText(bytes)}`, this.data.subarray(at, this.reader.offset));
  }
}

function attributesText(attributes: number): string {
  const parts = [`compression=${compressionNames[attributes & 7] ?? attributes & 7}`];
  parts.push(`timestampType=${attributes & 8 ? 'LogAppendTime' : 'CreateTime'}`);
  if (attributes & 16) parts.push('transactional');
  if (attributes & 32) parts.push('control');
  if (attributes & 64) parts.push('deleteHorizon');
  return `0x${attributes.toString(16).padStart(4, '0')} (${parts.join(', ')})`;
}

function annotateBatch(a: Annotator, batch: Buffer, prefix: string): void {
  const s = new Stepper(a, batch, prefix);
  s.step('baseOffset', (r) => r.int64());
  s.step('batchLength', (r) => r.int32(), (v) => `${v} (bytes after this field)`);
  s.step('partitionLeaderEpoch', (r) => r.int32());
  const magic = s.step('magic', (r) => r.int8());
  if (magic !== 2) throw new Error(`${prefix}: only RecordBatch v2 (magic 2) can be annotated`);
  const expected = crc32c(batch.subarray(21)) >>> 0;
  s.step(
    'crc',
    (r) => r.uint32(),
    (v) => {
      if (v !== expected) throw new Error(`${prefix}crc: 0x${v.toString(16)} is wrong, the CRC-32C is 0x${expected.toString(16)}`);
      return `0x${v.toString(16).padStart(8, '0')} (CRC-32C of the ${batch.length - 21} bytes from attributes to the end)`;
    },
  );
  const attributes = s.step('attributes', (r) => r.int16(), attributesText);
  s.step('lastOffsetDelta', (r) => r.int32());
  s.step('baseTimestamp', (r) => r.int64(), (v) => showInteger('baseTimestamp', v));
  s.step('maxTimestamp', (r) => r.int64(), (v) => showInteger('maxTimestamp', v));
  s.step('producerId', (r) => r.int64());
  s.step('producerEpoch', (r) => r.int16());
  s.step('baseSequence', (r) => r.int32());
  const count = s.step('recordsCount', (r) => r.int32());
  if ((attributes & 7) !== 0) {
    a.raw(`${prefix}records: ${compressionNames[attributes & 7]}-compressed records`, batch.subarray(s.reader.offset));
    return;
  }
  for (let i = 0; i < count; i++) {
    const rs = new Stepper(a, batch, `${prefix}record[${i}].`);
    rs.reader.offset = s.reader.offset;
    rs.step('length', (r) => r.varint(), (v) => `${v} (bytes after this field)`);
    rs.step('attributes', (r) => r.int8());
    rs.step('timestampDelta', (r) => r.varlong());
    rs.step('offsetDelta', (r) => r.varint());
    rs.lengthAndBytes('key');
    rs.lengthAndBytes('value');
    const headers = rs.step('headersCount', (r) => r.varint());
    for (let h = 0; h < headers; h++) {
      const hs = new Stepper(a, batch, `${prefix}record[${i}].header[${h}].`);
      hs.reader.offset = rs.reader.offset;
      hs.lengthAndBytes('key');
      hs.lengthAndBytes('value');
      rs.reader.offset = hs.reader.offset;
    }
    s.reader.offset = rs.reader.offset;
  }
  if (s.reader.offset !== batch.length) throw new Error(`${prefix}: ${batch.length - s.reader.offset} bytes after the last record`);
}

function annotateRecords(a: Annotator, data: Buffer, label: string): void {
  let at = 0;
  for (let n = 0; at < data.length; n++) {
    const remaining = data.length - at;
    const end = remaining >= 12 ? at + 12 + data.readInt32BE(at + 8) : Infinity;
    if (remaining < batchHeaderBytes || end > data.length) {
      a.raw(`${label}: partial batch of ${remaining} bytes (clients skip it)`, data.subarray(at));
      return;
    }
    annotateBatch(a, data.subarray(at, end), `${label}.batch[${n}].`);
    at = end;
  }
}

// ---------------------------------------------------------------------------------------------
// Frames and hex dumps.
// ---------------------------------------------------------------------------------------------

function annotateMessage(api: ApiEntry, which: 'request' | 'response', version: number, value: Message): { segments: Segment[]; flexible: boolean } {
  const flexible = api.isFlexible(version);
  const annotated = new Annotator(version, flexible);
  walkStruct(annotated, api.spec[which].fields, value, '');
  const writer = new Writer();
  (which === 'request' ? api.request(version) : api.response(version)).encode(writer, value);
  const codecBytes = writer.toBuffer();
  if (!codecBytes.equals(annotated.bytes())) {
    throw new Error(`${api.name} v${version} ${which}: the annotated bytes differ from the codec output`);
  }
  return { segments: annotated.segments, flexible };
}

function annotateBody(api: ApiEntry, which: 'request' | 'response'): { segments: Segment[]; flexible: boolean } {
  const example = api.spec.example;
  const value = exampleMessage(api.spec[which].fields, example[which], example.version, `${api.name} example ${which}`);
  return annotateMessage(api, which, example.version, value);
}

function stringSegments(a: Annotator, label: string, value: string | null): void {
  if (value === null) return a.emit(`${label}: null`, (w) => w.int16(-1));
  const bytes = Buffer.from(value, 'utf8');
  a.emit(`${label}: length ${bytes.length}`, (w) => w.int16(bytes.length));
  if (bytes.length > 0) a.raw(`${label}: ${JSON.stringify(value)}`, bytes);
}

function framed(header: Annotator, body: Segment[]): Segment[] {
  const size = header.bytes().length + body.reduce((n, s) => n + s.bytes.length, 0);
  const sizeSegment = new Annotator(0, false);
  sizeSegment.emit(`size: ${size} (bytes after this field)`, (w) => w.int32(size));
  return [...sizeSegment.segments, ...header.segments, ...body];
}

function requestFrame(api: ApiEntry): { segments: Segment[]; headerVersion: number } {
  const example = api.spec.example;
  const body = annotateBody(api, 'request');
  const header = new Annotator(example.version, false);
  header.emit(`header.requestApiKey: ${api.key} (${api.name})`, (w) => w.int16(api.key));
  header.emit(`header.requestApiVersion: ${example.version}`, (w) => w.int16(example.version));
  header.emit(`header.correlationId: ${example.correlationId}`, (w) => w.int32(example.correlationId));
  stringSegments(header, 'header.clientId', example.clientId);
  if (body.flexible) header.emit('header: 0 tagged fields', (w) => w.uvarint(0));
  const check = new Writer();
  writeRequestHeader(check, { apiKey: api.key, apiVersion: example.version, correlationId: example.correlationId, clientId: example.clientId }, body.flexible);
  if (!check.toBuffer().equals(header.bytes())) throw new Error(`${api.name}: the annotated request header differs from headers.ts`);
  return { segments: framed(header, body.segments), headerVersion: body.flexible ? 2 : 1 };
}

function responseFrame(api: ApiEntry, body = annotateBody(api, 'response'), correlationId = api.spec.example.correlationId): { segments: Segment[]; headerVersion: number } {
  const headerFlexible = responseHeaderIsFlexible(api.key, body.flexible);
  const header = new Annotator(0, false);
  header.emit(`header.correlationId: ${correlationId}`, (w) => w.int32(correlationId));
  if (headerFlexible) header.emit('header: 0 tagged fields', (w) => w.uvarint(0));
  const check = new Writer();
  writeResponseHeader(check, correlationId, headerFlexible);
  if (!check.toBuffer().equals(header.bytes())) throw new Error(`${api.name}: the annotated response header differs from headers.ts`);
  return { segments: framed(header, body.segments), headerVersion: headerFlexible ? 1 : 0 };
}

const bytesPerLine = 16;

/** An offset / hex / label listing; long fields continue on following lines. */
export function hexDump(segments: { bytes: Buffer; label: string }[]): string {
  const hexWidth = bytesPerLine * 3 - 1;
  const lines = [`${'offset'.padEnd(6)}  ${'bytes'.padEnd(hexWidth)}  field`];
  let offset = 0;
  for (const { bytes, label } of segments) {
    for (let i = 0; i < bytes.length; i += bytesPerLine) {
      const chunk = bytes.subarray(i, i + bytesPerLine);
      const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      lines.push(`${String(offset + i).padStart(6)}  ${hex.padEnd(hexWidth)}  ${i === 0 ? label : '...'}`.trimEnd());
    }
    offset += bytes.length;
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Field tables.
// ---------------------------------------------------------------------------------------------

interface Row {
  path: string;
  type: string;
  defaultText: string;
  doc: string;
}

function scalarWireType(type: string, nullable: boolean, flexible: boolean): string {
  switch (type) {
    case 'string':
    case 'bytes':
      return `${flexible ? 'compact ' : ''}${nullable ? 'nullable ' : ''}${type}`;
    case 'records':
      return flexible ? 'compact records' : 'records';
    default:
      return type;
  }
}

function wireType(field: FieldSpec, version: number, flexible: boolean): string {
  const nullable = inVersions(field.nullableVersions, version, false);
  if (field.type.startsWith('[]')) {
    const inner = field.type.slice(2);
    const element = inner === 'struct' ? 'struct' : scalarWireType(inner, false, flexible);
    return `${flexible ? 'compact ' : ''}${nullable ? 'nullable ' : ''}array of ${element}`;
  }
  if (field.type === 'struct') return nullable ? 'nullable struct' : 'struct';
  return scalarWireType(field.type, nullable, flexible);
}

function defaultText(field: FieldSpec): string {
  if (field.default === undefined) return '';
  if (field.default === null) return 'null';
  if (typeof field.default === 'string' && field.type === 'string') return JSON.stringify(field.default);
  return String(field.default);
}

function rowsFor(fields: FieldSpec[], version: number, flexible: boolean, prefix: string): Row[] {
  const rows: Row[] = [];
  const tags: string[] = [];
  for (const field of fields) {
    if (!inVersions(field.versions, version)) continue;
    const tagged = flexible && field.tag !== undefined && inVersions(field.taggedVersions, version, false);
    const type = wireType(field, version, flexible);
    rows.push({ path: `${prefix}${field.name}`, type: tagged ? `tag ${field.tag}: ${type}` : type, defaultText: defaultText(field), doc: field.doc });
    if (tagged) tags.push(`${field.tag} = ${field.name}`);
    if (isStructType(field.type)) {
      rows.push(...rowsFor(field.fields ?? [], version, flexible, `${prefix}${field.name}${field.type.startsWith('[]') ? '[]' : ''}.`));
    }
  }
  if (flexible) {
    const known = tags.length === 0 ? 'No tags are defined here' : `Tags defined here: ${tags.join(', ')}`;
    rows.push({
      path: `${prefix}_tagged fields_`,
      type: 'tagged fields',
      defaultText: '',
      doc: `${known}; tagged fields equal to their default are left out. Readers skip tags they do not know.`,
    });
  }
  return rows;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function pathCell(path: string): string {
  return path.endsWith('_tagged fields_') ? `${path.slice(0, -'_tagged fields_'.length)}*(tagged fields)*` : `\`${path}\``;
}

function table(rows: Row[]): string {
  if (rows.length === 0) return '_(empty body: no fields)_';
  const lines = ['| Field | Type | Default | Meaning |', '| --- | --- | --- | --- |'];
  for (const row of rows) lines.push(`| ${pathCell(row.path)} | ${cell(row.type)} | ${cell(row.defaultText)} | ${cell(row.doc)} |`);
  return lines.join('\n');
}

function rangeText(min: number, max: number): string {
  return min === max ? `v${min}` : `v${min}–v${max}`;
}

/** Consecutive versions whose layout is identical, with that layout's rows. */
function layoutGroups(api: ApiEntry, which: 'request' | 'response'): { min: number; max: number; rows: Row[] }[] {
  const groups: { min: number; max: number; rows: Row[]; key: string }[] = [];
  for (let version = api.minVersion; version <= api.maxVersion; version++) {
    const rows = rowsFor(api.spec[which].fields, version, api.isFlexible(version), '');
    const key = JSON.stringify(rows);
    const last = groups[groups.length - 1];
    if (last && last.key === key) last.max = version;
    else groups.push({ min: version, max: version, rows, key });
  }
  return groups;
}

function headerVersions(api: ApiEntry): { request: string; response: string } {
  const parts = (pick: (flexible: boolean) => number) => {
    const out: { min: number; max: number; header: number }[] = [];
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      const header = pick(api.isFlexible(v));
      const last = out[out.length - 1];
      if (last && last.header === header) last.max = v;
      else out.push({ min: v, max: v, header });
    }
    return out.length === 1 ? `v${out[0]!.header}` : out.map((p) => `v${p.header} (${rangeText(p.min, p.max)})`).join(', ');
  };
  return {
    request: parts((flexible) => (flexible ? 2 : 1)),
    response: parts((flexible) => (responseHeaderIsFlexible(api.key, flexible) ? 1 : 0)),
  };
}

function flexibleText(api: ApiEntry): string {
  const flexible: number[] = [];
  for (let v = api.minVersion; v <= api.maxVersion; v++) if (api.isFlexible(v)) flexible.push(v);
  if (flexible.length === 0) {
    const kafka = parseVersions(api.spec.flexibleVersions);
    return kafka.min > kafka.max ? 'none' : `none (Kafka's first flexible version is v${kafka.min})`;
  }
  return rangeText(flexible[0]!, flexible[flexible.length - 1]!);
}

function anchor(api: ApiEntry): string {
  return `${api.name.toLowerCase()}-key-${api.key}`;
}

// ---------------------------------------------------------------------------------------------
// The document.
// ---------------------------------------------------------------------------------------------

const intro = `# Inkwell wire protocol

<!-- Generated by \`npm run spec\` (src/protocol/spec-doc.ts) from protocol-spec/apis/*.json and
src/protocol/errors.ts. Do not edit by hand: the test suite fails when this file differs from
what the generator produces. -->

Inkwell speaks the Apache Kafka wire protocol. This document describes exactly the part of it
that Inkwell implements, completely enough to write a client from it alone: how requests and
responses are framed, the headers, every primitive encoding, the record batch format, the error
codes, and for each API its versions, fields and a worked example shown byte by byte.

Field names are ours, in camelCase; each corresponds to the Kafka field of the same name in
PascalCase (\`topicData\` is Kafka's \`TopicData\`). Every integer on the wire is big-endian
(most significant byte first) unless it is a varint.`;

const framing = `## 1. Connections and framing

A client opens a TCP connection (with TLS when the listener requires it) and writes requests; the
broker writes one response per request, **in the order the requests were sent**. A client may
send several requests without waiting (pipelining) and matches responses to requests by their
correlation id. The only request that gets no response is a Produce with \`acks\` = 0.

Every request and every response is one *frame*:

| Bytes | Field | Meaning |
| --- | --- | --- |
| 4 | size | int32: the number of bytes that follow (header + body), not counting these 4 |
| size | header + body | a request header and request body, or a response header and response body |

The broker refuses a frame whose size is negative or larger than \`socket.request.max.bytes\`
(default 104857600 bytes, 100 MiB) by closing the connection without reading it. It also closes
the connection, without a response, when a request's API key is not one it implements, when the
version is outside the range it advertises (except for ApiVersions, see §3), or when a request
body cannot be decoded. An error that concerns only part of a request (one topic, one partition)
is reported in the response's error code for that part, and the connection stays open.`;

const headers = `## 2. Headers

### Request header

| Field | Type | Header v1 | Header v2 | Meaning |
| --- | --- | --- | --- | --- |
| requestApiKey | int16 | yes | yes | Which API this is (the "Key" column below). |
| requestApiVersion | int16 | yes | yes | Which version of that API's request and response layouts to use. |
| correlationId | int32 | yes | yes | Any value chosen by the client; the response carries it back. |
| clientId | nullable string | yes | yes | The client's name for logs and quotas, or null (length -1). Always the classic int16-length form, **never** compact, even in header v2. |
| *(tagged fields)* | tagged fields | no | yes | A tagged-field section; no header tags are defined, so clients send a single 0x00. |

Request header v0 (no clientId) exists only for one old Kafka API version that Inkwell does
not implement.

### Response header

| Field | Type | Header v0 | Header v1 | Meaning |
| --- | --- | --- | --- | --- |
| correlationId | int32 | yes | yes | The correlationId of the request this answers. |
| *(tagged fields)* | tagged fields | no | yes | A tagged-field section (Inkwell sends 0x00). |

### Which header goes with which version

Each API version is either *flexible* or not (see the table in §7). A request whose version is
flexible uses request header v2 and its response uses response header v1; other versions use
request header v1 and response header v0.

**Exception:** an ApiVersions response always uses response header v0, even when the request
(ApiVersions v3 and later) was flexible and used request header v2. A client that does not yet
know which versions the broker speaks can therefore always read the reply.`;

const negotiation = `## 3. Version negotiation

1. After connecting, the client sends an ApiVersions request, normally with the highest
   ApiVersions version it knows (v3 uses request header v2 and compact encodings).
2. The broker answers with the list of API keys it implements and, for each, the lowest and the
   highest version it supports. The client then uses, for each API, the highest version that both
   sides support; if the two ranges do not overlap, that API cannot be used with this broker.
3. If the broker does not know the ApiVersions version it was sent (for example a newer client
   sends v4 to Inkwell, which implements v0–v3), it still answers, with response header v0 and a
   **v0 response body**: errorCode 35 (UNSUPPORTED_VERSION) and an apiKeys list that contains at
   least ApiVersions' own entry (key 18 with its min and max version). The client then retries
   with the highest ApiVersions version in that range. Because the v0 layout is the oldest and
   simplest (int16 error code, int32 array length, three int16 per entry), any client can read it.
4. Version ranges are valid for the connection they were learned on. A request for an API key or
   version outside the advertised ranges makes the broker close the connection (§1).`;

/** The answer to an ApiVersions request of a version the broker does not know. */
function fallbackExample(registry: ApiRegistry): string {
  const api = registry.get(apiVersionsKey);
  if (!api) return '';
  const value: Message = { errorCode: 35, apiKeys: [{ apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion }] };
  const filled = exampleMessage(api.spec.response.fields, {}, 0);
  const frame = responseFrame(api, annotateMessage(api, 'response', 0, { ...filled, ...value }), 1);
  return [
    `For example, the whole response frame to an ApiVersions request with correlation id 1 and a`,
    `version above v${api.maxVersion}:`,
    '',
    '```text',
    hexDump(frame.segments),
    '```',
  ].join('\n');
}

const primitives = `## 4. Primitive types

| Type | Encoding |
| --- | --- |
| bool | 1 byte: 0 is false, 1 is true (readers should treat any non-zero byte as true). |
| int8 | 1 byte, two's complement. |
| int16 | 2 bytes, big-endian two's complement. |
| uint16 | 2 bytes, big-endian unsigned. |
| int32 | 4 bytes, big-endian two's complement. |
| uint32 | 4 bytes, big-endian unsigned (only the record batch CRC uses it). |
| int64 | 8 bytes, big-endian two's complement. |
| float64 | 8 bytes, IEEE 754 double, big-endian. |
| uuid | 16 raw bytes; all zeros means "no id". |
| unsigned varint | 7 bits per byte, least significant group first; the high bit of each byte is 1 when another byte follows. At most 5 bytes (32 bits). Example: 300 is \`ac 02\`. |
| varint | A signed 32-bit integer zigzag-mapped to unsigned, \`(n << 1) ^ (n >> 31)\` (0→0, -1→1, 1→2, -2→3, ...), then written as an unsigned varint. |
| varlong | The same with 64 bits: \`(n << 1) ^ (n >> 63)\`, at most 10 bytes. |
| string | int16 length N (N ≥ 0), then N bytes of UTF-8. |
| nullable string | Like string; length -1 (\`ff ff\`) with no bytes after it means null. |
| compact string | Unsigned varint N+1, then N bytes of UTF-8 (\`01\` is the empty string). |
| compact nullable string | Like compact string; \`00\` means null. |
| bytes | int32 length N, then N bytes. |
| nullable bytes | Like bytes; length -1 means null. |
| compact bytes | Unsigned varint N+1, then N bytes. |
| compact nullable bytes | Like compact bytes; \`00\` means null. |
| records | Nullable bytes whose content is zero or more record batches back to back (§5). In flexible versions written as compact nullable bytes ("compact records"). |
| array of T | int32 count N, then N elements of T one after another. |
| nullable array of T | Like array; count -1 means null. |
| compact array of T | Unsigned varint N+1, then N elements; \`00\` means null (only allowed where the array is nullable). |
| struct | Its fields one after another, in the order listed, with nothing before them. In flexible versions every struct (the whole body, and each element of an array of structs) ends with its own tagged-field section. |
| nullable struct | An int8 -1 for null, or 1 followed by the struct. |
| tagged fields | Unsigned varint count, then for each field: unsigned varint tag, unsigned varint size in bytes, and that many bytes holding the field's value in its usual encoding. Tags appear in strictly increasing order. A field equal to its default is normally left out, so the section is usually the single byte \`00\`. Readers must skip tags they do not know (using the size). |

Non-flexible versions use string, bytes and array; flexible versions use the compact forms and
add tagged-field sections. Within one message every field follows the same rule, except the
request header's clientId (always a classic nullable string).`;

const records = `## 5. Record batches

A \`records\` field holds record batches back to back with no count in front: a reader takes
batches until the bytes run out. Inkwell stores and serves only RecordBatch v2 (magic 2), and
accepts only it in Produce v3 and later; Produce v0–v2 may instead carry a legacy message set
(see the end of this section), which the broker converts to RecordBatch v2. In a
Fetch response the last batch of a partition may be cut short by the size limits; a client must
skip a trailing batch that is incomplete (fewer than 61 bytes left, or fewer than 12 +
batchLength). A batch may also start before the fetch offset asked for; the client skips the
records below it.

### RecordBatch v2

| Offset | Field | Type | Meaning |
| --- | --- | --- | --- |
| 0 | baseOffset | int64 | Offset of the first record. Producers send 0; the broker writes the real offset when it appends the batch. |
| 8 | batchLength | int32 | Bytes in the batch after this field (the whole batch is 12 + batchLength bytes). |
| 12 | partitionLeaderEpoch | int32 | Leader epoch at append time, written by the broker; producers send -1. |
| 16 | magic | int8 | Format version: 2. Read it before interpreting anything after batchLength. |
| 17 | crc | uint32 | CRC-32C (Castagnoli polynomial, as in iSCSI) of every byte from attributes (offset 21) to the end of the batch. |
| 21 | attributes | int16 | Flags, see below. |
| 23 | lastOffsetDelta | int32 | offsetDelta of the last record (normally recordsCount − 1). |
| 27 | baseTimestamp | int64 | Timestamp (ms since the Unix epoch) of the first record; record timestamps are relative to it. |
| 35 | maxTimestamp | int64 | The largest timestamp in the batch; with LogAppendTime, the broker's append time. |
| 43 | producerId | int64 | Idempotent/transactional producer id, or -1. |
| 51 | producerEpoch | int16 | Epoch of that producer id, or -1. |
| 53 | baseSequence | int32 | Sequence number of the first record, or -1; record i has baseSequence + its offsetDelta. |
| 57 | recordsCount | int32 | Number of records in the batch. |
| 61 | records | Record... | The records, back to back; when compressed, one compressed stream holding them all (recordsCount still counts the records). |

The CRC does **not** cover baseOffset, batchLength, partitionLeaderEpoch or magic, so the
broker can assign baseOffset and partitionLeaderEpoch without recomputing it. It does cover
attributes and maxTimestamp, so a broker that switches a batch to LogAppendTime must recompute
the CRC. The CRC-32C of the ASCII bytes \`123456789\` is 0xe3069283.

Attributes (int16):

| Bits | Meaning |
| --- | --- |
| 0–2 | Compression of the records section: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (zstd needs Produce v7+ / Fetch v10+). |
| 3 | Timestamp type: 0 CreateTime (set by the producer), 1 LogAppendTime (set by the broker; use maxTimestamp as every record's timestamp). |
| 4 | Transactional: the batch belongs to a transaction. |
| 5 | Control batch: holds one control record (a transaction marker), not application data. Consumers must not deliver it. |
| 6 | Delete horizon: set by log compaction; baseTimestamp then holds the delete horizon. Producers send 0. |
| 7–15 | Unused; must be 0. |

### Record

| Field | Type | Meaning |
| --- | --- | --- |
| length | varint | Bytes in the record after this field. |
| attributes | int8 | Unused; 0. |
| timestampDelta | varlong | Record timestamp − baseTimestamp. |
| offsetDelta | varint | Record offset − baseOffset. |
| keyLength | varint | Key length in bytes, or -1 for a null key. |
| key | bytes | keyLength bytes. |
| valueLength | varint | Value length in bytes, or -1 for a null value (a tombstone on compacted topics). |
| value | bytes | valueLength bytes. |
| headersCount | varint | Number of headers. |
| headers | Header... | The headers, back to back. |

Header: \`keyLength\` (varint, never -1), \`key\` (UTF-8), \`valueLength\` (varint, -1 for
null), \`value\` (bytes).

A control record's key is int16 version (0) followed by int16 type (0 abort, 1 commit); its
value is int16 version (0) followed by int32 coordinator epoch.

### Legacy message sets (magic 0 and 1, Produce v0–v2 only)

Before RecordBatch v2, a \`records\` field held a *message set*: entries back to back, each one
message. Produce v0 and v1 clients send magic 0, Produce v2 clients magic 1. Inkwell never
sends this format; it converts what it receives (below).

| Offset | Field | Type | Meaning |
| --- | --- | --- | --- |
| 0 | offset | int64 | Producers send 0 (inside a magic-1 wrapper: 0, 1, 2 … per inner message). |
| 8 | messageSize | int32 | Bytes in the message after this field (the entry is 12 + messageSize bytes). |
| 12 | crc | uint32 | CRC-32 (IEEE 802.3 polynomial, as zlib's \`crc32\`; **not** CRC-32C) of every byte from magic to the end of the message. The CRC-32 of the ASCII bytes \`123456789\` is 0xcbf43926. |
| 16 | magic | int8 | 0 or 1 (the same position as a v2 batch's magic, so a reader can tell the formats apart). |
| 17 | attributes | int8 | Bits 0–2: compression (0 none, 1 gzip, 2 snappy, 3 lz4; zstd is not allowed). Bit 3 (magic 1): timestamp type, which producers must leave 0 (CreateTime). |
| 18 | timestamp | int64 | Magic 1 only: ms since the Unix epoch, or -1 for none. |
| 18 / 26 | keyLength | int32 | Key length in bytes, or -1 for a null key; the key follows. |
| | valueLength | int32 | Value length in bytes, or -1 for a null value; the value follows and ends the message. |

A message with compression bits set is a *wrapper*: its value is the compressed bytes of an
inner message set, whose messages are uncompressed, have the wrapper's magic and carry their own
CRCs. Inside a magic-1 wrapper the inner offsets are relative (0, 1, 2 …) and the wrapper's
offset is the last inner offset (some producers send 0). A compressed wrapper must be the only
entry of its set. Snappy is raw snappy or the xerial framing; LZ4 is the LZ4 frame format, but
magic-0 producers compute the frame's header checksum over the frame magic as well (an old Kafka
bug), so for magic 0 that byte is ignored.

The broker checks the set (a trailing partial entry, a wrong CRC, a length that does not fit, an
unknown magic or codec: CORRUPT_MESSAGE; an entry over message.max.bytes: MESSAGE_TOO_LARGE;
mixed magics, a second entry beside a wrapper, a zstd or empty wrapper, a compressed inner
message: INVALID_RECORD; the LogAppendTime bit set by the producer: INVALID_TIMESTAMP) and then
converts all its records, in order, to one RecordBatch v2: offset deltas 0 to n−1, the magic-1
timestamps (magic-0 records get -1, meaning none), no headers, producerId -1, producerEpoch -1,
baseSequence -1, compressed with the codec the producer used. That batch is then appended like
any other, so message.max.bytes applies to it as well.`;

function errorSection(specs: ApiSpec[]): string {
  const usedBy = new Map<string, string[]>();
  for (const spec of specs) for (const name of spec.errors) (usedBy.get(name) ?? usedBy.set(name, []).get(name)!).push(spec.name);
  const lines = [
    '## 6. Error codes',
    '',
    'Every response reports problems through int16 error codes, per partition, per topic or for the',
    'whole request depending on the API. 0 means success. A *retriable* error is one where sending the',
    'same request again (usually after refreshing metadata) may succeed. The last column lists the APIs',
    'in this document that name the error.',
    '',
    '| Code | Name | Retriable | Meaning | APIs |',
    '| ---: | --- | --- | --- | --- |',
  ];
  for (const info of allErrors()) {
    lines.push(`| ${info.code} | ${info.name} | ${info.retriable ? 'yes' : 'no'} | ${cell(info.description)} | ${(usedBy.get(info.name) ?? []).join(', ')} |`);
  }
  return lines.join('\n');
}

function apiTable(apis: ApiEntry[]): string {
  const lines = [
    '## 7. APIs',
    '',
    '| Key | API | Versions | Flexible versions | Request header | Response header |',
    '| ---: | --- | --- | --- | --- | --- |',
  ];
  for (const api of apis) {
    const h = headerVersions(api);
    lines.push(`| ${api.key} | [${api.name}](#${anchor(api)}) | ${rangeText(api.minVersion, api.maxVersion)} | ${flexibleText(api)} | ${h.request} | ${h.response} |`);
  }
  return lines.join('\n');
}

function apiSection(api: ApiEntry): string {
  const spec = api.spec;
  const out: string[] = [];
  out.push(`### ${api.name} (key ${api.key})`, '');
  out.push(spec.doc, '');
  const h = headerVersions(api);
  out.push(`Versions ${rangeText(api.minVersion, api.maxVersion)}; flexible: ${flexibleText(api)}. Request header ${h.request}; response header ${h.response}.`, '');
  out.push('**Version notes**', '');
  const notes = Object.entries(spec.versionNotes).sort((a, b) => Number(a[0]) - Number(b[0]));
  for (const [version, note] of notes) out.push(`- v${version}: ${note}`);
  out.push('', '**Errors**: ' + spec.errors.map((name) => `${name}`).join(', ') + '.', '');
  for (const which of ['request', 'response'] as const) {
    for (const group of layoutGroups(api, which)) {
      out.push(`**${which === 'request' ? 'Request' : 'Response'} ${rangeText(group.min, group.max)}**`, '');
      out.push(table(group.rows), '');
    }
  }
  const example = spec.example;
  const request = requestFrame(api);
  const response = responseFrame(api);
  out.push(`**Example (v${example.version})**`, '');
  out.push(`Request frame, with request header v${request.headerVersion}:`, '');
  out.push('```text', hexDump(request.segments), '```', '');
  out.push(`Response frame, with response header v${response.headerVersion}:`, '');
  out.push('```text', hexDump(response.segments), '```', '');
  return out.join('\n');
}

/** The whole of SPEC.md, from the definitions given (by default those in protocol-spec/apis). */
export function renderSpec(specs: ApiSpec[] = loadSpecs()): string {
  const registry = new ApiRegistry(specs);
  const apis = registry.all();
  for (const api of apis) {
    const { min, max } = parseVersions(api.spec.versions);
    if (api.spec.example.version < min || api.spec.example.version > max) {
      throw new Error(`${api.name}: example version ${api.spec.example.version} is outside ${api.spec.versions}`);
    }
  }
  const contents = [
    '## Contents',
    '',
    '1. [Connections and framing](#1-connections-and-framing)',
    '2. [Headers](#2-headers)',
    '3. [Version negotiation](#3-version-negotiation)',
    '4. [Primitive types](#4-primitive-types)',
    '5. [Record batches](#5-record-batches)',
    '6. [Error codes](#6-error-codes)',
    '7. [APIs](#7-apis)',
    ...apis.map((api) => `   - [${api.name} (key ${api.key})](#${anchor(api)})`),
  ].join('\n');
  const readingExamples = [
    'Each API below lists its purpose, what changed at each version, the errors it can return, the',
    'request and response layouts (one table per run of versions with the same layout; fields are',
    'listed in wire order and nested fields are shown with their full path, `[]` marking an array',
    'element), and a worked example. The example is encoded by the same codecs the broker uses and',
    'shown as a complete frame: the offset of each field in decimal, its bytes in hex, and what they',
    `mean. The "Default" column gives the value a reader assumes when the field is absent from a`,
    'version (or, for a tagged field, not sent).',
  ].join('\n');
  const parts = [
    intro,
    contents,
    framing,
    headers,
    negotiation,
    fallbackExample(registry),
    primitives,
    records,
    errorSection(specs),
    apiTable(apis),
    readingExamples,
    ...apis.map(apiSection),
  ];
  return parts.join('\n\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

/** Where SPEC.md lives. */
export function specDocumentPath(): string {
  return join(specDirectory(), 'SPEC.md');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const path = specDocumentPath();
  writeFileSync(path, renderSpec());
  console.log(`wrote ${path}`);
}

