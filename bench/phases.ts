/**
 * The measurements, one function per phase, each leaving nothing behind (stores dropped, Redis keys
 * removed, worker processes stopped) except what it hands to the next phase on purpose. The S3 server
 * runs in its own process throughout (world.stack); its CPU is measured around each run.
 */
import type { BenchOptions } from './options.js';
import { bareListAndRead, bareListing, bareReads, type ReadRun } from './baseline.js';
import {
  forgetEtags,
  inProcessScan,
  openBenchRuntime,
  openBenchStore,
  remoteScan,
  sampleGetStalls,
  startClocks,
  stopClocks,
  type BenchStore,
  type GetStalls,
  type ScanRun,
} from './pipeline.js';
import type { MachineLoad } from './machine-cpu.js';
import type { CountingS3 } from './s3-process.js';
import { profiled } from './inspector-profile.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';
import { BUCKET, type BenchWorld } from './world.js';

const HEAD_BYTES = 64 * 1024;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Shard size for the config: about 8 shards for the bucket, between 100 and 5000 keys each. */
export function shardSizeFor(n: number): number {
  return Math.min(5000, Math.max(100, Math.ceil(n / 8)));
}

function checkComplete(run: ScanRun, expected: number, what: string): void {
  if (run.status !== 'completed' || run.evaluated !== expected) {
    throw new Error(
      `${what}: scan ${run.scanId} ended ${run.status} with ${run.evaluated}/${expected} objects evaluated: ${run.errors.join('; ')}`,
    );
  }
}

let prefixCounter = 0;
function nextPrefix(world: BenchWorld, tag: string): string {
  prefixCounter += 1;
  return `${world.runId}-${tag}${prefixCounter}`;
}

/** A bare client's run, with the S3 process's CPU seconds and event-loop busy share during it. */
export type BareRun = ReadRun & { s3CpuSeconds: number; s3EventLoopBusy: number; machine: MachineLoad };

/** Runs `read` and adds what the S3 process spent meanwhile. */
export async function withS3Cpu(s3: CountingS3, read: () => Promise<ReadRun>): Promise<BareRun> {
  const clocks = await startClocks(s3);
  const run = await read();
  const { s3Spent, machineLoad } = await stopClocks(s3, clocks);
  return {
    ...run,
    s3CpuSeconds: s3Spent.cpuSeconds,
    s3EventLoopBusy: s3Spent.eventLoopBusy,
    machine: machineLoad,
  };
}

export interface ThroughputResult {
  bare: BareRun[];
  bareStalls: GetStalls[];
  /** The bare client listing the bucket while it reads (informative: a scan must list). */
  bareListed: BareRun[];
  full: ScanRun[];
  /** The store of the last full scan, kept for the rescans; the caller drops it. */
  store: BenchStore;
}

/** (a) and (b), interleaved run by run so drift on the machine hits both alike. */
export async function measureThroughput(world: BenchWorld, opts: BenchOptions): Promise<ThroughputResult> {
  const listing = await bareListing(world.storage, BUCKET);
  if (listing.objects.length !== world.count)
    throw new Error(`bucket lists ${listing.objects.length} objects, uploaded ${world.count}`);
  // Warm-up, not measured: JIT, s3rver's and the page cache's first touch of the files.
  await bareReads(world.storage, BUCKET, listing.objects.slice(0, 1000), {
    concurrency: opts.concurrency,
    headBytes: HEAD_BYTES,
  });
  const bare: BareRun[] = [];
  const bareStalls: GetStalls[] = [];
  const bareListed: BareRun[] = [];
  const full: ScanRun[] = [];
  let kept: BenchStore | null = null;
  for (let run = 1; run <= opts.runs; run += 1) {
    const sampler = await sampleGetStalls(world.stack);
    let read: BareRun;
    try {
      read = await profiled(
        opts.cpuProfDir,
        `bench-a-run${run}`,
        () =>
          withS3Cpu(world.stack, () =>
            bareReads(world.storage, BUCKET, listing.objects, {
              concurrency: opts.concurrency,
              headBytes: HEAD_BYTES,
            }),
          ),
        world.stack,
      );
    } finally {
      bareStalls.push(await sampler.stop());
    }
    if (read.failures > 0 || read.withCaptureTime !== listing.objects.length) {
      throw new Error(
        `bare client: ${read.failures} reads failed, ${read.withCaptureTime} capture times read`,
      );
    }
    bare.push(read);
    log(`  (a) run ${run}: ${read.objectsPerSecond.toFixed(1)} objects/s`);
    const listedRead = await profiled(
      opts.cpuProfDir,
      `bench-a-listing-run${run}`,
      () =>
        withS3Cpu(world.stack, () =>
          bareListAndRead(world.storage, BUCKET, {
            concurrency: opts.concurrency,
            headBytes: HEAD_BYTES,
          }),
        ),
      world.stack,
    );
    if (listedRead.failures > 0)
      throw new Error(`bare client with listing: ${listedRead.failures} reads failed`);
    bareListed.push(listedRead);
    log(`  (a') run ${run}: ${listedRead.objectsPerSecond.toFixed(1)} objects/s, listing included`);

    const store = await openBenchStore(world.runId);
    const { config } = await world.config(nextPrefix(world, 'b'), { concurrency: opts.concurrency });
    const runtime = await openBenchRuntime(config, store);
    const scan = await profiled(
      opts.cpuProfDir,
      `bench-b-run${run}`,
      () => inProcessScan(runtime, world.stack, { workerConcurrency: opts.workerConcurrency }),
      world.stack,
    );
    await runtime.dispose();
    checkComplete(scan, world.count, '(b) full scan');
    full.push(scan);
    log(
      `  (b) run ${run}: ${scan.objectsPerSecond.toFixed(1)} objects/s, ${scan.shards} shard(s), ${scan.signedGets} GETs`,
    );
    if (kept) await kept.drop();
    kept = store;
  }
  return { bare, bareStalls, bareListed, full, store: kept! };
}

