/**
 * The shape of our machine-readable protocol definition (`protocol-spec/apis/*.json`), as a
 * TypeBox schema so that a malformed definition is rejected at start-up with a clear message.
 */
import { Type, type Static } from '@sinclair/typebox';

/** A version set: "3+" (3 and later), "2-5" (inclusive), "4" (only 4) or "none". */
export const VersionRange = Type.String({ pattern: '^(none|\\d+\\+|\\d+-\\d+|\\d+)$' });

export const primitiveTypes = [
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'int64',
  'float64',
  'uuid',
  'string',
  'bytes',
  'records',
] as const;
export type PrimitiveType = (typeof primitiveTypes)[number];

export interface FieldSpec {
  /** camelCase; the property name in decoded objects. */
  name: string;
  /** A primitive, "struct", or "[]" followed by a primitive or "struct". */
  type: string;
  /** Versions in which the field is on the wire (default: every version of the message). */
  versions?: string;
  /** Versions in which the field may be null. */
  nullableVersions?: string;
  /** Tag number, for a field carried in the tagged-field section of flexible versions. */
  tag?: number;
  /** Versions in which the field is tagged (required with `tag`). */
  taggedVersions?: string;
  /** Value used when the field is absent in a version, or a tagged field is not sent. */
  default?: string | number | boolean | null;
  /** What the field means, in our words. */
  doc: string;
  /** Sub-fields, for "struct" and "[]struct". */
  fields?: FieldSpec[];
}

export const FieldSchema = Type.Recursive((Self) =>
  Type.Object(
    {
      name: Type.String({ pattern: '^[a-z][A-Za-z0-9]*$' }),
      type: Type.String({ pattern: '^(\\[\\])?(bool|int8|int16|uint16|int32|int64|float64|uuid|string|bytes|records|struct)$' }),
      versions: Type.Optional(VersionRange),
      nullableVersions: Type.Optional(VersionRange),
      tag: Type.Optional(Type.Integer({ minimum: 0 })),
      taggedVersions: Type.Optional(VersionRange),
      default: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
      doc: Type.String({ minLength: 1 }),
      fields: Type.Optional(Type.Array(Self)),
    },
    { additionalProperties: false },
  ),
);

export const MessageSchema = Type.Object(
  {
    fields: Type.Array(FieldSchema),
  },
  { additionalProperties: false },
);

export const ApiSpecSchema = Type.Object(
  {
    apiKey: Type.Integer({ minimum: 0, maximum: 32767 }),
    name: Type.String({ pattern: '^[A-Z][A-Za-z]+$' }),
    /** The versions Inkwell implements, e.g. "0-8". */
    versions: Type.String({ pattern: '^\\d+-\\d+$' }),
    /** The versions that use compact encodings and tagged fields, e.g. "3+" or "none". */
    flexibleVersions: VersionRange,
    doc: Type.String({ minLength: 1 }),
    /** What changed at each version, keyed by version number. */
    versionNotes: Type.Record(Type.String({ pattern: '^\\d+$' }), Type.String()),
    /** Kafka error names this API can return. */
    errors: Type.Array(Type.String({ pattern: '^[A-Z_]+$' })),
    request: MessageSchema,
    response: MessageSchema,
    /** A worked example; the human spec prints it as hex. Values use JSON; int64 as strings, bytes/uuid/records as hex strings. */
    example: Type.Object(
      {
        version: Type.Integer({ minimum: 0 }),
        correlationId: Type.Integer(),
        clientId: Type.Union([Type.String(), Type.Null()]),
        request: Type.Record(Type.String(), Type.Unknown()),
        response: Type.Record(Type.String(), Type.Unknown()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type ApiSpec = Static<typeof ApiSpecSchema>;
export type MessageSpec = { fields: FieldSpec[] };
