#!/usr/bin/env node
/**
 * The `inkwell` command: `serve`, `certs`, `bench`, and the client commands `produce`, `consume`,
 * `topics` and `groups`, plus --help and --version.
 * Exit codes: 0 done, 1 failed (a port in use, files in the way), 2 a bad command line or
 * configuration, reported as one line on stderr per problem.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../broker/config.js';
import { ListenerError } from '../broker/listeners.js';
import { runBench } from './bench.js';
import { runCerts } from './certs.js';
import { CliError, UsageError, exitFailure, exitUsage } from './errors.js';
import { runServe } from './serve.js';
import { runProduce } from './produce.js';
import { runConsume } from './consume.js';
import { runTopics } from './topics.js';
import { runGroups } from './groups.js';

const commands: Readonly<Record<string, (args: readonly string[]) => Promise<number>>> = {
  serve: runServe,
  certs: runCerts,
  bench: runBench,
  produce: runProduce,
  consume: runConsume,
  topics: runTopics,
  groups: runGroups,
};

const usage = `Usage: inkwell <command> [options]

A single-node message broker speaking the Apache Kafka protocol over TLS.

Commands:
  serve     start the broker (inkwell serve --help for its options)
  certs     write development certificates (inkwell certs --help)
  produce   send records, one per line of input (inkwell produce --help)
  consume   print records of a topic (inkwell consume --help)
  topics    list, create, delete, describe and alter topics (inkwell topics --help)
  groups    list, describe, delete consumer groups and reset their offsets (inkwell groups --help)
  bench     run the benchmark suite (inkwell bench --help; source checkout only)

Options:
  -h, --help       show this help
  -V, --version    print the version
`;

function version(): string {
  // dist/src/cli/main.js → the package root holds package.json.
  const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return packageJson.version ?? 'unknown';
}

async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined) throw new UsageError('missing command: serve, certs, bench, produce, consume, topics or groups (see inkwell --help)');
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`inkwell ${version()}\n`);
    return 0;
  }
  if (command.startsWith('-')) throw new UsageError(`unknown option ${command} (see inkwell --help)`);
  const run = commands[command];
  if (run === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)} (see inkwell --help)`);
  return run(rest);
}

/** Prints an error the way its kind asks for and gives the exit code. */
function report(error: unknown): number {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`inkwell: ${problem}\n`);
    return exitUsage;
  }
  if (error instanceof UsageError || error instanceof ListenerError) {
    process.stderr.write(`inkwell: ${error.message}\n`);
    return exitUsage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`inkwell: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`inkwell: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitFailure;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error)),
);