export interface RescanResult {
  listing: number[];
  rescans: ScanRun[];
  /**
   * The same rescan with shardSize about N/8: shards learned from the last scan's keys, for
   * comparison (the default shardSize, 50000, keeps a bucket of N <= 50000 in one shard).
   */
  sharded: ScanRun[];
}

/** (c): bare listings and rescans of the unchanged bucket on the store of the last full scan. */
export async function measureRescan(
  world: BenchWorld,
  opts: BenchOptions,
  store: BenchStore,
): Promise<RescanResult> {
  const result: RescanResult = { listing: [], rescans: [], sharded: [] };
  const rescan = async (shardSize: number | undefined, what: string): Promise<ScanRun> => {
    const { config } = await world.config(nextPrefix(world, 'c'), {
      concurrency: opts.concurrency,
      shardSize,
    });
    const runtime = await openBenchRuntime(config, store);
    const scan = await inProcessScan(runtime, world.stack, {
      workerConcurrency: opts.workerConcurrency,
    });
    await runtime.dispose();
    checkComplete(scan, world.count, what);
    log(
      `  ${what}: ${scan.seconds.toFixed(2)} s, ${scan.signedGets} GETs, ${scan.shards} shard(s), ${scan.listRequests} list requests`,
    );
    return scan;
  };
  for (let run = 1; run <= opts.runs; run += 1) {
    const list = await bareListing(world.storage, BUCKET);
    result.listing.push(list.seconds);
    log(`  (c) listing run ${run}: ${list.seconds.toFixed(2)} s, ${list.pages} pages`);
    // The config's default shardSize, as production runs.
    result.rescans.push(await rescan(undefined, `(c) rescan run ${run}`));
    result.sharded.push(await rescan(shardSizeFor(world.count), `(c) rescan in learned shards, run ${run}`));
  }
  return result;
}

/** A scan run by worker processes, with each process's peak RSS and CPU seconds. */
export interface ProcessScan {
  scan: ScanRun;
  processes: WorkerStats[];
}

export interface WorkerStats {
  peakRss: number;
  rssAtReady: number;
  /** Highest RSS sampled in each fifth of the scan's duration: a leak climbs, garbage saws. */
  rssByFifth: number[];
  cpuSeconds: number;
}

function workerStats(worker: WorkerProcess, scan: ScanRun): WorkerStats {
  const span = scan.endedAt - scan.startedAt;
  const rssByFifth = [0, 1, 2, 3, 4].map((fifth) => {
    const from = scan.startedAt + (span * fifth) / 5;
    const to = scan.startedAt + (span * (fifth + 1)) / 5;
    return Math.max(
      0,
      ...worker
        .samples()
        .filter((s) => s.at >= from && s.at <= to)
        .map((s) => s.rss),
    );
  });
  return {
    peakRss: worker.peakRss(),
    rssAtReady: worker.rssAtReady(),
    rssByFifth,
    cpuSeconds: worker.cpuSeconds(),
  };
}

