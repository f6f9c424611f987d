/**
 * Flag parsing for the subcommands: a TypeBox schema per command declares its flags, and from it
 * come both the node:util parseArgs options and the static type of the parsed values. parseArgs
 * does the splitting (strict: unknown flags and positionals are errors); the schema then checks
 * the values (enumerations, number patterns). Every failure is one line, as a UsageError.
 */
import { parseArgs } from 'node:util';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UsageError } from './errors.js';

interface FlagSchema {
  readonly type?: string;
  readonly anyOf?: readonly { const?: unknown }[];
  /** A one-letter alias (`-h`). */
  readonly short?: string;
  /** What a value must look like, for the error when it does not (`a whole number from 1 to 36500`). */
  readonly expected?: string;
}

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

function parseArgsOptions(schema: TObject): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const [name, property] of Object.entries(schema.properties as Record<string, TSchema & FlagSchema>)) {
    const option: ParseArgsOptions[string] = {
      type: property.type === 'boolean' ? 'boolean' : 'string',
      ...(property.type === 'array' ? { multiple: true } : {}),
      ...(property.short !== undefined ? { short: property.short } : {}),
    };
    options[name] = option;
  }
  return options;
}

/** parseArgs's messages, cut to one line in our words. */
function describeParseError(error: Error & { code?: string }): string {
  const firstLine = error.message.split('\n')[0]!;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']*)'/.exec(firstLine)?.[1] ?? firstLine;
    return `unknown option ${option}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /'([^']*)'/.exec(firstLine)?.[1] ?? firstLine;
    return `unexpected argument ${JSON.stringify(argument)}`;
  }
  const sentence = firstLine.replace(/\.$/, '');
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

function describeBadValue(name: string, property: FlagSchema, value: unknown): string {
  const choices = property.anyOf?.map((member) => member.const).filter((choice): choice is string => typeof choice === 'string');
  const expected = choices !== undefined && choices.length > 0 ? `one of ${choices.join(', ')}` : (property.expected ?? 'valid');
  return `--${name} must be ${expected}, got ${JSON.stringify(value)}`;
}

/**
 * Parses `args` for `command` against the flags of `schema`. `--help` handling is left to the
 * caller (declare a `help` boolean in the schema).
 */
export function parseFlags<S extends TObject>(command: string, args: readonly string[], schema: S): Static<S> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...args], options: parseArgsOptions(schema), strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = describeParseError(error as Error & { code?: string });
    throw new UsageError(`${command}: ${message} (see inkwell ${command} --help)`);
  }
  const plain = { ...values };
  for (const error of Value.Errors(schema, plain)) {
    const name = error.path.split('/')[1] ?? '';
    const property = (schema.properties as Record<string, FlagSchema>)[name] ?? {};
    throw new UsageError(`${command}: ${describeBadValue(name, property, plain[name])}`);
  }
  return plain as Static<S>;
}
