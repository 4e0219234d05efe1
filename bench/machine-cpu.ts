/**
 * The whole machine's CPU clocks (every process: the benchmark's own, the S3 server's, PostgreSQL's
 * and Redis's), so a measurement can tell whether the machine itself was full: on two cores, a
 * server, a client and a database compete for the same CPUs.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * CPU time summed over all CPUs since boot, in the kernel's ticks (or milliseconds, from os.cpus()):
 * busy (user, nice, system, irq, softirq), stolen by the hypervisor, and all time (busy, idle, I/O
 * wait and steal).
 */
export interface MachineCpu {
  busy: number;
  steal: number;
  total: number;
  cores: number;
}

/**
 * Reads /proc/stat's `cpu` line on Linux. Elsewhere os.cpus(), which knows neither softirq nor
 * steal: there busy time handled in softirq counts as idle, and steal as nothing.
 */
export function machineCpu(): MachineCpu {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const [user, nice, system, idle, iowait, irq, softirq, steal] = lines[0]!
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    const busy = user! + nice! + system! + irq! + softirq!;
    const cores = lines.filter((line) => /^cpu\d+ /.test(line)).length;
    if ([busy, idle, iowait, steal].every(Number.isFinite) && cores > 0) {
      return { busy, steal: steal!, total: busy + idle! + iowait! + steal!, cores };
    }
  } catch {
    // Not Linux: os.cpus() below.
  }
  const all = cpus();
  let busy = 0;
  let total = 0;
  for (const { times } of all) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, steal: 0, total, cores: all.length };
}

/** Cores busy, and cores stolen by the hypervisor, on average over a measurement, of `cores`. */
export interface MachineLoad {
  busy: number;
  stolen: number;
  cores: number;
}

/** The machine's load between two readings. */
export function busyCoresBetween(before: MachineCpu, after: MachineCpu): MachineLoad {
  const total = after.total - before.total;
  if (total <= 0) return { busy: 0, stolen: 0, cores: after.cores };
  return {
    busy: ((after.busy - before.busy) / total) * after.cores,
    stolen: ((after.steal - before.steal) / total) * after.cores,
    cores: after.cores,
  };
}
