/**
 * The `inkwell` command line: help and version, and every kind of bad invocation exits 2 with
 * one line on stderr, before anything starts. Needs no broker.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inkwell } from './cli-process.js';

const root = mkdtempSync(join(tmpdir(), 'inkwell-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** An empty working directory, so defaults like ./data and certs/ point somewhere harmless. */
function workDir(name: string): string {
  return mkdtempSync(join(root, `${name}-`));
}

async function expectUsageError(args: string[], message: RegExp, cwd = workDir('usage')): Promise<string> {
  const result = await inkwell(args, { cwd });
  assert.equal(result.code, 2, `inkwell ${args.join(' ')} exits 2\n${result.stderr}`);
  assert.equal(result.stdout, '', 'nothing on stdout');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, /^inkwell: /);
  assert.match(lines[0]!, message);
  return lines[0]!;
}

test('--help, help and -h print usage and exit 0; --version prints the package version', async () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const result = await inkwell(args);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: inkwell <command>/);
    assert.match(result.stdout, /serve/);
    assert.match(result.stdout, /certs/);
  }
  const serveHelp = await inkwell(['serve', '--help']);
  assert.equal(serveHelp.code, 0);
  assert.match(serveHelp.stdout, /--listeners LIST/);
  assert.match(serveHelp.stdout, /--dev-certs/);
  const certsHelp = await inkwell(['certs', '-h']);
  assert.equal(certsHelp.code, 0);
  assert.match(certsHelp.stdout, /--hosts LIST/);
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const result = await inkwell([flag]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `inkwell ${version}\n`);
  }
});

test('a missing or unknown subcommand or top-level flag exits 2 with one line', async () => {
  await expectUsageError([], /missing command/);
  await expectUsageError(['start'], /unknown command "start"/);
  await expectUsageError(['--verbose'], /unknown option --verbose/);
});

test('bad serve flags exit 2 with one line', async () => {
  await expectUsageError(['serve', '--bogus'], /^inkwell: serve: unknown option --bogus/);
  await expectUsageError(['serve', 'extra'], /unexpected argument "extra"/);
  await expectUsageError(['serve', '--listeners'], /--listeners <value>' argument missing/);
  await expectUsageError(['serve', '--storage', 'tape'], /--storage must be one of disk, memory, got "tape"/);
  await expectUsageError(['serve', '--client-auth', 'maybe'], /--client-auth must be one of none, requested, required, got "maybe"/);
  await expectUsageError(['serve', '--dev-certs=yes'], /--dev-certs' does not take an argument/);
  await expectUsageError(['serve', '--listeners', 'HTTP://127.0.0.1:0'], /invalid value for listeners: .*unknown listener name HTTP/);
});

test('bad certs flags exit 2 with one line', async () => {
  await expectUsageError(['certs', '--days', 'soon'], /--days must be a whole number of days from 1 to 36500, got "soon"/);
  await expectUsageError(['certs', '--days', '0'], /--days must be a whole number of days/);
  await expectUsageError(['certs', '--hosts', 'localhost,bad host'], /"bad host" is neither a DNS name nor an IP address/);
  await expectUsageError(['certs', '--nope'], /unknown option --nope/);
});

test('serve --set nope=1 exits 2 naming the key, before starting anything', async () => {
  const cwd = workDir('set-unknown');
  const dataDir = join(cwd, 'data');
  const line = await expectUsageError(['serve', '--set', 'nope=1', '--data-dir', dataDir, '--storage', 'disk'], /unknown config key: nope/, cwd);
  assert.equal(line, 'inkwell: unknown config key: nope');
  assert.equal(existsSync(dataDir), false, 'no data directory was created');
  assert.deepEqual(readdirSync(cwd), [], 'nothing was written');
});

test('bad config values exit 2, one line per problem', async () => {
  await expectUsageError(['serve', '--set', 'num.partitions=abc'], /^inkwell: invalid value for num\.partitions: "abc" is not an integer$/);
  await expectUsageError(['serve', '--set', 'num.partitions'], /--set expects key=value, got "num.partitions"/);
  const cwd = workDir('config-file');
  writeFileSync(join(cwd, 'server.properties'), '# test\nnum.partitions=2\nauto.create.topics.enable=sometimes\n');
  await expectUsageError(['serve', '--config', 'server.properties'], /^inkwell: server\.properties:3: invalid value for auto\.create\.topics\.enable: "sometimes" is not a boolean/, cwd);
  await expectUsageError(['serve', '--config', 'missing.properties'], /cannot read config file missing\.properties: no such file/, cwd);
  const two = await inkwell(['serve', '--set', 'num.partitions=0', '--set', 'ssl.client.auth=sometimes'], { cwd });
  assert.equal(two.code, 2);
  assert.deepEqual(two.stderr.trim().split('\n'), [
    'inkwell: invalid value for num.partitions: 0 is less than the minimum 1',
    'inkwell: invalid value for ssl.client.auth: "sometimes" is not one of none, requested, required',
  ]);
});

test('missing TLS files exit 2 with one line (without --dev-certs), creating nothing', async () => {
  const cwd = workDir('no-tls');
  await expectUsageError(['serve', '--storage', 'memory', '--listeners', 'SSL://127.0.0.1:0'], /TLS file not found: certs\/server-cert\.pem, certs\/server-key\.pem, certs\/ca-cert\.pem .*--dev-certs/, cwd);
  await expectUsageError(['serve', '--storage', 'memory', '--listeners', 'SSL://127.0.0.1:0', '--tls-cert', 'elsewhere.pem'], /TLS file not found: elsewhere\.pem/, cwd);
  assert.deepEqual(readdirSync(cwd), []);
  // --dev-certs only generates into the layout `inkwell certs` writes.
  await expectUsageError(['serve', '--storage', 'memory', '--listeners', 'SSL://127.0.0.1:0', '--tls-cert', 'mine.pem', '--dev-certs'], /--dev-certs writes server-cert\.pem/, cwd);
  assert.deepEqual(readdirSync(cwd), []);
});

test('inkwell certs writes the six files, then refuses to overwrite them (exit 1) unless --force', async () => {
  const cwd = workDir('certs-command');
  const first = await inkwell(['certs', '--out', 'out', '--hosts', 'localhost,127.0.0.1,[::1]', '--days', '2'], { cwd });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(readdirSync(join(cwd, 'out')).sort(), ['ca-cert.pem', 'ca-key.pem', 'client-cert.pem', 'client-key.pem', 'server-cert.pem', 'server-key.pem']);
  assert.equal(first.stdout.trim().split('\n').length, 6);
  const again = await inkwell(['certs', '--out', 'out'], { cwd });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^inkwell: certs: refusing to overwrite out\/ca-cert\.pem.*--force/);
  assert.equal(again.stderr.trim().split('\n').length, 1);
  const forced = await inkwell(['certs', '--out', 'out', '--force'], { cwd });
  assert.equal(forced.code, 0, forced.stderr);
});
