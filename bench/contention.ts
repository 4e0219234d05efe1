/**
 * How much the S3 server of the benchmark loses when something else on the machine wants a share of
 * the CPUs: the bare client of (a), and of (a') (listing as it reads), each with and without a
 * process beside it that keeps a fraction of one core busy (a 10 ms cycle, `--duty` of it spinning).
 * The scan differs from the bare client in the same way: it judges, stores and queues beside its
 * reads, in this process and in PostgreSQL and Redis. An experiment to explain row (b), not a row
 * of the table. Usage: `tsx bench/contention.ts [--n 10000] [--runs 5] [--duty 0.35]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { bareListAndRead, bareListing, bareReads, type ReadRun } from './baseline.js';
import { cleanupAll, installCleanupHandlers, trackChild } from './cleanup.js';
import { renderPool } from './images.js';
import { formatSpread, spread } from './report.js';
import { withS3Cpu } from './phases.js';
import { BUCKET, startWorld, type BenchWorld } from './world.js';

const HEAD_BYTES = 64 * 1024;
const CONCURRENCY = 32;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A process that spins `duty` of every 10 ms on whichever CPU the scheduler gives it. */
function startLoad(duty: number): ChildProcess {
  const code =
    `const busyMs = ${10 * duty};` +
    'setInterval(() => { const t = performance.now(); while (performance.now() - t < busyMs); }, 10);';
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  trackChild(child);
  return child;
}

interface Sample {
  objectsPerSecond: number;
  s3MsPerObject: number;
}

async function measure(world: BenchWorld, read: () => Promise<ReadRun>): Promise<Sample> {
  const run = await withS3Cpu(world.stack, read);
  return { objectsPerSecond: run.objectsPerSecond, s3MsPerObject: (run.s3CpuSeconds * 1000) / world.count };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '5' },
      duty: { type: 'string', default: '0.35' },
    },
    strict: true,
  });
  const n = Number(values.n);
  const runs = Number(values.runs);
  const duty = Number(values.duty);
  if (!Number.isInteger(n) || n < 1000 || !Number.isInteger(runs) || runs < 1 || !(duty > 0 && duty < 1)) {
    throw new Error('--n: an integer >= 1000; --runs: a positive integer; --duty: between 0 and 1');
  }
  installCleanupHandlers();
  const world = await startWorld({ pin: null });
  log(`uploading ${n} objects...`);
  await world.upload(await renderPool(64), n, { now: new Date(), concurrency: 16 });
  const listing = await bareListing(world.storage, BUCKET);
  const reads = () =>
    bareReads(world.storage, BUCKET, listing.objects, { concurrency: CONCURRENCY, headBytes: HEAD_BYTES });
  const listedReads = () =>
    bareListAndRead(world.storage, BUCKET, { concurrency: CONCURRENCY, headBytes: HEAD_BYTES });
  await bareReads(world.storage, BUCKET, listing.objects.slice(0, 1000), {
    concurrency: CONCURRENCY,
    headBytes: HEAD_BYTES,
  });
  const rows: Record<'a' | 'aLoaded' | 'listed' | 'listedLoaded', Sample[]> = {
    a: [],
    aLoaded: [],
    listed: [],
    listedLoaded: [],
  };
  const unloaded = async () => {
    rows.a.push(await measure(world, reads));
    rows.listed.push(await measure(world, listedReads));
  };
  const loaded = async () => {
    const load = startLoad(duty);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      rows.aLoaded.push(await measure(world, reads));
      rows.listedLoaded.push(await measure(world, listedReads));
    } finally {
      load.kill('SIGKILL');
    }
  };
  for (let run = 1; run <= runs; run += 1) {
    // Alternating which comes first, so a drift of the host during a run hits both alike.
    if (run % 2 === 1) {
      await unloaded();
      await loaded();
    } else {
      await loaded();
      await unloaded();
    }
    log(
      `  run ${run}: ${(['a', 'aLoaded', 'listed', 'listedLoaded'] as const).map((k) => rows[k].at(-1)!.objectsPerSecond.toFixed(0)).join(' / ')} obj/s`,
    );
  }
  const baseline = spread(rows.a.map((s) => s.objectsPerSecond)).median;
  const describe = (label: string, samples: Sample[]) =>
    `${label}: ${formatSpread(spread(samples.map((s) => s.objectsPerSecond)))} obj/s = ` +
    `${(spread(samples.map((s) => s.objectsPerSecond)).median / baseline).toFixed(2)} of (a); ` +
    `S3 CPU ${spread(samples.map((s) => s.s3MsPerObject)).median.toFixed(3)} ms/object`;
  process.stdout.write(
    [
      `N = ${n}, ${CONCURRENCY} reads in flight, load beside: ${duty} of one core (10 ms cycle), medians of ${runs} interleaved runs`,
      describe('(a)  bare client', rows.a),
      describe('(a)  bare client, load beside', rows.aLoaded),
      describe("(a') listing as it reads", rows.listed),
      describe("(a') listing as it reads, load beside", rows.listedLoaded),
    ].join('\n') + '\n',
  );
}

// Explicit exits: the S3 clients' keep-alive sockets would hold the process open.
main().then(
  async () => {
    await cleanupAll();
    process.exit(0);
  },
  async (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
