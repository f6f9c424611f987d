/** Parses and tests version sets written as "3+", "2-5", "4" or "none". */
export interface VersionSet {
  min: number;
  /** Inclusive; Infinity for "N+". */
  max: number;
}

export function parseVersions(text: string): VersionSet {
  if (text === 'none') return { min: 1, max: 0 };
  const plus = /^(\d+)\+$/.exec(text);
  if (plus) return { min: Number(plus[1]), max: Infinity };
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (max < min) throw new Error(`version range ${text} is empty`);
    return { min, max };
  }
  const single = /^(\d+)$/.exec(text);
  if (single) return { min: Number(single[1]), max: Number(single[1]) };
  throw new Error(`bad version set ${JSON.stringify(text)}`);
}

export function inVersions(text: string | undefined, version: number, whenAbsent = true): boolean {
  if (text === undefined) return whenAbsent;
  const set = parseVersions(text);
  return version >= set.min && version <= set.max;
}
