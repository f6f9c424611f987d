/**
 * Reads a V8 CPU profile (node --cpu-prof) and lists where the time went: self and total time per
 * function, with compiled dist/ locations mapped back to src/ through the source maps tsc writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** 0-based. */
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  readonly functionName: string;
  /** file:line, under the repository when it is ours, else Node's own name for it. */
  readonly location: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

export interface ProfileSummary {
  /** Sampled time, ms (idle included). */
  readonly sampledMs: number;
  /** Time the broker's thread spent idle (waiting in the event loop), ms. */
  readonly idleMs: number;
  readonly gcMs: number;
  /** By self time. */
  readonly functions: readonly HotSpot[];
  /** Functions of our own src/, by total (inclusive) time: the paths to optimise. */
  readonly ownByTotal: readonly HotSpot[];
  /** Self time per source file. */
  readonly files: readonly { readonly file: string; readonly selfMs: number }[];
}

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(path: string): SourceMap | null {
  if (!maps.has(path)) {
    const mapPath = `${path}.map`;
    maps.set(path, existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]) : null);
  }
  return maps.get(path)!;
}

/** Where a frame is, as file:line in src/ when a source map knows it. */
export function locate(frame: CallFrame, repoRoot: string): string {
  if (!frame.url) return '';
  if (!frame.url.startsWith('file://')) return `${frame.url}:${frame.lineNumber + 1}`;
  const path = fileURLToPath(frame.url);
  const entry = sourceMapFor(path)?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
  if (entry?.originalSource && entry.originalLine !== undefined) {
    // tsc names sources relative to the map's directory.
    const source = entry.originalSource;
    const original = source.startsWith('file://') ? fileURLToPath(source) : isAbsolute(source) ? source : resolve(dirname(path), source);
    return `${relative(repoRoot, original)}:${entry.originalLine + 1}`;
  }
  const shown = path.startsWith(repoRoot) ? relative(repoRoot, path) : path;
  return `${shown}:${frame.lineNumber + 1}`;
}

/** A span of the profile to look at, in V8's clock (CLOCK_MONOTONIC µs, like process.hrtime). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

export function summarizeProfile(profile: CpuProfile, repoRoot: string, top = 25, window?: Window): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });

  const keyOf = (node: ProfileNode) => `${node.callFrame.functionName}|${node.callFrame.url}|${node.callFrame.lineNumber}|${node.callFrame.columnNumber}`;
  const functions = new Map<string, { node: ProfileNode; self: number; total: number }>();
  let sampled = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    sampled += us;
    const name = node.callFrame.functionName;
    if (name === '(idle)') idle += us;
    if (name === '(garbage collector)') gc += us;
    const entry = functions.get(keyOf(node)) ?? { node, self: 0, total: 0 };
    entry.self += us;
    functions.set(keyOf(node), entry);
    // Total time: this node's self time counts once for every distinct function above it.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const ancestor = byId.get(at)!;
      const key = keyOf(ancestor);
      if (seen.has(key)) continue;
      seen.add(key);
      const record = functions.get(key) ?? { node: ancestor, self: 0, total: 0 };
      record.total += us;
      functions.set(key, record);
    }
  }
  const spots = [...functions.values()]
    .filter((f) => !['(root)', '(idle)'].includes(f.node.callFrame.functionName))
    .map((f) => ({ functionName: f.node.callFrame.functionName || '(anonymous)', location: locate(f.node.callFrame, repoRoot), selfMs: f.self / 1000, totalMs: f.total / 1000 }));
  const files = new Map<string, number>();
  for (const spot of spots) {
    const file = spot.location.replace(/:\d+$/, '') || spot.functionName;
    files.set(file, (files.get(file) ?? 0) + spot.selfMs);
  }
  return {
    sampledMs: sampled / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    functions: [...spots].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    ownByTotal: spots.filter((s) => s.location.startsWith('src/')).sort((a, b) => b.totalMs - a.totalMs).slice(0, top),
    files: [...files.entries()].map(([file, selfMs]) => ({ file, selfMs })).sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
  };
}
