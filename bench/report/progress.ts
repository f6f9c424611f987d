/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */

export class ProgressBar {
  private done = 0;
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(
    private readonly total: number,
    enabled = process.stderr.isTTY === true,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = enabled && total > 0;
  }

  /** Shows what is running now. */
  update(label: string): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = Math.round((this.done / this.total) * width);
    const elapsed = Math.round((Date.now() - this.started) / 1000);
    const columns = this.stream.columns ?? 100;
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.done}/${this.total} ${formatElapsed(elapsed)} ${label}`;
    this.stream.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
  }

  step(label = ''): void {
    this.done++;
    this.update(label);
  }

  finish(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}

function formatElapsed(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
}
