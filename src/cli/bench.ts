/**
 * `inkwell bench`: the benchmark suite in bench/ (throughput, latency, partitions, connections)
 * against Inkwell, librdkafka's mock cluster and raw socket pipes. The suite is loaded only when
 * this command runs, and only exists in a source checkout (the npm package ships dist/src alone).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import { CliError, UsageError, exitFailure } from './errors.js';
import { parseFlags } from './flags.js';

const BenchFlags = Type.Object({
  quick: Type.Optional(Type.Boolean()),
  smoke: Type.Optional(Type.Boolean()),
  profile: Type.Optional(Type.Boolean()),
  repetitions: Type.Optional(Type.String({ pattern: '^[1-9][0-9]?$', expected: 'a whole number from 1 to 99' })),
  only: Type.Optional(Type.String({ minLength: 1, expected: 'a comma-separated list of scenario ids or groups' })),
  systems: Type.Optional(Type.String({ minLength: 1, expected: 'a comma-separated list of systems' })),
  clients: Type.Optional(Type.String({ minLength: 1, expected: 'a comma-separated list of clients' })),
  out: Type.Optional(Type.String({ minLength: 1, expected: 'a directory' })),
  render: Type.Optional(Type.String({ minLength: 1, expected: 'a results .json file' })),
  'inkwell-cli': Type.Optional(Type.String({ minLength: 1, expected: 'the path of an inkwell main.js' })),
  'no-write': Type.Optional(Type.Boolean()),
  'no-progress': Type.Optional(Type.Boolean()),
  help: Type.Optional(Type.Boolean({ short: 'h' })),
});

const systemIds = ['inkwell', 'inkwell-pagecache', 'inkwell-memory', 'mock', 'tls-pipe', 'tcp-pipe'] as const;
const clientIds = ['kcat', 'kafkajs', 'ours', 'raw'] as const;

export const benchUsage = `Usage: inkwell bench [options]

Runs the benchmark suite: Inkwell over TLS (default durability, and "page cache" when the build
has log.flush.interval.messages), librdkafka's mock cluster, and raw TLS/TCP socket pipes, side
by side, with kcat, kafkajs and our own client. Prints a markdown report on stdout and writes
bench/results/<date>.json, <date>.md and SVG charts. Needs a source checkout and kcat.

Scenario groups: records (100 B), size (1 KiB, 100 KiB, 1 MiB), latency (1k, 10k, 100k/s),
partitions (1 to 10,000), connections (1 to 1,000), idle (10,000 idle TLS connections).

Options:
  --quick              smaller sizes, 1 repetition: under 3 minutes
  --repetitions N      runs per row (default 3, quick 1)
  --only LIST          scenario ids or groups, e.g. records,latency-10k
  --systems LIST       ${systemIds.join(', ')}
  --clients LIST       ${clientIds.join(', ')}
  --out DIR            where to write results (default bench/results)
  --inkwell-cli FILE   measure the broker of another build (its dist/src/cli/main.js)
  --render FILE.json   run nothing: print the report of a saved run and redraw its charts
                       (into --out, default bench/results)
  --no-write           print the report only
  --no-progress        no progress bar (it is drawn only when stderr is a terminal anyway)
  --smoke              the smallest scenario only (what the smoke test runs)
  --profile            run the broker under node --cpu-prof for 100 B produce and consume, and
                       list its hottest functions (with --quick: 200,000 records)
  -h, --help           show this help
`;

function list<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T[] | null {
  if (value === undefined) return null;
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`bench: --${flag} must list some of ${allowed.join(', ')}, got ${JSON.stringify(item)}`);
  }
  return items as T[];
}

/** dist/bench/suite.js, beside dist/src in a built checkout. */
function suiteModule(name: string): URL {
  return new URL(`../../bench/${name}`, import.meta.url);
}

export async function runBench(args: readonly string[]): Promise<number> {
  const flags = parseFlags('bench', args, BenchFlags);
  if (flags.help === true) {
    process.stdout.write(benchUsage);
    return 0;
  }
  if (flags.smoke === true && (flags.quick === true || flags.profile === true)) throw new UsageError('bench: --smoke goes with neither --quick nor --profile');
  const systems = list('systems', flags.systems, systemIds);
  const clients = list('clients', flags.clients, clientIds);
  if (!existsSync(fileURLToPath(suiteModule('suite.js')))) {
    throw new CliError('bench: the benchmark suite is not here (it lives in bench/ of a source checkout; build it with npm run build)', exitFailure);
  }
  const mode = flags.smoke === true ? 'smoke' : flags.quick === true ? 'quick' : 'full';
  const { defaultResultsDirectory } = (await import(suiteModule('paths.js').href)) as typeof import('../../bench/paths.js');
  const outDirectory = flags['no-write'] === true ? null : (flags.out ?? defaultResultsDirectory);
  const progress = flags['no-progress'] !== true && process.stderr.isTTY === true;
  const inkwellCli = flags['inkwell-cli'] !== undefined ? resolve(flags['inkwell-cli']) : undefined;
  if (inkwellCli !== undefined && !existsSync(inkwellCli)) throw new UsageError(`bench: --inkwell-cli ${inkwellCli} does not exist`);

  if (flags.render !== undefined) {
    const { renderSaved } = (await import(suiteModule('suite.js').href)) as typeof import('../../bench/suite.js');
    let output: ReturnType<typeof renderSaved>;
    try {
      output = renderSaved(resolve(flags.render), outDirectory);
    } catch (error) {
      throw new UsageError(`bench: --render ${flags.render}: ${(error as Error).message.split('\n')[0]}`);
    }
    process.stdout.write(output.markdown);
    for (const file of output.files) process.stderr.write(`wrote ${file}\n`);
    return 0;
  }
  if (flags.profile === true) {
    const { runProfile } = (await import(suiteModule('profile/run-profile.js').href)) as typeof import('../../bench/profile/run-profile.js');
    const report = await runProfile({ quick: mode === 'quick', outDirectory, inkwellCli });
    process.stdout.write(report.markdown);
    return 0;
  }
  const { runSuite } = (await import(suiteModule('suite.js').href)) as typeof import('../../bench/suite.js');
  const output = await runSuite({
    mode,
    repetitions: flags.repetitions !== undefined ? Number(flags.repetitions) : mode === 'full' ? 3 : 1,
    only: flags.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? [],
    systems,
    clients,
    outDirectory,
    progress,
    inkwellCli,
  });
  process.stdout.write(output.markdown);
  for (const file of output.files) process.stderr.write(`wrote ${file}\n`);
  const failed = output.result.rows.filter((row) => row.samples.length === 0).length;
  if (failed > 0) process.stderr.write(`${failed} row(s) have no figures; see Failures in the report\n`);
  return 0;
}
