/** The shape of a suite run's results (bench/results/<date>.json) and their per-row summaries. */
import { spread, type LatencySummary, type Spread } from './stats.js';
import type { ClientId, Mode, ScenarioGroup, Workload } from './scenarios.js';
import type { SystemId, SystemInfo } from './systems/types.js';

export type Phase = 'produce' | 'consume' | 'latency' | 'connections' | 'idle' | 'pipe';

/** One repetition's figures for one row. */
export interface Sample {
  readonly repetition: number;
  readonly records: number;
  readonly bytes: number;
  /** The timed part only (see the row's phase for what that is). */
  readonly seconds: number;
  readonly brokerCpuSeconds: number | null;
  /** VmHWM of the broker process at the end of the phase (its lifetime peak so far). */
  readonly brokerPeakRssBytes: number | null;
  /** VmRSS at the end of the phase. */
  readonly brokerRssBytes?: number | null;
  readonly latencyMs?: LatencySummary;
  readonly ackMs?: LatencySummary;
  readonly achievedRate?: number;
  readonly scheduleLagMaxMs?: number;
  readonly connections?: number;
  readonly connectSeconds?: number;
  /** kcat runs: spawn to exit (for a consume, `seconds` starts at kcat's first output instead). */
  readonly spawnToExitSeconds?: number;
  /** Broker CPU while connections were being opened. */
  readonly connectCpuSeconds?: number | null;
}

export interface Row {
  readonly scenario: string;
  readonly group: ScenarioGroup;
  readonly system: SystemId;
  readonly client: ClientId | 'pipe';
  readonly phase: Phase;
  readonly samples: Sample[];
  readonly errors: string[];
}

export interface RowSummary {
  readonly recordsPerSecond: Spread | null;
  readonly megabytesPerSecond: Spread | null;
  readonly brokerCpuSeconds: Spread | null;
  /** Broker CPU seconds per million records. */
  readonly cpuSecondsPerMillion: Spread | null;
  readonly brokerPeakRssBytes: Spread | null;
  readonly latencyP50Ms: Spread | null;
  readonly latencyP99Ms: Spread | null;
  readonly latencyP999Ms: Spread | null;
  readonly latencyMaxMs: Spread | null;
}

export interface ScenarioRecord {
  readonly id: string;
  readonly group: ScenarioGroup;
  readonly title: string;
  readonly workload: Workload;
}

export interface SuiteResult {
  readonly format: 'inkwell-bench/1';
  readonly mode: Mode | 'smoke' | 'profile';
  readonly repetitions: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly systems: readonly SystemInfo[];
  readonly scenarios: readonly ScenarioRecord[];
  readonly rows: readonly (Row & { summary: RowSummary })[];
  readonly notes: readonly string[];
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kcat: string;
  readonly commit: string;
  readonly openFilesLimit: string;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
}

export function summarize(row: Row): RowSummary {
  const s = row.samples;
  return {
    recordsPerSecond: spread(s.map((x) => (x.seconds > 0 && x.records > 0 ? x.records / x.seconds : null))),
    megabytesPerSecond: spread(s.map((x) => (x.seconds > 0 && x.bytes > 0 ? x.bytes / 1e6 / x.seconds : null))),
    brokerCpuSeconds: spread(s.map((x) => x.brokerCpuSeconds)),
    cpuSecondsPerMillion: spread(s.map((x) => (x.brokerCpuSeconds !== null && x.records > 0 ? (x.brokerCpuSeconds / x.records) * 1e6 : null))),
    brokerPeakRssBytes: spread(s.map((x) => x.brokerPeakRssBytes)),
    latencyP50Ms: spread(s.map((x) => x.latencyMs?.p50)),
    latencyP99Ms: spread(s.map((x) => x.latencyMs?.p99)),
    latencyP999Ms: spread(s.map((x) => x.latencyMs?.p999)),
    latencyMaxMs: spread(s.map((x) => x.latencyMs?.max)),
  };
}

export function rowKey(scenario: string, system: SystemId, client: ClientId | 'pipe', phase: Phase): string {
  return `${scenario}|${system}|${client}|${phase}`;
}
