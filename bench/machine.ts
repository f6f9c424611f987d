/** What the report says about the machine and the build a run measured. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { repoRoot } from './paths.js';

function quiet(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, [...args], { encoding: 'utf8', cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function kcatVersion(): string {
  const match = /Version (\S+).*librdkafka (\S+)/.exec(quiet('kcat', ['-V']).replace(/\n/g, ' '));
  return match ? `kcat ${match[1]} / librdkafka ${match[2]}` : 'kcat (not found)';
}

/** The commit, marked when the working tree has changes on top of it. */
export function commitDescription(): string {
  const commit = quiet('git', ['rev-parse', '--short', 'HEAD']);
  if (!commit) return 'unknown';
  const changed = quiet('git', ['status', '--porcelain', '--untracked-files=no']);
  return changed ? `${commit} + uncommitted changes` : commit;
}

/** The soft limit on open files this process (and so its children) may have, or null if unknown. */
export function openFilesSoftLimit(): number | null {
  const soft = Number(quiet('sh', ['-c', 'ulimit -n']));
  return Number.isSafeInteger(soft) && soft > 0 ? soft : null;
}

export function openFilesLimit(): string {
  const soft = quiet('sh', ['-c', 'ulimit -n']);
  const hard = quiet('sh', ['-c', 'ulimit -Hn']);
  return `${soft || '?'} (hard ${hard || '?'})`;
}

export function machineBasics(): { cpus: number; cpuModel: string; memoryGiB: number; node: string } {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 1024 ** 3), node: process.versions.node };
}

export function loadAverage(): number[] {
  return os.loadavg().map((v) => Math.round(v * 100) / 100);
}
