// Runs every compiled test file under dist/test with Node's built-in test runner.
// Node 20 does not expand globs for --test, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const files = collect('dist/test', []).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}
// Bounds: no single test may run longer than testTimeoutMs, and the whole run is stopped after
// runTimeoutMs, so a hung test fails CI with a message instead of eating its time limit.
const testTimeoutMs = 5 * 60 * 1000;
const runTimeoutMs = 45 * 60 * 1000;
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', `--test-timeout=${testTimeoutMs}`, '--test-force-exit', ...files], {
  stdio: 'inherit',
  timeout: runTimeoutMs,
  killSignal: 'SIGKILL',
});
if (result.error) console.error(`test run stopped: ${result.error.message}`);
process.exit(result.status ?? 1);
