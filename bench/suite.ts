/**
 * `inkwell bench`: runs the scenarios against every available system side by side, each row
 * `repetitions` times on a fresh broker, then writes bench/results/<date>.json, a markdown
 * report and four SVG charts (throughput against record size, partitions and connections; latency), and returns the markdown for stdout.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { generateCertificates } from '../src/cli/certs.js';
import { scenarios, smokeScenario, type ClientId, type Mode, type Scenario } from './scenarios.js';
import { systemCatalog, kcatUnavailable } from './systems/catalog.js';
import type { SystemId, SystemInfo } from './systems/types.js';
import { PartialRun, runOnce, type RunContext } from './run-scenario.js';
import { rowKey, summarize, type Row, type SuiteResult } from './results.js';
import { ProgressBar } from './report/progress.js';
import { markdownReport } from './report/markdown.js';
import { connectionsChart, latencyChart, partitionsChart, throughputChart } from './report/figures.js';
import { commitDescription, kcatVersion, loadAverage, machineBasics, openFilesLimit, openFilesSoftLimit } from './machine.js';
import { ourClientScript } from './clients/ours.js';
import { cliMain } from './paths.js';

export interface SuiteOptions {
  readonly mode: Mode | 'smoke';
  readonly repetitions: number;
  /** Run only scenarios whose id or group contains one of these (all when empty). */
  readonly only: readonly string[];
  /** Restrict to these systems (all available when null). */
  readonly systems: readonly SystemId[] | null;
  readonly clients: readonly ClientId[] | null;
  /** Where to write the files; null writes nothing. */
  readonly outDirectory: string | null;
  readonly progress: boolean;
  /** The inkwell CLI whose broker is measured (default: this checkout's build). */
  readonly inkwellCli?: string;
}

export interface SuiteOutput {
  readonly result: SuiteResult;
  readonly markdown: string;
  readonly files: readonly string[];
}

interface PlannedRun {
  readonly scenario: Scenario;
  readonly repetition: number;
  readonly system: SystemId;
  readonly client: ClientId | 'pipe';
}

const phaseTimeoutMs: Record<SuiteOptions['mode'], number> = { full: 15 * 60_000, quick: 2 * 60_000, smoke: 40_000 };

function clientAvailability(oursScript: string | null): Record<ClientId, string | null> {
  return {
    kcat: kcatUnavailable(),
    kafkajs: null,
    ours: oursScript ? null : 'our client (src/client) exports no Producer from src/index.ts yet',
    raw: null,
  };
}

/** Every run of the suite, repetitions interleaved so that drift in the machine's load hits every system alike. */
function plan(selected: readonly Scenario[], systems: readonly SystemInfo[], options: SuiteOptions, clientsUnavailable: Record<ClientId, string | null>): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const scenario of selected) {
    for (let repetition = 1; repetition <= options.repetitions; repetition++) {
      for (const systemId of scenario.systems) {
        const system = systems.find((s) => s.id === systemId);
        if (!system || system.unavailable !== null) continue;
        if (options.systems && !options.systems.includes(systemId)) continue;
        if (system.kind === 'pipe') {
          runs.push({ scenario, repetition, system: systemId, client: 'pipe' });
          continue;
        }
        for (const client of scenario.clients) {
          if (clientsUnavailable[client] !== null) continue;
          if (options.clients && !options.clients.includes(client)) continue;
          runs.push({ scenario, repetition, system: systemId, client });
        }
      }
    }
  }
  return runs;
}

function selectScenarios(options: SuiteOptions): Scenario[] {
  if (options.mode === 'smoke') return [smokeScenario()];
  const all = scenarios(options.mode);
  if (options.only.length === 0) return all;
  return all.filter((s) => options.only.some((needle) => s.id.includes(needle) || s.group === needle));
}

/** Files a process needs besides its connections (modules, data files, pipes). */
const filesReserve = 256;

/**
 * Nothing is raised system-wide: when `ulimit -n` cannot hold a scenario's connections in one
 * process, the scenario opens as many as fit and says so (its id then names the real count).
 */
