/**
 * One run: one scenario, against one system, with one client, one repetition, on a freshly
 * started broker (or pipe). Returns a sample per phase; the broker's CPU is read from /proc
 * around each phase and its peak RSS at each phase's end.
 */
import { benchScript } from './paths.js';
import { runNodeChild } from './child.js';
import { CpuMeter, peakRssBytes, rssBytes } from './proc-stats.js';
import { recordsFile } from './input-files.js';
import { kcatConsume, kcatCreateTopic, kcatProduce } from './clients/kcat.js';
import { endpointArgs, type ClientResult } from './clients/child-args.js';
import { startBroker } from './systems/catalog.js';
import { runPipe } from './systems/pipe.js';
import type { InkwellSetup } from './systems/inkwell.js';
import type { RunningBroker, SystemId } from './systems/types.js';
import type { ClientId, Scenario } from './scenarios.js';
import type { Phase, Sample } from './results.js';
import type { LatencyResult } from './clients/latency-client.js';
import type { ConnectionsResult } from './clients/connections-client.js';

export interface RunContext {
  readonly setup: InkwellSetup;
  /** Where input files are kept for the whole suite run. */
  readonly inputs: string;
  readonly phaseTimeoutMs: number;
  readonly repetition: number;
  /** Script of our own client's producer, when src/client exists. */
  readonly oursScript: string | null;
}

export interface PhaseSample {
  readonly phase: Phase;
  readonly sample: Sample;
}

/** A run that failed after some of its phases had been measured: those keep their figures. */
export class PartialRun extends Error {
  constructor(
    failure: unknown,
    readonly done: readonly PhaseSample[],
  ) {
    super(failure instanceof Error ? failure.message : String(failure));
  }
}

/** Measures a phase: broker CPU used during it, and its memory at its end. */
class PhaseMeter {
  private readonly cpu: CpuMeter;
  constructor(private readonly pid: number) {
    this.cpu = new CpuMeter(pid);
  }
  start(): void {
    this.cpu.lap();
  }
  end(): { brokerCpuSeconds: number | null; brokerPeakRssBytes: number | null; brokerRssBytes: number | null } {
    return { brokerCpuSeconds: this.cpu.lap(), brokerPeakRssBytes: peakRssBytes(this.pid), brokerRssBytes: rssBytes(this.pid) };
  }
}

export async function runOnce(scenario: Scenario, system: SystemId, client: ClientId | 'pipe', context: RunContext): Promise<PhaseSample[]> {
  const workload = scenario.workload;
  if (client === 'pipe') {
    if (workload.kind !== 'throughput') throw new Error('pipes run throughput scenarios only');
    return [await pipeRun(scenario, system, context)];
  }
  const partitions = workload.kind === 'throughput' ? workload.partitions : 1;
  const broker = await startBroker(system, context.setup, { partitions, settings: scenario.settings ?? {} });
  let samples: PhaseSample[];
  try {
    samples = await clientRun(scenario, broker, client, context);
  } catch (error) {
    // What the broker said (its exit status, or the last problem it logged) explains more than the client's error.
    const stopped = await broker.stop().then(
      () => null,
      (stopError: unknown) => stopError,
    );
    const brokerSaid = stopped instanceof Error ? stopped.message : lastProblem(broker.logTail());
    if (brokerSaid === null) throw error;
    const message = `${error instanceof Error ? error.message : String(error)}; broker: ${brokerSaid}`;
    throw error instanceof PartialRun ? new PartialRun(new Error(message), error.done) : new Error(message);
  }
  await broker.stop();
  return samples;
}

