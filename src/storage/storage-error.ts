/**
 * The error storage gives when it cannot write or sync a partition's files (ENOSPC, EIO, ...).
 * The broker answers KAFKA_STORAGE_ERROR for the partitions whose appends failed with it; the
 * partition keeps serving reads and takes appends again once its files are repaired.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    message: string,
    /** The errno code of the cause (ENOSPC, EIO, ...), or null. */
    readonly code: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Wraps an I/O error from a partition's files (a StorageError passes through unchanged). */
  static from(error: unknown, what: string): StorageError {
    if (error instanceof StorageError) return error;
    const code = (error as NodeJS.ErrnoException | null)?.code ?? null;
    return new StorageError(`${what}: ${(error as Error | null)?.message ?? String(error)}`, code, { cause: error });
  }
}

export function isStorageError(error: unknown): error is StorageError {
  return error instanceof StorageError;
}