function fitToFileLimit(selected: readonly Scenario[], limit: number | null, notes: string[]): Scenario[] {
  if (limit === null) return [...selected];
  return selected.map((scenario) => {
    const w = scenario.workload;
    if ((w.kind !== 'idle' && w.kind !== 'connections') || w.connections + filesReserve <= limit) return scenario;
    const fits = limit - filesReserve;
    notes.push(`ulimit -n is ${limit}: ${scenario.id} opened ${fits.toLocaleString('en-US')} connections instead of ${w.connections.toLocaleString('en-US')}.`);
    return { ...scenario, id: scenario.id.replace(String(w.connections), String(fits)), title: scenario.title.replace(w.connections.toLocaleString('en-US'), fits.toLocaleString('en-US')), workload: { ...w, connections: fits } };
  });
}

function dateStamp(): string {
  return new Date().toISOString().slice(0, 10);
}

export async function runSuite(options: SuiteOptions): Promise<SuiteOutput> {
  const startedAt = new Date().toISOString();
  const loadAverageBefore = loadAverage();
  const systems = systemCatalog();
  const oursScript = await ourClientScript();
  const clientsUnavailable = clientAvailability(oursScript);
  const limitNotes: string[] = [];
  const selected = fitToFileLimit(selectScenarios(options), openFilesSoftLimit(), limitNotes);
  const runs = plan(selected, systems, options, clientsUnavailable);
  if (runs.length === 0) throw new Error('nothing to run: no scenario, system and client match the options');

  const work = mkdtempSync(join(tmpdir(), 'inkwell-bench-'));
  const rows = new Map<string, Row>();
  const progress = new ProgressBar(runs.length, options.progress);
  try {
    const certificates = join(work, 'certs');
    await generateCertificates({ out: certificates, hosts: ['localhost', '127.0.0.1'], days: 2 });
    const inputs = join(work, 'inputs');
    mkdirSync(inputs);
    for (const run of runs) {
      const labelText = `${run.scenario.id} (${run.repetition}/${options.repetitions}) · ${run.system} · ${run.client}`;
      progress.update(labelText);
      const context: RunContext = { setup: { certificates, work, cli: options.inkwellCli ?? cliMain }, inputs, phaseTimeoutMs: phaseTimeoutMs[options.mode], repetition: run.repetition, oursScript };
      const phases = defaultPhases(run);
      try {
        const samples = await runOnce(run.scenario, run.system, run.client, context);
        for (const { phase, sample } of samples) rowFor(rows, run, phase).samples.push(sample);
      } catch (error) {
        const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 400);
        const done = error instanceof PartialRun ? error.done : [];
        for (const { phase, sample } of done) rowFor(rows, run, phase).samples.push(sample);
        for (const phase of phases) if (!done.some((d) => d.phase === phase)) rowFor(rows, run, phase).errors.push(`rep ${run.repetition}: ${message}`);
      }
      progress.step(labelText);
    }
  } finally {
    progress.finish();
    rmSync(work, { recursive: true, force: true });
  }

  const result: SuiteResult = {
    format: 'inkwell-bench/1',
    mode: options.mode,
    repetitions: options.repetitions,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      ...machineBasics(),
      kcat: kcatVersion(),
      commit: commitDescription(),
      openFilesLimit: openFilesLimit(),
      loadAverageBefore,
      loadAverageAfter: loadAverage(),
    },
    systems,
    scenarios: selected.map(({ id, group, title, workload }) => ({ id, group, title, workload })),
    rows: [...rows.values()].map((row) => ({ ...row, summary: summarize(row) })),
    notes: [...notes(clientsUnavailable, selected), ...limitNotes],
  };
  const markdown = markdownReport(result);
  const files = options.outDirectory ? writeOutputs(result, markdown, options.outDirectory) : [];
  return { result, markdown, files };
}

