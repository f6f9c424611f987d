/**
 * Compiles a message definition from protocol-spec/ into a decoder and an encoder for one
 * version. This is the only place the wire layout of API bodies is known: every API's codec is
 * built from its definition at start-up, so the spec, the codecs and the ApiVersions table
 * cannot drift apart.
 */
import type { FieldSpec, MessageSpec } from './spec-types.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { inVersions } from './versions.js';

/** Tagged fields we do not know, kept so that they survive a decode/encode round trip. */
export type UnknownTags = Map<number, Buffer>;
/** A decoded message or struct: field names from the spec, plus `unknownTags` when any arrived. */
export type Message = Record<string, unknown> & { unknownTags?: UnknownTags };

export interface MessageCodec {
  readonly version: number;
  readonly flexible: boolean;
  /** Decodes a body; check `reader.complete()` afterwards. */
  decode(reader: Reader): Message;
  encode(writer: Writer, value: Message): void;
}

/** Counted per nested level so that a hostile frame cannot exhaust the stack. */
const tagsPerStructMax = 1024;

type Decode = (r: Reader) => unknown;
type Encode = (w: Writer, v: unknown) => void;

interface CompiledField {
  name: string;
  decode: Decode;
  encode: Encode;
  defaultValue: () => unknown;
  /** Fewest bytes the field takes on the wire, for array length checks. */
  bytesMin: number;
}

interface CompiledTag {
  tag: number;
  name: string;
  decode: Decode;
  encode: Encode;
  isDefault: (v: unknown) => boolean;
}

function isArrayType(type: string): boolean {
  return type.startsWith('[]');
}

function elementType(type: string): string {
  return type.slice(2);
}

/** The default value of a field, as the decoded form uses it. */
export function defaultFor(field: FieldSpec, version: number): () => unknown {
  const nullable = inVersions(field.nullableVersions, version, false);
  if (field.default === null) return () => null;
  if (isArrayType(field.type)) return () => [];
  switch (field.type) {
    case 'bool':
      return ((d) => () => d)(field.default === true || field.default === 'true');
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'float64':
      return ((d) => () => d)(field.default === undefined ? 0 : Number(field.default));
    case 'int64':
      return ((d) => () => d)(field.default === undefined ? 0n : BigInt(field.default as string | number));
    case 'string':
      return ((d) => () => d)(field.default === undefined ? '' : String(field.default));
    case 'uuid':
      return () => Buffer.alloc(16);
    case 'bytes':
      return () => (nullable ? null : Buffer.alloc(0));
    case 'records':
      return () => null;
    case 'struct':
      return () => null;
    default:
      throw new Error(`unknown type ${field.type}`);
  }
}

