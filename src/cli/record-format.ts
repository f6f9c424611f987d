/**
 * Rendering consumed records for `inkwell consume`: a --format string with kcat-like tokens, or
 * one JSON object per record. Keys, values and header values print as UTF-8; null prints as
 * nothing in a format and as null in JSON.
 */
import type { ConsumerRecord } from '../client/consumer.js';
import { UsageError } from './errors.js';

type Piece = string | ((record: ConsumerRecord) => string);

function text(data: Buffer | null): string {
  return data === null ? '' : data.toString('utf8');
}

const tokens: Readonly<Record<string, (record: ConsumerRecord) => string>> = {
  t: (record) => record.topic,
  p: (record) => String(record.partition),
  o: (record) => String(record.offset),
  k: (record) => text(record.key),
  v: (record) => text(record.value),
  h: (record) => record.headers.map((header) => `${header.key}=${text(header.value)}`).join(','),
  T: (record) => String(record.timestamp),
};

const escapes: Readonly<Record<string, string>> = { n: '\n', t: '\t', '\\': '\\' };

/** Compiles a format such as '%t %p %o %k %v' into a renderer; an unknown token is a usage error. */
export function compileFormat(format: string): (record: ConsumerRecord) => string {
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const char = format[i]!;
    const next = format[i + 1];
    if (char === '%' && next !== undefined) {
      i++;
      if (next === '%') literal += '%';
      else if (tokens[next] !== undefined) {
        if (literal.length > 0) pieces.push(literal);
        literal = '';
        pieces.push(tokens[next]);
      } else throw new UsageError(`consume: unknown format token %${next} (known: %t %p %o %k %v %h %T %%)`);
    } else if (char === '\\' && next !== undefined && escapes[next] !== undefined) {
      i++;
      literal += escapes[next];
    } else literal += char;
  }
  if (literal.length > 0) pieces.push(literal);
  return (record) => {
    let out = '';
    for (const piece of pieces) out += typeof piece === 'string' ? piece : piece(record);
    return out;
  };
}

/** One record as a JSON line: topic, partition, offset, timestamp, key, value, headers (an object; a repeated key keeps its last value). */
export function recordAsJson(record: ConsumerRecord): string {
  const headers: Record<string, string | null> = {};
  for (const header of record.headers) headers[header.key] = header.value === null ? null : header.value.toString('utf8');
  return JSON.stringify({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key === null ? null : record.key.toString('utf8'),
    value: record.value === null ? null : record.value.toString('utf8'),
    headers,
  });
}