/** Starts `count` worker processes on `store`, runs one scan through them, and stops them. */
export async function scanWithProcesses(
  world: BenchWorld,
  opts: BenchOptions,
  store: BenchStore,
  count: number,
  expected: number,
): Promise<ProcessScan> {
  const { config, path } = await world.config(nextPrefix(world, 'p'), {
    concurrency: opts.concurrency,
    shardSize: shardSizeFor(opts.n),
  });
  const runtime = await openBenchRuntime(config, store);
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
      workers.push(
        await startWorkerProcess({
          configPath: path,
          env: { ...world.env, DATABASE_URL: store.databaseUrl },
          concurrency: opts.workerConcurrency,
          nodeArgs,
        }),
      );
    }
    const scan = await remoteScan(runtime, world.stack, {
      timeoutMs: Math.max(600_000, expected * 50),
    });
    checkComplete(scan, expected, `scan with ${count} worker process(es)`);
    await Promise.all(workers.map((w) => w.stop()));
    return { scan, processes: workers.map((w) => workerStats(w, scan)) };
  } catch (error) {
    const tails = workers
      .map((w, i) => `worker ${i + 1} (pid ${w.pid}) stderr:\n${w.stderrTail()}`)
      .join('\n');
    throw new Error(`${(error as Error).message}\n${tails}`, { cause: error });
  } finally {
    await Promise.all(workers.map((w) => w.stop(5_000)));
    await runtime.dispose();
  }
}

export interface ProcessesResult {
  /** First scans (fresh store, one shard: nothing learned yet), with 1 and with 2 processes. */
  fresh1: ProcessScan[];
  fresh2: ProcessScan[];
  /** Every object re-read with the shards learned by the first scan, with 1 and with 2 processes. */
  sharded1: ProcessScan[];
  sharded2: ProcessScan[];
}

/** (d) at N and (f): full scans with one and with two worker processes. */
export async function measureProcesses(
  world: BenchWorld,
  opts: BenchOptions,
  runs: number,
): Promise<ProcessesResult> {
  const result: ProcessesResult = { fresh1: [], fresh2: [], sharded1: [], sharded2: [] };
  const show = (what: string, p: ProcessScan) =>
    log(
      `  ${what}: ${p.scan.objectsPerSecond.toFixed(1)} objects/s, ${p.scan.shards} shard(s), ` +
        `CPU s per process ${p.processes.map((x) => x.cpuSeconds.toFixed(1)).join(' / ')}, ` +
        `peak RSS MiB ${p.processes.map((x) => mib(x.peakRss)).join(' / ')} ` +
        `(by fifth ${p.processes.map((x) => x.rssByFifth.map(mib).join(' ')).join(' / ')})`,
    );
  for (let run = 1; run <= runs; run += 1) {
    const one = await openBenchStore(world.runId);
    result.fresh1.push(await scanWithProcesses(world, opts, one, 1, world.count));
    show(`(d/f) run ${run}, 1 process, first scan`, result.fresh1.at(-1)!);
    const two = await openBenchStore(world.runId);
    result.fresh2.push(await scanWithProcesses(world, opts, two, 2, world.count));
    show(`(f) run ${run}, 2 processes, first scan`, result.fresh2.at(-1)!);
    await two.drop();
    await forgetEtags(one);
    result.sharded1.push(await scanWithProcesses(world, opts, one, 1, world.count));
    show(`(f) run ${run}, 1 process, re-read with learned shards`, result.sharded1.at(-1)!);
    await forgetEtags(one);
    result.sharded2.push(await scanWithProcesses(world, opts, one, 2, world.count));
    show(`(f) run ${run}, 2 processes, re-read with learned shards`, result.sharded2.at(-1)!);
    await one.drop();
  }
  return result;
}

/** (d) at scale x N: one worker process, first scan of the grown bucket. */
export async function measureAtScale(world: BenchWorld, opts: BenchOptions): Promise<ProcessScan> {
  const store = await openBenchStore(world.runId);
  try {
    const scan = await scanWithProcesses(world, opts, store, 1, world.count);
    const stats = scan.processes[0]!;
    log(
      `  (d) ${world.count} objects: ${scan.scan.objectsPerSecond.toFixed(1)} objects/s, RSS ${mib(stats.rssAtReady)} MiB ready, ` +
        `peak ${mib(stats.peakRss)} MiB, by fifth of the scan ${stats.rssByFifth.map(mib).join(' / ')}`,
    );
    return scan;
  } finally {
    await store.drop();
  }
}