/** The phases a run would have reported, so that a failure is recorded against each. */
function defaultPhases(run: PlannedRun) {
  if (run.client === 'pipe') return ['pipe'] as const;
  switch (run.scenario.workload.kind) {
    case 'throughput':
      return ['produce', 'consume'] as const;
    case 'latency':
      return ['latency'] as const;
    case 'connections':
      return ['connections'] as const;
    case 'idle':
      return ['idle'] as const;
  }
}

function rowFor(rows: Map<string, Row>, run: PlannedRun, phase: Row['phase']): Row {
  const key = rowKey(run.scenario.id, run.system, run.client, phase);
  let row = rows.get(key);
  if (!row) {
    row = { scenario: run.scenario.id, group: run.scenario.group, system: run.system, client: run.client, phase, samples: [], errors: [] };
    rows.set(key, row);
  }
  return row;
}

function notes(clientsUnavailable: Record<ClientId, string | null>, selected: readonly Scenario[]): string[] {
  const list = [
    'kcat produce is timed from spawn to exit (start-up, TLS handshake and metadata included; the topic itself is created just before, by `kcat -L -t bench`, untimed, on every system). kcat consume is timed from its first output to its exit at the end of the log (fetch.wait.max.ms=10, so that the last, empty Fetch is not held for 500 ms): librdkafka sometimes sleeps 500 ms before its first Fetch, a client-side timer that would swamp short runs. The JSON has spawn-to-exit times too.',
    'Partition scenarios produce with sticky.partitioning.linger.ms=0, so that records spread over every partition.',
    'The mock keeps about 5 MiB per partition, so a consume from it reads what is left (its records/s is over what it read).',
    'kafkajs and our client consume in their own way: kafkajs joins a fresh consumer group (subscribe from the beginning), ours assigns every partition (no group); both are timed from their first batch to the end offsets the topic had at start, so joining and start-up are not timed.',
    'Latency is measured by our raw-protocol client (bench/clients/latency-client.ts): producer and consumer in one process, stamped with the monotonic clock. The mock holds an empty Fetch for its whole max wait, so its consumer polls with max_wait_ms=1; Inkwell\'s consumer long-polls (500 ms) and is woken by the append.',
  ];
  for (const [client, why] of Object.entries(clientsUnavailable)) if (why !== null) list.push(`Client ${client} not run: ${why}.`);
  for (const s of selected) {
    if (s.group === 'idle' && s.workload.kind === 'idle' && s.workload.connections < 10_000) list.push(`Quick mode opens ${s.workload.connections.toLocaleString('en-US')} idle connections, not 10,000.`);
  }
  return list;
}

/** Renders the report and charts again from a saved <date>.json (after changing the report code, say). */
export function renderSaved(jsonPath: string, outDirectory: string | null): SuiteOutput {
  const result = JSON.parse(readFileSync(jsonPath, 'utf8')) as SuiteResult;
  if (result.format !== 'inkwell-bench/1') throw new Error(`${jsonPath} is not an inkwell bench result`);
  const markdown = markdownReport(result);
  const stem = basename(jsonPath).replace(/\.json$/, '');
  const files = outDirectory ? writeOutputs(result, markdown, outDirectory, stem, false) : [];
  return { result, markdown, files };
}

function writeOutputs(result: SuiteResult, markdown: string, directory: string, stemName = `${dateStamp()}${result.mode === 'full' ? '' : `-${result.mode}`}`, withJson = true): string[] {
  mkdirSync(directory, { recursive: true });
  const stem = join(directory, stemName);
  const files: [string, string][] = [
    ...(withJson ? [[`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`] as [string, string]] : []),
    [`${stem}.md`, markdown],
  ];
  const charts: [string, string | null][] = [
    ['throughput', throughputChart(result)],
    ['partitions', partitionsChart(result)],
    ['connections', connectionsChart(result)],
    ['latency', latencyChart(result)],
  ];
  for (const [name, svg] of charts) if (svg) files.push([`${stem}-${name}.svg`, svg]);
  for (const [path, content] of files) writeFileSync(path, content);
  return files.map(([path]) => path);
}
