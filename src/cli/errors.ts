/**
 * Errors the CLI turns into exit codes. A UsageError (a bad flag, a bad config value, a missing
 * TLS file) exits 2 with one line on stderr; a CliError exits with its own code (1 by default)
 * for failures of the environment rather than of the command line. Anything else is a bug and
 * is reported with its stack.
 */
export const exitUsage = 2;
export const exitFailure = 1;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = exitFailure,
  ) {
    super(message);
  }
}
