/**
 * The errors the client throws. Every one is a KafkaError carrying a Kafka error name (from
 * protocol/errors.ts, or one of the client-side names below) and whether trying again may help,
 * so callers can decide on retries without parsing messages.
 */
import { errorInfo, type ErrorName } from '../protocol/errors.js';

/** Conditions the client detects itself; they have no Kafka error code. */
export type ClientErrorName = 'CONNECTION_FAILED' | 'BUFFER_FULL' | 'CLIENT_CLOSED' | 'PROTOCOL_VIOLATION' | 'NO_BROKER' | 'DELIVERY_TIMEOUT';

export type KafkaErrorName = ErrorName | ClientErrorName;

const clientRetriable: Record<ClientErrorName, boolean> = {
  CONNECTION_FAILED: true,
  BUFFER_FULL: false,
  CLIENT_CLOSED: false,
  PROTOCOL_VIOLATION: false,
  NO_BROKER: true,
  DELIVERY_TIMEOUT: false,
};

export interface KafkaErrorDetails {
  /** Overrides the table's retriable flag (for example a retriable error whose retries ran out). */
  readonly retriable?: boolean;
  readonly topic?: string;
  readonly partition?: number;
  readonly cause?: unknown;
}

export class KafkaError extends Error {
  override readonly name = 'KafkaError';
  /** The Kafka error name, e.g. "NOT_LEADER_OR_FOLLOWER", or a client-side name such as "CONNECTION_FAILED". */
  readonly errorName: KafkaErrorName;
  /** The Kafka error code; -1 for client-side conditions. */
  readonly code: number;
  readonly retriable: boolean;
  readonly topic: string | undefined;
  readonly partition: number | undefined;

  constructor(errorName: KafkaErrorName, message: string, details: KafkaErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.errorName = errorName;
    const info = errorInfo(errorName);
    this.code = info?.code ?? -1;
    this.retriable = details.retriable ?? info?.retriable ?? clientRetriable[errorName as ClientErrorName] ?? false;
    this.topic = details.topic;
    this.partition = details.partition;
  }
}

/** The KafkaError for an error code in a response; null for code 0. */
export function errorFromCode(code: number, context: string, details: KafkaErrorDetails & { message?: string | null } = {}): KafkaError | null {
  if (code === 0) return null;
  const info = errorInfo(code);
  const name = info?.name ?? 'UNKNOWN_SERVER_ERROR';
  const description = details.message ?? info?.description ?? `error code ${code}`;
  return new KafkaError(name, `${context}: ${name}: ${description}`, details);
}

/** Throws the KafkaError for a non-zero error code. */
export function throwIfError(code: number, context: string, details: KafkaErrorDetails & { message?: string | null } = {}): void {
  const error = errorFromCode(code, context, details);
  if (error !== null) throw error;
}

export function isRetriable(error: unknown): boolean {
  return error instanceof KafkaError && error.retriable;
}
