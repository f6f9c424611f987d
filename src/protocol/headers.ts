/**
 * Request and response headers. Request header v1 (non-flexible APIs) is api key, api version,
 * correlation id and a nullable client id; v2 (flexible versions) adds a tagged-field section.
 * Response header v0 is the correlation id alone; v1 adds a tagged-field section. ApiVersions
 * responses always use header v0, so that a client can read the reply whatever version it asked.
 */
import { Reader } from './reader.js';
import { Writer } from './writer.js';

export const apiVersionsKey = 18;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads the fixed part of the request header (shared by every header version). */
export function readRequestHeaderStart(reader: Reader): RequestHeader {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.nullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Skips the tagged-field section of a header v2 (no header tags are defined that we use). */
export function skipTaggedFields(reader: Reader): void {
  const count = reader.uvarint();
  if (count > reader.remaining) {
    reader.fail(`${count} header tagged fields cannot fit`);
    return;
  }
  for (let i = 0; i < count && !reader.failed; i++) {
    reader.uvarint();
    const size = reader.uvarint();
    reader.bytesOf(size);
  }
}

export function writeRequestHeader(writer: Writer, header: RequestHeader, flexible: boolean): void {
  writer.int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId).nullableString(header.clientId);
  if (flexible) writer.uvarint(0);
}

/** Whether the response to (apiKey, flexible request) uses header v1. */
export function responseHeaderIsFlexible(apiKey: number, requestFlexible: boolean): boolean {
  return requestFlexible && apiKey !== apiVersionsKey;
}

export function writeResponseHeader(writer: Writer, correlationId: number, flexible: boolean): void {
  writer.int32(correlationId);
  if (flexible) writer.uvarint(0);
}
