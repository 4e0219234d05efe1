/**
 * The whole machine's CPU clocks (os.cpus(): every process, the benchmark's own, the S3 server's,
 * PostgreSQL's and Redis's included), so a measurement can tell whether the machine itself was
 * full: on two cores, a server, a client and a database compete for the same CPUs.
 */
import { cpus } from 'node:os';

/** Busy and idle milliseconds summed over all CPUs since boot (I/O wait and steal count as neither). */
export interface MachineCpu {
  busyMs: number;
  idleMs: number;
  cores: number;
}

export function machineCpu(): MachineCpu {
  const all = cpus();
  let busyMs = 0;
  let idleMs = 0;
  for (const { times } of all) {
    busyMs += times.user + times.nice + times.sys + times.irq;
    idleMs += times.idle;
  }
  return { busyMs, idleMs, cores: all.length };
}

/** Cores busy on average between two readings: 0 up to `after.cores`. */
export function busyCoresBetween(before: MachineCpu, after: MachineCpu): number {
  const busy = after.busyMs - before.busyMs;
  const idle = after.idleMs - before.idleMs;
  return busy + idle > 0 ? (busy / (busy + idle)) * after.cores : 0;
}
