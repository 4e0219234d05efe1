/**
 * Scans through the real pipeline: the queue on Redis, the store on PostgreSQL (a fresh schema per
 * store, dropped at the end), with the worker either in this process (runScan) or in separate
 * `anpr-audit worker` processes (startScan + the queue's events), against the S3 server in its own
 * process (bench/s3-process.ts), whose gateway counters and CPU time are read over IPC.
 */
import type { Config } from '../config/load.js';
import { createQueueEvents, scanJobOptions } from '../core/queue/connection.js';
import { openRuntime, type Runtime } from '../core/runtime.js';
import { jobIds, type ScanBucketResult } from '../core/queue/jobs.js';
import { startScan } from '../core/scan/start-scan.js';
import type { Scan } from '../core/model.js';
import { runScan } from '../bin/commands/scan.command.js';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../test/helpers/database.js';
import { onCleanup } from './cleanup.js';
import { busyCoresBetween, machineCpu, type MachineCpu, type MachineLoad } from './machine-cpu.js';
import { s3LoadBetween, type CountingS3, type S3Load } from './s3-process.js';
import { removeRedisKeys, SOURCE_ID } from './world.js';

/** A PostgreSQL store in a fresh schema, and the URL a worker process opens it with. */
export interface BenchStore {
  test: TestStore;
  schema: string;
  /** DATABASE_URL for a child process: the test database with `search_path` set to the schema. */
  databaseUrl: string;
  /** Closes the store and drops the schema. */
  drop(): Promise<void>;
}

/** Opens a fresh, migrated schema on the local PostgreSQL; dropped on cleanup whatever happens. */
export async function openBenchStore(runId: string): Promise<BenchStore> {
  const test = await openTestStore('postgres', { schemaPrefix: runId.replace(/-/g, '_') });
  const schema = test.reopenOptions!.schema!;
  const drop = onCleanup(`schema ${schema}`, () => test.cleanup());
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { test, schema, databaseUrl: url.toString(), drop };
}

/** A runtime on `store` with the config's Redis prefix; closing it also removes the prefix's keys. */
export async function openBenchRuntime(
  config: Config,
  store: BenchStore,
): Promise<Runtime & { dispose(): Promise<void> }> {
  const prefix = config.redis.prefix;
  const runtime = await openRuntime(config, { prefix, store: store.test.store });
  const dispose = onCleanup(`runtime ${prefix}`, async () => {
    await runtime.close();
    await removeRedisKeys(`${prefix}:`);
  });
  return { ...runtime, dispose };
}

/** Share of the reading time in which no object GET started: stalls of listing, page barriers, DB writes. */
export interface GetStalls {
  readingSeconds: number;
  stalledSeconds: number;
}

/** A running sampleGetStalls. */
export interface GetStallSampler {
  /**
   * Stops sampling, takes a last sample and tells the stalls; rejects if a sample failed (the S3
   * process died). Calling it again returns the same answer.
   */
  stop(): Promise<GetStalls>;
}

/**
 * Samples the gateway's GET counter every `windowMs` while something reads, and afterwards tells how
 * long, between the first and the last GET, whole windows passed without a single GET starting. With
 * dozens of reads in flight a window without one means the reader was not reading, not that S3 was slow.
 * Resolves once the first sample is in; one counts() request at a time, at most one per window.
 */
export async function sampleGetStalls(
  s3: Pick<CountingS3, 'counts'>,
  windowMs = 50,
): Promise<GetStallSampler> {
  const samples: { at: number; gets: number }[] = [];
  const take = async () => {
    // The time of asking, not of the answer: the S3 process reads its counter as soon as the request
    // arrives, while the answer can wait for this event loop (busy with an in-process worker).
    const at = performance.now();
    const counts = await s3.counts();
    samples.push({ at, gets: counts['get-object'] });
  };
  await take();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let failure: unknown = null;
  const loop = (async () => {
    try {
      while (!stopped) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, Math.max(0, samples.at(-1)!.at + windowMs - performance.now()));
        });
        if (!stopped) await take();
      }
    } catch (error) {
      failure = error;
    }
  })();
  const finish = async (): Promise<GetStalls> => {
    stopped = true;
    clearTimeout(timer);
    wake?.();
    await loop;
    if (failure !== null) throw failure;
    await take();
    const first = samples.findIndex((s) => s.gets > samples[0]!.gets);
    const last = samples.findIndex((s) => s.gets === samples.at(-1)!.gets);
    if (first < 0 || last <= first) return { readingSeconds: 0, stalledSeconds: 0 };
    let stalled = 0;
    for (let i = first; i < last; i += 1) {
      if (samples[i + 1]!.gets === samples[i]!.gets) stalled += samples[i + 1]!.at - samples[i]!.at;
    }
    return {
      readingSeconds: (samples[last]!.at - samples[first - 1]!.at) / 1000,
      stalledSeconds: stalled / 1000,
    };
  };
  let result: Promise<GetStalls> | null = null;
  return { stop: () => (result ??= finish()) };
}

