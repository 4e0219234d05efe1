/**
 * `anpr-audit worker` as a child process, as production runs it, with its memory and CPU sampled
 * from /proc: peak resident set (VmHWM, and the highest VmRSS seen) and user+system CPU seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { trackChild } from './cleanup.js';

const BIN = resolve('bin/anpr-audit.js');
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every common kernel). */
const TICKS_PER_SECOND = 100;

export interface WorkerProcess {
  pid: number;
  /** Highest resident set size seen, in bytes (the kernel's VmHWM, or the sampled VmRSS if higher). */
  peakRss(): number;
  /** Resident set size when the worker said it was ready (after loading and compiling), in bytes. */
  rssAtReady(): number;
  /** Every VmRSS sample taken: performance.now() and bytes. */
  samples(): { at: number; rss: number }[];
  /** CPU seconds (user + system) used since the worker was ready (startup excluded). */
  cpuSeconds(): number;
  /** Samples /proc now (also done every `sampleMs`). */
  sample(): void;
  /** The last few KiB of the child's stderr, for error messages. */
  stderrTail(): string;
  /** SIGTERM (graceful), then SIGKILL after `graceMs`. Samples one last time before. */
  stop(graceMs?: number): Promise<void>;
}

function readStatus(pid: number): { rss: number; hwm: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return null;
  }
}

function readCpu(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * Starts a worker process on `configPath` with exactly `env` (plus PATH and HOME), and resolves
 * once it logs that it is ready. Rejects (and kills it) when it exits or is not ready in time.
 */
export async function startWorkerProcess(opts: {
  configPath: string;
  env: Record<string, string>;
  concurrency: number;
  nodeArgs?: string[];
  sampleMs?: number;
  readyTimeoutMs?: number;
}): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      BIN,
      'worker',
      '--config',
      opts.configPath,
      '--concurrency',
      String(opts.concurrency),
    ],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  trackChild(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('worker process did not start');
  let tail = '';
  let peak = 0;
  let cpu = 0;
  let lastRss = 0;
  const samples: { at: number; rss: number }[] = [];
  const sample = () => {
    const status = readStatus(pid);
    if (status) {
      peak = Math.max(peak, status.rss, status.hwm);
      lastRss = status.rss;
      samples.push({ at: performance.now(), rss: status.rss });
    }
    cpu = readCpu(pid) ?? cpu;
  };
  const timer = setInterval(sample, opts.sampleMs ?? 100);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  await new Promise<void>((ready, fail) => {
    const timeout = setTimeout(
      () => fail(new Error(`worker not ready after ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail}`)),
      opts.readyTimeoutMs ?? 60_000,
    );
    child.stderr!.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4096);
      if (tail.includes('scan worker started')) {
        clearTimeout(timeout);
        ready();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timeout);
      fail(new Error(`worker exited (${code ?? signal}) before it was ready:\n${tail}`));
    });
  }).catch((error: unknown) => {
    clearInterval(timer);
    child.kill('SIGKILL');
    throw error;
  });
  sample();
  const cpuAtReady = cpu;
  const rssAtReady = lastRss;

  return {
    pid,
    peakRss: () => peak,
    rssAtReady: () => rssAtReady,
    samples: () => samples,
    cpuSeconds: () => cpu - cpuAtReady,
    sample,
    stderrTail: () => tail,
    async stop(graceMs = 30_000) {
      sample();
      clearInterval(timer);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}
