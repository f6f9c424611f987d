/**
 * `inkwell bench --profile`: runs the broker under `node --cpu-prof` once for kcat producing
 * 1,000,000 records of 100 B over TLS and once (restarted on the same data) for kcat consuming
 * them, then lists the broker's hottest functions for each path, mapped to src/ file:line.
 * The raw .cpuprofile files (open them in Chrome DevTools) go to <out>/profiles/, which git ignores.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificates } from '../../src/cli/certs.js';
import { recordsFile } from '../input-files.js';
import { kcatConsume, kcatProduce } from '../clients/kcat.js';
import { startBroker } from '../systems/catalog.js';
import { cliMain, repoRoot } from '../paths.js';
import { integer, decimal } from '../report/format.js';
import { summarizeProfile, type CpuProfile, type ProfileSummary } from './cpu-profile.js';

export interface ProfileOptions {
  readonly quick: boolean;
  readonly outDirectory: string | null;
  /** The inkwell CLI whose broker is profiled (default: this checkout's build). */
  readonly inkwellCli?: string;
}

interface ProfiledPhase {
  readonly phase: 'produce' | 'consume';
  readonly recordsPerSecond: number;
  readonly summary: ProfileSummary;
  readonly file: string;
}

export async function runProfile(options: ProfileOptions): Promise<{ markdown: string; files: string[] }> {
  const records = options.quick ? 200_000 : 1_000_000;
  const recordBytes = 100;
  const work = mkdtempSync(join(tmpdir(), 'inkwell-profile-'));
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const profiles = options.outDirectory ? join(options.outDirectory, 'profiles') : join(work, 'profiles');
  mkdirSync(profiles, { recursive: true });
  const phases: ProfiledPhase[] = [];
  try {
    const certificates = join(work, 'certs');
    await generateCertificates({ out: certificates, hosts: ['localhost', '127.0.0.1'], days: 2 });
    const input = await recordsFile(work, records, recordBytes);
    const dataDirectory = join(work, 'data');
    for (const phase of ['produce', 'consume'] as const) {
      const name = `${stamp}-${phase}.cpuprofile`;
      const broker = await startBroker('inkwell', { certificates, work, cli: options.inkwellCli ?? cliMain }, {
        partitions: 1,
        settings: {},
        dataDirectory,
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`, `--cpu-prof-name=${name}`],
      });
      let seconds: number;
      const nowUs = () => Number(process.hrtime.bigint() / 1000n);
      const fromUs = nowUs();
      let toUs = Number.MAX_SAFE_INTEGER;
      try {
        if (phase === 'produce') seconds = (await kcatProduce(broker, 'bench', input, recordBytes, 10 * 60_000)).seconds;
        else {
          const consumed = await kcatConsume(broker, 'bench', recordBytes, 10 * 60_000);
          if (consumed.lines !== records) throw new Error(`kcat read back ${consumed.lines} of ${records} records`);
          seconds = consumed.seconds - (consumed.firstOutputSeconds ?? 0);
        }
        toUs = nowUs();
      } finally {
        await broker.stop();
      }
      const file = join(profiles, name);
      const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
      // Only the client's run: not the broker's start-up (module loading) or shutdown.
      phases.push({ phase, recordsPerSecond: records / seconds, summary: summarizeProfile(profile, repoRoot, 25, { fromUs, toUs }), file });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const markdown = profileMarkdown(records, phases);
  const files = phases.map((p) => p.file);
  if (options.outDirectory) {
    const path = join(options.outDirectory, `${stamp.slice(0, 10)}-profile.md`);
    writeFileSync(path, markdown);
    files.push(path);
  }
  return { markdown, files };
}

function profileMarkdown(records: number, phases: readonly ProfiledPhase[]): string {
  const out: string[] = [
    `Broker CPU profiles: kcat, ${integer(records)} records of 100 B over TLS, 1 partition, disk storage, default durability (node --cpu-prof).`,
    "Only samples taken while kcat ran are counted, not the broker's start-up or shutdown. Self: time in the function itself; total: with what it calls.",
  ];
  for (const { phase, recordsPerSecond, summary, file } of phases) {
    const busy = summary.sampledMs - summary.idleMs;
    const pct = (ms: number) => `${decimal((ms / Math.max(busy, 1e-9)) * 100, 1)}%`;
    out.push(
      '',
      `### ${phase} (${integer(recordsPerSecond)} records/s while profiled; ${integer(busy)} ms busy, ${integer(summary.idleMs)} ms idle, GC ${pct(summary.gcMs)} of busy; ${file})`,
      '',
      'By self time (percent of busy time):',
      '',
      '| function | where | self | total |',
      '| --- | --- | --- | --- |',
      ...summary.functions.slice(0, 20).map((f) => `| ${f.functionName} | ${f.location || '(native)'} | ${pct(f.selfMs)} | ${pct(f.totalMs)} |`),
      '',
      'Our code (src/) by total time:',
      '',
      '| function | where | self | total |',
      '| --- | --- | --- | --- |',
      ...summary.ownByTotal.slice(0, 15).map((f) => `| ${f.functionName} | ${f.location} | ${pct(f.selfMs)} | ${pct(f.totalMs)} |`),
    );
  }
  return `${out.join('\n')}\n`;
}
