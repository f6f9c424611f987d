/** What the suite runs scenarios against: brokers (Inkwell, the librdkafka mock) and raw pipes. */

export type SystemId = 'inkwell' | 'inkwell-pagecache' | 'inkwell-memory' | 'mock' | 'tls-pipe' | 'tcp-pipe';

export interface SystemInfo {
  readonly id: SystemId;
  /** Short name for tables and charts. */
  readonly label: string;
  /** One sentence for the report: transport, storage, durability. */
  readonly description: string;
  readonly kind: 'broker' | 'pipe';
  readonly tls: boolean;
  /** Why the system cannot run here (null when it can). */
  readonly unavailable: string | null;
}

/** A broker process started for one run. */
export interface RunningBroker {
  readonly system: SystemId;
  /** host:port clients bootstrap from. */
  readonly bootstrap: string;
  /** The broker's process (its CPU and memory are what the run reports). */
  readonly pid: number;
  /** The CA file clients verify the broker with; null for plaintext. */
  readonly caFile: string | null;
  /**
   * max_wait_ms for a consumer at the end of the log. Inkwell answers a held Fetch as soon as
   * data arrives; the mock holds an empty Fetch for the whole wait, so latency runs poll it.
   */
  readonly fetchWaitMs: number;
  /** Stops the broker and removes its data. */
  stop(): Promise<void>;
  /** The last lines the broker logged (stderr), for reporting a failed run. */
  logTail(): string;
}

export interface BrokerStartOptions {
  /** Partitions of auto-created topics (ignored by the mock, which always makes 4). */
  readonly partitions: number;
  /** Extra broker configs (Inkwell only). */
  readonly settings: Readonly<Record<string, string>>;
  /** Extra node flags for the broker process, e.g. --cpu-prof (Inkwell only). */
  readonly nodeArgs?: readonly string[];
  /** Reuse this data directory and keep it after stopping (Inkwell only; profiling). */
  readonly dataDirectory?: string;
}
