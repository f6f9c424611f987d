/**
 * The child side of runNodeChild: `mark(name)` tells the suite a phase boundary was reached and
 * waits for its go-ahead (it samples the broker's CPU meanwhile); `report(result)` hands back the
 * JSON result; `runChild(main)` reports a failure on stderr with exit code 1.
 */
import { createInterface } from 'node:readline';

const goAheads: (() => void)[] = [];
/** Go-aheads that arrived before the mark they answer. */
let early = 0;
let stdinLines: ReturnType<typeof createInterface> | undefined;

function listen(): void {
  if (stdinLines) return;
  stdinLines = createInterface({ input: process.stdin });
  stdinLines.on('line', () => {
    const waiting = goAheads.shift();
    if (waiting) waiting();
    else early++;
  });
}

/** Announces a phase boundary and waits until the suite has taken its measurements. */
export function mark(name: string): Promise<void> {
  listen();
  process.stdout.write(`mark ${name}\n`);
  if (early > 0) {
    early--;
    return Promise.resolve();
  }
  return new Promise((resolve) => goAheads.push(resolve));
}

export function report(result: unknown): void {
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
}

/** Runs the child's main function; exits 0 when it resolves, 1 with the reason when it throws. */
export function runChild(main: () => Promise<void>): void {
  main().then(
    () => {
      stdinLines?.close();
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