/** What one scan did, from the gateway's counters, the store and the bucket jobs' results. */
export interface ScanRun {
  scanId: string;
  status: Scan['status'];
  seconds: number;
  objectsPerSecond: number;
  listed: number;
  evaluated: number;
  fetched: number;
  bytesRead: number;
  /** Number of `scan-bucket` jobs (key-range shards) the bucket was split into. */
  shards: number;
  signedGets: number;
  rangedGets: number;
  /** Body bytes of the signed object GETs the S3 side served (gateway count, not the scanner's). */
  servedGetBytes: number;
  /** HEAD requests on objects: a rescan that is to make no reads makes none of these either. */
  headRequests: number;
  listRequests: number;
  errors: string[];
  stalls: GetStalls;
  /** CPU seconds of this (the benchmark's) process during the scan: an in-process worker, if any. */
  benchCpuSeconds: number;
  /** CPU seconds of the S3 process (s3rver and the gateway) during the scan. */
  s3CpuSeconds: number;
  /** The share of the scan's time the S3 process's event loop was busy (0-1). */
  s3EventLoopBusy: number;
  /** Cores of the whole machine busy (and stolen) on average during the scan (bench/machine-cpu.ts). */
  machine: MachineLoad;
  /** performance.now() at the start and at the end of the scan, to place samples taken meanwhile. */
  startedAt: number;
  endedAt: number;
}

/** CPU seconds (user + system) of this process since `since` (a process.cpuUsage() value). */
export function cpuSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

async function bucketResults(runtime: Runtime, scanId: string): Promise<ScanBucketResult[]> {
  const job = await runtime.queue.getJob(jobIds.source(scanId, SOURCE_ID));
  if (!job) return [];
  return Object.values(await job.getChildrenValues<ScanBucketResult>());
}

/**
 * Where the clocks stood when a measurement (a scan, or a bare client's run) started: this
 * process's CPU, the S3 process's, the machine's, the time.
 */
export interface RunStart {
  cpu: NodeJS.CpuUsage;
  s3Load: S3Load;
  machine: MachineCpu;
  start: number;
}

export async function startClocks(s3: CountingS3): Promise<RunStart> {
  const s3Load = await s3.load();
  return { s3Load, cpu: process.cpuUsage(), machine: machineCpu(), start: performance.now() };
}

/** The clocks as a scan ended: read at once, before the counting and describing that follow. */
export interface RunEnd {
  benchCpuSeconds: number;
  machineLoad: MachineLoad;
  s3Spent: ReturnType<typeof s3LoadBetween>;
}

export async function stopClocks(s3: CountingS3, clocks: RunStart): Promise<RunEnd> {
  const benchCpuSeconds = cpuSince(clocks.cpu);
  const machineLoad = busyCoresBetween(clocks.machine, machineCpu());
  return { benchCpuSeconds, machineLoad, s3Spent: s3LoadBetween(clocks.s3Load, await s3.load()) };
}

