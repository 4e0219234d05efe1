/**
 * The benchmark's S3 (s3rver behind the counting gateway, fixtures/s3-server.ts) in a child process of
 * its own (bench/s3-process-main.ts), as a remote S3 server is: its CPU does not compete with the
 * client or the worker being measured on one event loop. The gateway's counters and the child's CPU
 * time are reached over the IPC channel.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GatewayCounts } from '../fixtures/s3-gateway.js';
import { onCleanup } from './cleanup.js';
import type { ProfiledPeer } from './inspector-profile.js';

/** The requests the child answers, and the result of each. */
export interface S3ProcessOps {
  /** The gateway's counts(). */
  counts: GatewayCounts;
  /** The gateway's resetCounts(). */
  'reset-counts': null;
  /** The child's CPU time and event-loop time since it started. */
  load: S3Load;
  /** Starts the V8 CPU profiler in the child. */
  'profile-start': null;
  /** Stops it and writes the profile to the request's `path`. */
  'profile-stop': null;
  /** Closes the stack, answers, then exits 0. */
  close: null;
}
export type S3ProcessOp = keyof S3ProcessOps;

/** Parent to child: one request. */
export interface S3ProcessRequest {
  id: number;
  op: S3ProcessOp;
  /** Where `profile-stop` writes the profile. */
  path?: string;
}

/** Child to parent: the answer to request `id`, or the child's start-up message. */
export type S3ProcessMessage =
  { id: number; result: unknown } | { id: number; error: string } | ({ type: 'ready' } & S3ProcessEndpoint);

/** Where the stack listens, and the credentials it accepts. */
export interface S3ProcessEndpoint {
  /** The gateway's endpoint, e.g. `http://127.0.0.1:43121`: what the auditor talks to. */
  url: string;
  port: number;
  /** The s3rver behind the gateway, for uploads the gateway must not count. */
  upstreamPort: number;
  accessKey: string;
  secretKey: string;
  region: string;
}

/**
 * The S3 process's clocks since it started: CPU seconds (user + system, its thread pool included) and
 * its event loop's active and idle milliseconds (performance.eventLoopUtilization()). Two readings
 * subtract (s3LoadBetween) to what one measurement cost the server, and how busy its one JavaScript
 * thread was: near 100 % busy, s3rver itself is the limit and every request costs throughput.
 */
export interface S3Load {
  cpuSeconds: number;
  eventLoopActiveMs: number;
  eventLoopIdleMs: number;
}

/** What the S3 server spent between two readings: CPU seconds, and the share of time its event loop was busy. */
export function s3LoadBetween(before: S3Load, after: S3Load): { cpuSeconds: number; eventLoopBusy: number } {
  const active = after.eventLoopActiveMs - before.eventLoopActiveMs;
  const idle = after.eventLoopIdleMs - before.eventLoopIdleMs;
  return {
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    eventLoopBusy: active + idle > 0 ? active / (active + idle) : 0,
  };
}

/** What the measurements need of the S3 side: the gateway's counters and the server's clocks. */
export interface CountingS3 {
  counts(): Promise<GatewayCounts>;
  resetCounts(): Promise<void>;
  /** The S3 server's clocks now; subtract two readings with s3LoadBetween. */
  load(): Promise<S3Load>;
}

/** A running S3 child process. Requests reject if the child has exited (or does not answer in 30 s). */
export interface S3Process extends S3ProcessEndpoint, CountingS3, ProfiledPeer {
  pid: number;
  /** Asks the child to close the stack and exit; SIGKILL after 10 s. Idempotent, never rejects. */
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./s3-process-main.ts', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 10_000;

function isMessage(value: unknown): value is S3ProcessMessage {
  return typeof value === 'object' && value !== null && ('id' in value || 'type' in value);
}

/**
 * Forks bench/s3-process-main.ts (through tsx, with this process's environment, so the
 * --openssl-legacy-provider that s3rver needs reaches it) to serve `directory`, and resolves once the
 * stack listens. Rejects with the tail of the child's output if it exits or is not ready within 30 s.
 * The child is closed by the benchmark's clean-up if nobody closes it before, and exits by itself when
 * this process goes away (its IPC channel closes), so an aborted benchmark leaves no server behind.
 */
export async function startS3Process(options: { directory: string }): Promise<S3Process> {
  const child: ChildProcess = fork(ENTRY, [options.directory], {
    execArgv: ['--import', 'tsx'],
    // stdout is not inherited: the benchmark's table goes to stdout.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('S3 process did not start');
  // cleanupAll() kills tracked children before it runs the clean-ups, so the child is not tracked
  // (trackChild) but closed by its clean-up below; this only covers an exit that skips the clean-ups.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let ready = false;
  let tail = '';
  const output = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
    // Once it runs, whatever the child says (a crash, say) belongs in the benchmark's log.
    if (ready) process.stderr.write(chunk);
  };
  child.stdout!.on('data', output);
  child.stderr!.on('data', output);

  const pending = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  let exitReason: string | null = null;
  child.on('error', (error) => output(Buffer.from(`${error.message}\n`)));
  // 'close', not 'exit': it comes once the child's output is read to the end, for the tail.
  const exited = new Promise<void>((resolve) =>
    child.once('close', (code, signal) => {
      exitReason = `S3 process ${pid} exited (${code ?? signal})`;
      process.off('exit', killOnExit);
      for (const request of pending.values()) request.reject(new Error(`${exitReason}:\n${tail}`));
      pending.clear();
      resolve();
    }),
  );

  let announce: ((endpoint: S3ProcessEndpoint) => void) | null = null;
  child.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if ('type' in message) {
      const { type: _type, ...endpoint } = message;
      announce?.(endpoint);
      return;
    }
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    if ('error' in message) request.reject(new Error(`S3 process: ${message.error}`));
    else request.resolve(message.result);
  });

  let timer: NodeJS.Timeout | undefined;
  const endpoint = await new Promise<S3ProcessEndpoint>((resolve, reject) => {
    announce = resolve;
    timer = setTimeout(
      () => reject(new Error(`S3 process ${pid} not ready after ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    void exited.then(() => reject(new Error(`${exitReason} before it was ready`)));
  })
    .catch((error: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}:\n${tail}`);
    })
    .finally(() => clearTimeout(timer));
  ready = true;

  let nextId = 0;
  const request = <Op extends S3ProcessOp>(op: Op, path?: string): Promise<S3ProcessOps[Op]> =>
    new Promise((resolve, reject) => {
      if (exitReason !== null) {
        reject(new Error(exitReason));
        return;
      }
      nextId += 1;
      const id = nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`S3 process ${pid}: no answer to ${op} in ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result as S3ProcessOps[Op]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const message: S3ProcessRequest = path === undefined ? { id, op } : { id, op, path };
      child.send(message, (error) => {
        if (error === null) return;
        pending.get(id)?.reject(error);
        pending.delete(id);
      });
    });

  let closing: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      if (exitReason !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
      // A failed or unanswered close still ends in the exit (the child exits after it) or the kill.
      await request('close').catch(() => undefined);
      await exited;
      clearTimeout(killer);
    })();
    return closing;
  };
  const unregister = onCleanup(`S3 process ${pid}`, shutdown);

  return {
    ...endpoint,
    pid,
    counts: () => request('counts'),
    resetCounts: async () => {
      await request('reset-counts');
    },
    load: () => request('load'),
    startProfile: async () => {
      await request('profile-start');
    },
    stopProfile: async (path) => {
      await request('profile-stop', path);
    },
    async close() {
      await unregister();
      await shutdown();
    },
  };
}
