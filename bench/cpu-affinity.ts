/**
 * `--pin`: the S3 process (its event loop and its file-system threads) on a CPU of its own, the
 * benchmark process and the worker processes it starts on the others, with util-linux's `taskset`.
 *
 * Why it is worth measuring: a remote S3 server never shares a CPU with the auditor, but the
 * benchmark's embedded one does. Unpinned on two cores, the S3 process's profiles show a scan costing
 * its event loop more time in file-system calls than a bare client making the same requests, likely
 * its own file-system threads preempting it while the client side (the worker, PostgreSQL, Redis)
 * keeps the other CPU busy. Pinned, the run-to-run spread shrinks and the listing's cost to the
 * server shows apart from the scan's own. PostgreSQL and Redis are the machine's services and are
 * left where the scheduler puts them.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Which CPUs go to whom in a pinned run. */
export interface CpuSplit {
  /** The CPU of the S3 process, alone. */
  server: number;
  /** The CPUs of the benchmark process, its threads and its children. */
  clients: number[];
}

/** Parses a kernel CPU list such as `0-3,6`. Throws on anything else. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) throw new Error(`not a CPU list: "${list}"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (let cpu = first; cpu <= last; cpu += 1) cpus.push(cpu);
  }
  return cpus;
}

/**
 * The split of this process's allowed CPUs (the last one to the server). Throws when there is none:
 * not Linux, fewer than two CPUs, or no `taskset`.
 */
export async function planCpuSplit(): Promise<CpuSplit> {
  const status = readFileSync('/proc/self/status', 'utf8');
  const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
  if (!line) throw new Error('--pin: no Cpus_allowed_list in /proc/self/status');
  const allowed = parseCpuList(line[1]!);
  if (allowed.length < 2) throw new Error(`--pin: only ${allowed.length} CPU allowed`);
  await run('taskset', ['--version']).catch(() => {
    throw new Error('--pin: no taskset (util-linux) on the PATH');
  });
  return { server: allowed.at(-1)!, clients: allowed.slice(0, -1) };
}

/**
 * Gives the S3 process `serverPid` its CPU and this process (with the worker processes it starts
 * later) the others. Says what it did, for the report.
 */
export async function applyCpuSplit(split: CpuSplit, serverPid: number): Promise<string> {
  await pinProcess(serverPid, [split.server]);
  await pinProcess(process.pid, split.clients);
  return (
    `pinned (--pin): the S3 process alone on CPU ${split.server}, the benchmark and its worker processes ` +
    `on CPU ${split.clients.join(',')}; PostgreSQL and Redis on any`
  );
}

/** Sets the CPUs of every thread `pid` has now (threads it starts later inherit them). */
export async function pinProcess(pid: number, cpus: number[]): Promise<void> {
  const args = ['--all-tasks', '--pid', '--cpu-list', cpus.join(','), String(pid)];
  try {
    await run('taskset', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`taskset ${args.join(' ')} failed: ${stderr || (error as Error).message}`, {
      cause: error,
    });
  }
}
