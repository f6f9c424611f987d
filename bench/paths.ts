/** Where the benchmark finds the repository, the compiled CLI and its own compiled scripts. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`the repository root (package.json next to bench/) is not above ${fileURLToPath(import.meta.url)}`);
}

/** The repository checkout this module was compiled in. */
export const repoRoot = findRepoRoot();
/** The compiled `inkwell` CLI that the brokers under test run from. */
export const cliMain = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
/** Where `inkwell bench` writes its JSON, markdown and SVG files by default. */
export const defaultResultsDirectory = join(repoRoot, 'bench', 'results');

/** The compiled form of a script under bench/, e.g. benchScript('clients/latency-client.js'). */
export function benchScript(relative: string): string {
  return join(repoRoot, 'dist', 'bench', relative);
}