function primitive(type: string, nullable: boolean, flexible: boolean, fieldName: string): { decode: Decode; encode: Encode; bytesMin: number } {
  switch (type) {
    case 'bool':
      return { decode: (r) => r.bool(), encode: (w, v) => w.bool(Boolean(v)), bytesMin: 1 };
    case 'int8':
      return { decode: (r) => r.int8(), encode: (w, v) => w.int8(v as number), bytesMin: 1 };
    case 'int16':
      return { decode: (r) => r.int16(), encode: (w, v) => w.int16(v as number), bytesMin: 2 };
    case 'uint16':
      return { decode: (r) => r.uint16(), encode: (w, v) => w.uint16(v as number), bytesMin: 2 };
    case 'int32':
      return { decode: (r) => r.int32(), encode: (w, v) => w.int32(v as number), bytesMin: 4 };
    case 'int64':
      return { decode: (r) => r.int64(), encode: (w, v) => w.int64(BigInt(v as bigint)), bytesMin: 8 };
    case 'float64':
      return { decode: (r) => r.float64(), encode: (w, v) => w.float64(v as number), bytesMin: 8 };
    case 'uuid':
      return { decode: (r) => r.uuid(), encode: (w, v) => w.uuid(v as Buffer), bytesMin: 16 };
    case 'string':
      if (flexible) {
        return nullable
          ? { decode: (r) => r.compactNullableString(), encode: (w, v) => w.compactNullableString(v as string | null), bytesMin: 1 }
          : {
              decode: (r) => r.compactString(),
              encode: (w, v) => {
                if (v === null || v === undefined) throw new Error(`field ${fieldName} may not be null`);
                w.compactString(v as string);
              },
              bytesMin: 1,
            };
      }
      return nullable
        ? { decode: (r) => r.nullableString(), encode: (w, v) => w.nullableString(v as string | null), bytesMin: 2 }
        : {
            decode: (r) => r.string(),
            encode: (w, v) => {
              if (v === null || v === undefined) throw new Error(`field ${fieldName} may not be null`);
              w.string(v as string);
            },
            bytesMin: 2,
          };
    case 'bytes':
    case 'records': {
      // Records are nullable bytes on the wire; they stay raw bytes (a view of the frame).
      const mayBeNull = nullable || type === 'records';
      const decode: Decode = flexible
        ? (r) => {
            const value = r.compactNullableBytes();
            if (value === null && !mayBeNull) r.fail(`field ${fieldName} may not be null`);
            return value;
          }
        : (r) => {
            const value = r.nullableBytes();
            if (value === null && !mayBeNull) r.fail(`field ${fieldName} may not be null`);
            return value;
          };
      const encode: Encode = (w, v) => {
        const value = v === undefined ? null : (v as Buffer | Buffer[] | null);
        if (value === null && !mayBeNull) throw new Error(`field ${fieldName} may not be null`);
        if (Array.isArray(value)) {
          // A list of slices (for example record batches from the log), written without copying.
          let total = 0;
          for (const part of value) total += part.length;
          if (flexible) w.uvarint(total + 1);
          else w.int32(total);
          for (const part of value) w.raw(part);
          return;
        }
        if (flexible) w.compactNullableBytes(value);
        else w.nullableBytes(value);
      };
      return { decode, encode, bytesMin: flexible ? 1 : 4 };
    }
    default:
      throw new Error(`unknown primitive type ${type}`);
  }
}

function compileType(field: FieldSpec, type: string, version: number, flexible: boolean): { decode: Decode; encode: Encode; bytesMin: number } {
  const nullable = inVersions(field.nullableVersions, version, false);
  if (isArrayType(type)) {
    const inner = elementType(type);
    const element =
      inner === 'struct'
        ? compileStruct(field.fields ?? [], version, flexible, `${field.name}[]`)
        : primitive(inner, false, flexible, `${field.name}[]`);
    const elementBytesMin = element.bytesMin;
    const decode: Decode = (r) => {
      const count = r.arrayLength(flexible, elementBytesMin);
      if (count === -1) {
        if (!nullable && !r.failed) r.fail(`array ${field.name} may not be null`);
        return nullable ? null : [];
      }
      const out = new Array<unknown>(count);
      for (let i = 0; i < count; i++) {
        out[i] = element.decode(r);
        if (r.failed) return out.slice(0, i);
      }
      return out;
    };
    const encode: Encode = (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable && v === null) throw new Error(`array ${field.name} may not be null`);
        if (v === null) {
          if (flexible) w.uvarint(0);
          else w.int32(-1);
          return;
        }
        v = [];
      }
      const list = v as unknown[];
      if (flexible) w.uvarint(list.length + 1);
      else w.int32(list.length);
      for (const item of list) element.encode(w, item);
    };
    return { decode, encode, bytesMin: flexible ? 1 : 4 };
  }
  if (type === 'struct') {
    const struct = compileStruct(field.fields ?? [], version, flexible, field.name);
    if (!nullable) return struct;
    // A nullable struct is preceded by an int8: -1 for null, 1 for present.
    return {
      decode: (r) => (r.int8() < 0 ? null : struct.decode(r)),
      encode: (w, v) => {
        if (v === null || v === undefined) w.int8(-1);
        else {
          w.int8(1);
          struct.encode(w, v);
        }
      },
      bytesMin: 1,
    };
  }
  return primitive(type, nullable, flexible, field.name);
}

function valueIsDefault(value: unknown, defaultValue: unknown): boolean {
  if (value === undefined) return true;
  if (value === defaultValue) return true;
  if (Array.isArray(value) && Array.isArray(defaultValue)) return value.length === 0 && defaultValue.length === 0;
  if (Buffer.isBuffer(value) && Buffer.isBuffer(defaultValue)) return value.equals(defaultValue);
  return false;
}

