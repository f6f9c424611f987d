/**
 * CPU time and memory of another process, read from /proc (process.cpuUsage only covers the
 * calling process). utime+stime come from /proc/<pid>/stat in clock ticks; the peak resident set
 * (VmHWM) and the current one (VmRSS) from /proc/<pid>/status.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (`getconf CLK_TCK`), 100 on nearly every Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User plus system CPU seconds the process has used so far, or null when it cannot be read. */
export function cpuSeconds(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0]; utime is field 14 and stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / clockTicksPerSecond();
}

function statusKilobytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : null;
}

/** The largest resident set the process has had (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number | null {
  return statusKilobytes(pid, 'VmHWM');
}

/** The resident set now (VmRSS), in bytes. */
export function rssBytes(pid: number): number | null {
  return statusKilobytes(pid, 'VmRSS');
}

/** CPU seconds used between construction (or the last `lap`) and now. */
export class CpuMeter {
  private last: number | null;

  constructor(private readonly pid: number) {
    this.last = cpuSeconds(pid);
  }

  lap(): number | null {
    const now = cpuSeconds(this.pid);
    const used = now !== null && this.last !== null ? now - this.last : null;
    this.last = now;
    return used;
  }
}