async function pipeRun(scenario: Scenario, system: SystemId, context: RunContext): Promise<PhaseSample> {
  if (scenario.workload.kind !== 'throughput') throw new Error('unreachable');
  const { records, recordBytes } = scenario.workload;
  let meter: PhaseMeter | null = null;
  let measured: ReturnType<PhaseMeter['end']> | null = null;
  const result = await runPipe({
    tls: system === 'tls-pipe',
    bytes: records * recordBytes,
    chunkBytes: Math.max(recordBytes, 1024 * 1024),
    certificates: context.setup.certificates,
    timeoutMs: context.phaseTimeoutMs,
    onMark: (name, sinkPid) => {
      if (name === 'connected') {
        meter = new PhaseMeter(sinkPid);
        meter.start();
      } else if (name === 'moved') measured = meter?.end() ?? null;
    },
  });
  const m = measured as ReturnType<PhaseMeter['end']> | null;
  return {
    phase: 'pipe',
    sample: { repetition: context.repetition, records, bytes: result.bytes, seconds: result.seconds, brokerCpuSeconds: m?.brokerCpuSeconds ?? null, brokerPeakRssBytes: m?.brokerPeakRssBytes ?? null },
  };
}

async function clientRun(scenario: Scenario, broker: RunningBroker, client: ClientId, context: RunContext): Promise<PhaseSample[]> {
  const workload = scenario.workload;
  const meter = new PhaseMeter(broker.pid);
  const repetition = context.repetition;
  const timeoutMs = context.phaseTimeoutMs;
  const endpoint = endpointArgs(broker.bootstrap, broker.caFile);
  const childMarks = (starts: string, ends: string, onEnd: (m: ReturnType<PhaseMeter['end']>) => void) => (name: string) => {
    if (name === starts) meter.start();
    else if (name === ends) onEnd(meter.end());
  };

  if (workload.kind === 'throughput') {
    const { records, recordBytes } = workload;
    const bytes = records * recordBytes;
    if (client === 'kcat') {
      const input = await recordsFile(context.inputs, records, recordBytes);
      // The topic is created (auto-created by a metadata request) before the clock and the CPU
      // meter start, on every system alike: creating its partitions (folders, files and syncs;
      // seconds for 1,000 of them) is topic administration, not produce throughput.
      await kcatCreateTopic(broker, 'bench', timeoutMs);
      meter.start();
      const produced = await kcatProduce(broker, 'bench', input, recordBytes, timeoutMs, workload.partitions > 1);
      const produceMeasure = meter.end();
      const produceSample: PhaseSample = { phase: 'produce', sample: { repetition, records, bytes, seconds: produced.seconds, ...produceMeasure, spawnToExitSeconds: produced.seconds } };
      meter.start();
      let consumed: Awaited<ReturnType<typeof kcatConsume>>;
      try {
        consumed = await kcatConsume(broker, 'bench', recordBytes, timeoutMs);
        // The mock keeps only ~5 MiB per partition, so only Inkwell must give everything back.
        if (broker.system !== 'mock' && consumed.lines !== records) throw new Error(`kcat read back ${consumed.lines} records of the ${records} produced`);
        if (consumed.lines === 0 || consumed.firstOutputSeconds === null) throw new Error('kcat consumed nothing');
      } catch (error) {
        throw new PartialRun(error, [produceSample]);
      }
      const consumeMeasure = meter.end();
      return [
        produceSample,
        {
          phase: 'consume',
          sample: {
            repetition,
            records: consumed.lines,
            bytes: consumed.lines * recordBytes,
            seconds: consumed.seconds - consumed.firstOutputSeconds!,
            ...consumeMeasure,
            spawnToExitSeconds: consumed.seconds,
          },
        },
      ];
    }
    if (client === 'kafkajs' || client === 'ours') {
      const script = client === 'kafkajs' ? benchScript('clients/kafkajs-client.js') : context.oursScript;
      if (script === null) throw new Error('our client is not built');
      const samples: PhaseSample[] = [];
      for (const [mode, ends] of [
        ['produce', 'produced'],
        ['consume', 'consumed'],
      ] as const) {
        let measure: ReturnType<PhaseMeter['end']> | null = null;
        const capForMock = broker.system === 'mock' && client === 'ours' ? ['--list-offsets-max', '3'] : [];
        let result: ClientResult;
        try {
          result = await runNodeChild<ClientResult>(script, [...endpoint, ...capForMock, '--mode', mode, '--records', String(records), '--record-bytes', String(recordBytes), '--topic', `bench-${client}`], {
            timeoutMs,
            onMark: childMarks('connected', ends, (m) => (measure = m)),
          });
        } catch (error) {
          throw new PartialRun(error, samples);
        }
        // The mock keeps only ~5 MiB per partition, so only Inkwell must give everything back.
        if (mode === 'consume' && broker.system !== 'mock' && result.records < records) throw new PartialRun(new Error(`${client} read back ${result.records} of ${records} records`), samples);
        samples.push({ phase: mode, sample: { repetition, records: result.records, bytes: result.records * recordBytes, seconds: result.seconds, ...orEmpty(measure) } });
      }
      return samples;
    }
    throw new Error(`client ${client} does not run throughput scenarios`);
  }

  if (workload.kind === 'latency') {
    const result = await runNodeChild<LatencyResult>(
      benchScript('clients/latency-client.js'),
      [...endpoint, '--rate', String(workload.rate), '--seconds', String(workload.seconds), '--warmup-seconds', String(workload.warmupSeconds), '--record-bytes', String(workload.recordBytes), '--fetch-wait-ms', String(broker.fetchWaitMs)],
      {
        timeoutMs,
        onMark: (name) => {
          if (name === 'connected') meter.start();
        },
      },
    );
    const measure = meter.end();
    return [
      {
        phase: 'latency',
        sample: {
          repetition,
          records: result.sent,
          bytes: result.sent * workload.recordBytes,
          seconds: result.seconds,
          ...measure,
          latencyMs: result.latencyMs,
          ackMs: result.ackMs,
          achievedRate: result.achievedRate,
          scheduleLagMaxMs: result.scheduleLagMaxMs,
        },
      },
    ];
  }

  const script = benchScript('clients/connections-client.js');
  let connectMeasure: ReturnType<PhaseMeter['end']> | null = null;
  let phaseMeasure: ReturnType<PhaseMeter['end']> | null = null;
  const onMark = (name: string) => {
    if (name === 'connected') {
      connectMeasure = meter.end();
      meter.start();
    } else phaseMeasure = meter.end();
  };
  meter.start();
  if (workload.kind === 'connections') {
    const result = await runNodeChild<ConnectionsResult>(
      script,
      [...endpoint, '--mode', 'produce', '--connections', String(workload.connections), '--records', String(workload.records), '--record-bytes', String(workload.recordBytes)],
      { timeoutMs, onMark },
    );
    const connect = orEmpty(connectMeasure);
    return [
      {
        phase: 'connections',
        sample: {
          repetition,
          records: result.records,
          bytes: result.records * workload.recordBytes,
          seconds: result.seconds,
          ...orEmpty(phaseMeasure),
          connections: result.connections,
          connectSeconds: result.connectSeconds,
          connectCpuSeconds: connect.brokerCpuSeconds ?? null,
        },
      },
    ];
  }
  const result = await runNodeChild<ConnectionsResult>(script, [...endpoint, '--mode', 'idle', '--connections', String(workload.connections), '--hold-seconds', String(workload.holdSeconds)], {
    timeoutMs,
    onMark,
  });
  const connect = orEmpty(connectMeasure);
  return [
    {
      phase: 'idle',
      sample: {
        repetition,
        records: 0,
        bytes: 0,
        seconds: result.seconds,
        ...orEmpty(phaseMeasure),
        connections: result.connections,
        connectSeconds: result.connectSeconds,
        connectCpuSeconds: connect.brokerCpuSeconds ?? null,
      },
    },
  ];
}

/** The last line of a broker log that reports a problem, or null. */
function lastProblem(log: string): string | null {
  const lines = log.split('\n').filter((line) => /error|fail|EMFILE|ENOSPC|refus|cannot/i.test(line));
  return lines.length > 0 ? lines[lines.length - 1]!.replace(/^\S+Z /, '').slice(0, 300) : null;
}

function orEmpty(measure: ReturnType<PhaseMeter['end']> | null): Partial<ReturnType<PhaseMeter['end']>> & { brokerCpuSeconds: number | null; brokerPeakRssBytes: number | null } {
  return measure ?? { brokerCpuSeconds: null, brokerPeakRssBytes: null };
}