async function describeRun(
  runtime: Runtime,
  s3: CountingS3,
  scan: Scan,
  timing: RunStart & RunEnd & { end: number; stalls: GetStalls },
): Promise<ScanRun> {
  const { benchCpuSeconds, machineLoad, s3Spent } = timing;
  const seconds = (timing.end - timing.start) / 1000;
  const results = await bucketResults(runtime, scan.id);
  const sum = (pick: (r: ScanBucketResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  const counts = await s3.counts();
  return {
    scanId: scan.id,
    status: scan.status,
    seconds,
    objectsPerSecond: scan.objectsEvaluated / seconds,
    listed: scan.objectsListed,
    evaluated: scan.objectsEvaluated,
    fetched: sum((r) => r.fetched),
    bytesRead: sum((r) => r.bytesRead),
    shards: results.length,
    signedGets: counts.signedGets,
    rangedGets: counts.rangedGets,
    servedGetBytes: counts.servedSignedGetBytes,
    headRequests: counts['head-object'],
    listRequests: counts['list-objects'],
    errors: scan.errors.slice(0, 5),
    stalls: timing.stalls,
    benchCpuSeconds,
    s3CpuSeconds: s3Spent.cpuSeconds,
    s3EventLoopBusy: s3Spent.eventLoopBusy,
    machine: machineLoad,
    startedAt: timing.start,
    endedAt: timing.end,
  };
}

/**
 * Tells when a scan's `finalize-scan` job completes, from the queue's event stream: precise and
 * cheap, where polling the store every few milliseconds would take CPU from the scan it times.
 */
interface FinalizeWatcher {
  /** When the finalize job of `scanId` (of any scan when absent) completed; rejects if it failed. */
  done(scanId?: string): Promise<number>;
  close(): Promise<void>;
}

async function finalizeWatcher(runtime: Runtime): Promise<FinalizeWatcher> {
  const events = createQueueEvents(runtime.queueSettings);
  await events.waitUntilReady();
  const finished = new Map<string, number>();
  const waiters: {
    match: (jobId: string) => boolean;
    resolve: (at: number) => void;
    reject: (error: Error) => void;
  }[] = [];
  const settle = (jobId: string, failure: string | null) => {
    if (!jobId.endsWith('-finalize')) return;
    const at = performance.now();
    finished.set(jobId, at);
    for (const waiter of waiters.filter((w) => w.match(jobId))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      if (failure === null) waiter.resolve(at);
      else waiter.reject(new Error(`${jobId} failed: ${failure}`));
    }
  };
  events.on('completed', ({ jobId }) => settle(jobId, null));
  events.on('failed', ({ jobId, failedReason }) => settle(jobId, failedReason));
  return {
    done(scanId) {
      const match = (jobId: string) => scanId === undefined || jobId === jobIds.finalize(scanId);
      const seen = [...finished].find(([jobId]) => match(jobId));
      if (seen) return Promise.resolve(seen[1]);
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
    close: () => events.close(),
  };
}

/**
 * Times one scan: counters reset, GET stalls sampled and CPU clocks started around `run`, which
 * starts the scan and tells when it ended (performance.now()) and how it stands then.
 */
async function timedScan(
  runtime: Runtime,
  s3: CountingS3,
  run: (watcher: FinalizeWatcher) => Promise<{ scan: Scan; end: number }>,
): Promise<ScanRun> {
  await s3.resetCounts();
  const watcher = await finalizeWatcher(runtime);
  let sampler: GetStallSampler | undefined;
  try {
    sampler = await sampleGetStalls(s3);
    const clocks = await startClocks(s3);
    const { scan, end } = await run(watcher);
    const stopped = await stopClocks(s3, clocks);
    const stalls = await sampler.stop();
    return await describeRun(runtime, s3, scan, { ...clocks, ...stopped, end, stalls });
  } finally {
    // After a failure too: the sampler would otherwise go on asking for ever.
    await sampler?.stop().catch(() => undefined);
    await watcher.close();
  }
}

/**
 * A scan with an in-process worker: the CLI's runScan as it is (polling at its default interval),
 * timed from the call to the completion of the scan's finalize job.
 */
export function inProcessScan(
  runtime: Runtime,
  s3: CountingS3,
  opts: { workerConcurrency: number },
): Promise<ScanRun> {
  return timedScan(runtime, s3, async (watcher) => {
    const finished = watcher.done();
    const outcome = await runScan(runtime, { sources: [SOURCE_ID], concurrency: opts.workerConcurrency });
    const returned = performance.now();
    // The event arrived long before runScan's poll saw the status; if it got lost, the return time it is.
    const end = await Promise.race([
      finished,
      new Promise<number>((resolve) => setTimeout(() => resolve(returned), 2_000)),
    ]);
    return { scan: outcome.scan, end };
  });
}

/** Starts a scan for workers elsewhere (other processes) and waits for its finalize job. */
export function remoteScan(runtime: Runtime, s3: CountingS3, opts: { timeoutMs: number }): Promise<ScanRun> {
  return timedScan(runtime, s3, async (watcher) => {
    const scanId = await startScan(runtime.store, runtime.flows, {
      sources: [SOURCE_ID],
      trigger: 'cli',
      jobOptions: scanJobOptions(runtime.queueSettings),
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`scan ${scanId} not finished after ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    });
    const end = await Promise.race([watcher.done(scanId), timeout]).finally(() => clearTimeout(timer));
    return { scan: (await runtime.store.getScan(scanId))!, end };
  });
}

/**
 * Makes the store believe every object changed (a new ETag for each), so the next scan reads every
 * object again while the key boundaries learned by the last scan still shard the bucket: a full
 * re-read with shards, which a first scan cannot have (it has no boundaries to learn from).
 */
export async function forgetEtags(store: BenchStore): Promise<number> {
  const rows = await store.test.db.query(`UPDATE objects SET etag = 'bench-stale-' || etag RETURNING key`);
  return rows.length;
}
