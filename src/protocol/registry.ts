/**
 * The registry of APIs Inkwell speaks, loaded from protocol-spec/apis/*.json and compiled into
 * codecs at start-up. ApiVersions, the request decoder and the response encoder all read it.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { ApiSpecSchema, type ApiSpec } from './spec-types.js';
import { compileMessage, type MessageCodec } from './codec.js';
import { parseVersions } from './versions.js';

export interface ApiEntry {
  readonly spec: ApiSpec;
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  isFlexible(version: number): boolean;
  request(version: number): MessageCodec;
  response(version: number): MessageCodec;
}

/** Finds protocol-spec/ by walking up from this module (works from src/ and from dist/src/). */
export function specDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'protocol-spec', 'apis');
    if (existsSync(candidate)) return join(dir, 'protocol-spec');
    dir = dirname(dir);
  }
  throw new Error('protocol-spec/apis not found above ' + fileURLToPath(import.meta.url));
}

function buildEntry(spec: ApiSpec): ApiEntry {
  const range = parseVersions(spec.versions);
  const flexible = parseVersions(spec.flexibleVersions);
  const requests: MessageCodec[] = [];
  const responses: MessageCodec[] = [];
  const isFlexible = (version: number) => version >= flexible.min && version <= flexible.max;
  for (let version = range.min; version <= range.max; version++) {
    requests[version] = compileMessage(spec.request, version, isFlexible(version), `${spec.name}Request`);
    responses[version] = compileMessage(spec.response, version, isFlexible(version), `${spec.name}Response`);
  }
  const pick = (list: MessageCodec[], version: number, what: string) => {
    const codec = list[version];
    if (!codec) throw new Error(`${spec.name} ${what} v${version} is not supported`);
    return codec;
  };
  return {
    spec,
    key: spec.apiKey,
    name: spec.name,
    minVersion: range.min,
    maxVersion: range.max,
    isFlexible,
    request: (version) => pick(requests, version, 'request'),
    response: (version) => pick(responses, version, 'response'),
  };
}

export function parseApiSpec(text: string, source: string): ApiSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  if (!Value.Check(ApiSpecSchema, json)) {
    const first = Value.Errors(ApiSpecSchema, json).First();
    throw new Error(`${source}: ${first?.path || '/'} ${first?.message ?? 'does not match the spec schema'}`);
  }
  return json;
}

export function loadSpecs(directory = specDirectory()): ApiSpec[] {
  const apis = join(directory, 'apis');
  const files = readdirSync(apis).filter((f) => f.endsWith('.json')).sort();
  return files.map((file) => parseApiSpec(readFileSync(join(apis, file), 'utf8'), join(apis, file)));
}

export class ApiRegistry {
  private readonly byKey = new Map<number, ApiEntry>();
  private readonly byName = new Map<string, ApiEntry>();

  constructor(specs: ApiSpec[]) {
    for (const spec of specs) {
      if (this.byKey.has(spec.apiKey)) throw new Error(`api key ${spec.apiKey} is defined twice`);
      const entry = buildEntry(spec);
      this.byKey.set(entry.key, entry);
      this.byName.set(entry.name, entry);
    }
  }

  get(key: number): ApiEntry | undefined {
    return this.byKey.get(key);
  }

  named(name: string): ApiEntry {
    const entry = this.byName.get(name);
    if (!entry) throw new Error(`no API named ${name} in protocol-spec`);
    return entry;
  }

  all(): ApiEntry[] {
    return [...this.byKey.values()].sort((a, b) => a.key - b.key);
  }
}

let shared: ApiRegistry | undefined;

/** The registry compiled from protocol-spec/, built once per process. */
export function registry(): ApiRegistry {
  shared ??= new ApiRegistry(loadSpecs());
  return shared;
}

let sharedClient: ApiRegistry | undefined;

/**
 * The registry a client uses: every API defined in protocol-spec/, whether Inkwell implements it
 * (apis/) or not yet (pending/). A client also talks to other brokers and negotiates versions
 * with ApiVersions anyway, so it may know more APIs than this broker serves. When an API is
 * defined in both folders, apis/ wins.
 */
export function clientRegistry(): ApiRegistry {
  if (sharedClient === undefined) {
    const directory = specDirectory();
    const implemented = loadSpecs(directory);
    const keys = new Set(implemented.map((spec) => spec.apiKey));
    const pendingDirectory = join(directory, 'pending');
    const pending = existsSync(pendingDirectory)
      ? readdirSync(pendingDirectory)
          .filter((file) => file.endsWith('.json'))
          .sort()
          .map((file) => parseApiSpec(readFileSync(join(pendingDirectory, file), 'utf8'), join(pendingDirectory, file)))
          .filter((spec) => !keys.has(spec.apiKey))
      : [];
    sharedClient = new ApiRegistry([...implemented, ...pending]);
  }
  return sharedClient;
}