function compileStruct(fields: FieldSpec[], version: number, flexible: boolean, path: string): { decode: Decode; encode: Encode; bytesMin: number } {
  const regular: CompiledField[] = [];
  const absent: { name: string; defaultValue: () => unknown }[] = [];
  const tagged: CompiledTag[] = [];
  let bytesMin = 0;
  for (const field of fields) {
    const present = inVersions(field.versions, version);
    const defaultValue = defaultFor(field, version);
    const isTagged = flexible && field.tag !== undefined && inVersions(field.taggedVersions, version, false);
    if (!present) {
      absent.push({ name: field.name, defaultValue });
      continue;
    }
    const compiled = compileType(field, field.type, version, flexible);
    if (isTagged) {
      const defaultSample = defaultValue();
      tagged.push({
        tag: field.tag!,
        name: field.name,
        decode: compiled.decode,
        encode: compiled.encode,
        isDefault: (v) => valueIsDefault(v, defaultSample),
      });
      absent.push({ name: field.name, defaultValue });
      continue;
    }
    regular.push({ name: field.name, decode: compiled.decode, encode: compiled.encode, defaultValue, bytesMin: compiled.bytesMin });
    bytesMin += compiled.bytesMin;
  }
  if (flexible) bytesMin += 1;
  tagged.sort((a, b) => a.tag - b.tag);
  const tagByNumber = new Map(tagged.map((t) => [t.tag, t]));

  const decode: Decode = (r) => {
    const out: Message = {};
    for (const field of absent) out[field.name] = field.defaultValue();
    for (const field of regular) {
      out[field.name] = field.decode(r);
    }
    if (flexible) {
      const count = r.uvarint();
      if (count > tagsPerStructMax || count > r.remaining) {
        r.fail(`${count} tagged fields in ${path} cannot fit`);
        return out;
      }
      let previous = -1;
      for (let i = 0; i < count && !r.failed; i++) {
        const tag = r.uvarint();
        const size = r.uvarint();
        if (tag <= previous) {
          r.fail(`tagged fields in ${path} out of order (${tag} after ${previous})`);
          break;
        }
        previous = tag;
        const body = r.bytesOf(size);
        if (body === null) break;
        const known = tagByNumber.get(tag);
        if (known) {
          const sub = new Reader(body);
          out[known.name] = known.decode(sub);
          if (!sub.complete(true)) r.fail(`tagged field ${tag} of ${path} is malformed: ${sub.failure || 'trailing bytes'}`);
        } else {
          (out.unknownTags ??= new Map()).set(tag, body);
        }
      }
    }
    return out;
  };

  const encode: Encode = (w, v) => {
    const value = (v ?? {}) as Message;
    for (const field of regular) {
      const fieldValue = value[field.name];
      field.encode(w, fieldValue === undefined ? field.defaultValue() : fieldValue);
    }
    if (!flexible) return;
    const toWrite: { tag: number; bytes: Buffer }[] = [];
    for (const t of tagged) {
      const fieldValue = value[t.name];
      if (t.isDefault(fieldValue)) continue;
      const sub = new Writer(64);
      t.encode(sub, fieldValue);
      toWrite.push({ tag: t.tag, bytes: sub.toBuffer() });
    }
    if (value.unknownTags) {
      for (const [tag, bytes] of value.unknownTags) {
        if (!tagByNumber.has(tag)) toWrite.push({ tag, bytes });
      }
      toWrite.sort((a, b) => a.tag - b.tag);
    }
    w.uvarint(toWrite.length);
    for (const { tag, bytes } of toWrite) {
      w.uvarint(tag);
      w.uvarint(bytes.length);
      w.raw(bytes);
    }
  };

  return { decode, encode, bytesMin };
}

export function compileMessage(spec: MessageSpec, version: number, flexible: boolean, name: string): MessageCodec {
  const struct = compileStruct(spec.fields, version, flexible, name);
  return {
    version,
    flexible,
    decode: (reader) => struct.decode(reader) as Message,
    encode: (writer, value) => struct.encode(writer, value),
  };
}
