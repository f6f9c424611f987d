/**
 * One timer for the whole coordinator. Every session, rebalance, join-delay, pending-sync and
 * retention deadline is a Deadline object; the scheduler keeps them in a min-heap and one
 * unref'd setTimeout armed for the earliest.
 *
 * Moving a deadline later (a heartbeat) costs nothing: the heap entry stays where it is and,
 * when it comes up, is pushed again at the new time. Only a deadline moved earlier than its
 * queued entry pushes a new entry; the old one is recognised as stale when it comes up. So the
 * heap holds about one entry per armed deadline, however often members heartbeat.
 */
import { Heap } from 'mnemonist';
import { performance } from 'node:perf_hooks';
import { timerDelayMsMax } from './limits.js';

export class Deadline {
  /** When it fires (scheduler clock, ms), or Infinity when disarmed. */
  at = Infinity;
  /** The time of its live heap entry, or null when it has none. */
  queuedAt: number | null = null;

  constructor(readonly fire: () => void) {}

  get armed(): boolean {
    return this.at !== Infinity;
  }
}

interface Entry {
  readonly at: number;
  readonly deadline: Deadline;
}

export class Scheduler {
  private readonly heap = new Heap<Entry>((a, b) => a.at - b.at);
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly onError: (error: unknown) => void,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** Entries in the heap (live and stale), for tests. */
  get queued(): number {
    return this.heap.size;
  }

  /** Arms (or re-arms) `deadline` to fire `delayMs` from now. */
  arm(deadline: Deadline, delayMs: number): void {
    if (this.stopped) return;
    const at = this.now() + Math.max(0, delayMs);
    deadline.at = at;
    if (deadline.queuedAt !== null && deadline.queuedAt <= at) return;
    deadline.queuedAt = at;
    this.heap.push({ at, deadline });
    this.rearm();
  }

  disarm(deadline: Deadline): void {
    deadline.at = Infinity;
  }

  /** Forgets every deadline and stops the timer for good. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.heap.clear();
  }

  private rearm(): void {
    const next = this.heap.peek();
    if (next === undefined || this.stopped) return;
    if (this.timer !== null && this.timerAt <= next.at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = next.at;
    const delay = Math.min(timerDelayMsMax, Math.max(0, Math.ceil(next.at - this.now())));
    this.timer = setTimeout(() => this.run(), delay);
    this.timer.unref();
  }

  private run(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.now();
    // Deadlines that fire may arm others; those due already run in this same pass.
    for (let entry = this.heap.peek(); entry !== undefined && entry.at <= now && !this.stopped; entry = this.heap.peek()) {
      this.heap.pop();
      const deadline = entry.deadline;
      if (deadline.queuedAt !== entry.at) continue;
      deadline.queuedAt = null;
      if (deadline.at === Infinity) continue;
      if (deadline.at > now) {
        deadline.queuedAt = deadline.at;
        this.heap.push({ at: deadline.at, deadline });
        continue;
      }
      deadline.at = Infinity;
      try {
        deadline.fire();
      } catch (error) {
        this.onError(error);
      }
    }
    this.rearm();
  }
}
