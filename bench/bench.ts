/**
 * `npm run bench`: the scan pipeline's benchmark (issue 5). Fills a bucket of an S3 server (s3rver
 * behind the counting gateway, in a child process of its own, as a remote S3 is) with N size-realistic
 * camera JPEGs and measures, in one run, against baselines measured in the same run: (a) a bare
 * client's ranged GETs, (b) a full scan, (c) a rescan of the unchanged bucket against a bare listing,
 * (d) a worker process's peak RSS at N and at scale x N objects, (e) bytes read per object, (f) full
 * scans with one and with two worker processes. Prints the table and writes it as markdown
 * (bench/results.md). A script, not a test: it exits 0 even when a target is missed.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import * as prettier from 'prettier';
import { cleanupAll, installCleanupHandlers, onCleanup } from './cleanup.js';
import { planCpuSplit, type CpuSplit } from './cpu-affinity.js';
import { renderPool, makeObject, verifyObject } from './images.js';
import { parseOptions, type BenchOptions } from './options.js';
import {
  measureAtScale,
  measureProcesses,
  measureRescan,
  measureThroughput,
  shardSizeFor,
  type ProcessesResult,
  type ProcessScan,
  type RescanResult,
  type ThroughputResult,
} from './phases.js';
import { buildRows } from './rows.js';
import { describeMachine, markdownReport, textTable } from './report.js';
import { freeBytes, removeRedisKeys, startWorld, type BenchWorld } from './world.js';

const GiB = 1024 ** 3;
/** Free space to leave on the disk whatever the benchmark needs. */
const DISK_MARGIN = 5 * GiB;
/** Size of the extra objects when the disk cannot hold scale x N full images: more than the head read. */
const TRUNCATED_SIZE = 96 * 1024;

/** How the upload's write-back to disk went, for the notes. */
function flushNote(flushSeconds: number | null): string {
  return flushSeconds === null
    ? '; not flushed to disk (no sync command here): write-back may overlap the first measurements'
    : `, then ${flushSeconds.toFixed(1)} s flushing it to disk before measuring`;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function commandLine(argv: string[]): string {
  const args = argv.join(' ');
  return process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench${args ? ` -- ${args}` : ''}`
    : `tsx bench/bench.ts ${args}`;
}

/** How the scale phase fits on the disk: full images, truncated extra objects, or not at all. */
async function planScale(
  opts: BenchOptions,
  averageSize: number,
): Promise<{ mode: 'full' | 'truncated' | 'skipped'; note: string }> {
  if (opts.scale <= 1) return { mode: 'skipped', note: '--scale 1: no scale measurement' };
  const free = await freeBytes(tmpdir());
  const extra = (opts.scale - 1) * opts.n;
  const full = opts.scale * opts.n * averageSize * 1.05;
  const truncated = (opts.n * averageSize + extra * TRUNCATED_SIZE) * 1.05;
  const gib = (b: number) => `${(b / GiB).toFixed(1)} GiB`;
  if (full + DISK_MARGIN <= free) {
    return {
      mode: 'full',
      note: `disk: ${gib(full)} needed for ${opts.scale}N full-size objects, ${gib(free)} free`,
    };
  }
  if (truncated + DISK_MARGIN <= free) {
    return {
      mode: 'truncated',
      note:
        `disk: ${gib(full)} needed for ${opts.scale}N full-size objects but only ${gib(free)} free: the ${extra} extra ` +
        `objects of the scale run are the first ${TRUNCATED_SIZE / 1024} KiB of their images (the scan reads 64 KiB of each either way)`,
    };
  }
  return {
    mode: 'skipped',
    note: `disk: not even ${gib(truncated)} free for the scale run (${gib(free)} free): skipped`,
  };
}

async function main(opts: BenchOptions, pin: CpuSplit | null): Promise<void> {
  const machine = describeMachine();
  const command = commandLine(process.argv.slice(2));
  log(`machine: ${machine.cpus}; ${machine.memory}; Node ${machine.node}; ${machine.os}`);
  log(`command: ${command}`);
  const started = new Date();
  const notes: string[] = [];
  // The machine may be shared (other sessions' tests): the load during the run belongs in the report.
  const loads: number[] = [loadavg()[0]!];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 5_000);
  loadTimer.unref();

  log(`rendering ${opts.pool} base images...`);
  const renderStart = performance.now();
  const pool = await renderPool(opts.pool);
  const averageSize = pool.reduce((n, b) => n + b.bytes.length, 0) / pool.length;
  const sizes = pool.map((b) => b.bytes.length);
  log(
    `  ${((performance.now() - renderStart) / 1000).toFixed(1)} s, ${(Math.min(...sizes) / 1024).toFixed(0)}-${(Math.max(...sizes) / 1024).toFixed(0)} KiB`,
  );
  const now = new Date();
  // Every base image twice (distinct rewrites of the same bytes) and a spread of later indexes.
  const probe = [
    ...Array.from({ length: opts.pool * 2 }, (_, i) => i),
    opts.n - 1,
    opts.n * opts.scale - 1,
    12_345,
  ];
  for (const index of probe) await verifyObject(makeObject(pool, index, now));
  notes.push(
    `objects: ${opts.pool} distinct 1280x960 camera JPEGs rendered by fixtures/camera-image.ts ` +
      `(${(Math.min(...sizes) / 1024).toFixed(0)}-${(Math.max(...sizes) / 1024).toFixed(0)} KiB, half with OffsetTimeOriginal), ` +
      `each object a copy with its own DateTimeOriginal and ImageDescription counter rewritten in place ` +
      `(own ETag; ${probe.length} rewritten objects re-read with exifr)`,
  );

  const scalePlan = await planScale(opts, averageSize);
  notes.push(scalePlan.note);
  log(scalePlan.note);

  const world: BenchWorld = await startWorld({ pin });
  log(`CPUs: ${world.cpus}`);
  onCleanup('redis keys of the run', async () => {
    await removeRedisKeys(world.runId);
  });
  log(`uploading ${opts.n} objects (${opts.uploadConcurrency} in flight, straight to s3rver)...`);
  const upload = await world.upload(pool, opts.n, { now, concurrency: opts.uploadConcurrency });
  notes.push(
    `upload: ${opts.n} objects, ${(upload.bytes / GiB).toFixed(2)} GiB in ${upload.seconds.toFixed(0)} s (${(opts.n / upload.seconds).toFixed(0)}/s)` +
      flushNote(upload.flushSeconds),
  );
  log(`  ${upload.seconds.toFixed(0)} s`);

  log('(a)+(b): bare client and full scans, interleaved...');
  const throughput: ThroughputResult = await measureThroughput(world, opts);
  log('(c): bare listings and rescans, interleaved...');
  const rescan: RescanResult = await measureRescan(world, opts, throughput.store);
  await throughput.store.drop();

  const processRuns = opts.processRuns;
  log(`(d)+(f): scans by worker processes (${processRuns} run(s))...`);
  const processes: ProcessesResult = await measureProcesses(world, opts, processRuns);

  let atScale: ProcessScan | null = null;
  if (scalePlan.mode !== 'skipped') {
    const more = (opts.scale - 1) * opts.n;
    log(`(d): growing the bucket to ${opts.scale * opts.n} objects...`);
    const grow = await world.upload(pool, more, {
      now,
      concurrency: opts.uploadConcurrency,
      truncateTo: scalePlan.mode === 'truncated' ? TRUNCATED_SIZE : undefined,
    });
    notes.push(
      `upload for the scale run: ${more} more objects, ${(grow.bytes / GiB).toFixed(2)} GiB in ${grow.seconds.toFixed(0)} s` +
        flushNote(grow.flushSeconds),
    );
    atScale = await measureAtScale(world, opts);
  }

  clearInterval(loadTimer);
  const meanLoad = loads.reduce((a, b) => a + b, 0) / loads.length;
  notes.push(
    `load: 1-minute load average ${loads[0]!.toFixed(1)} at the start, mean ${meanLoad.toFixed(1)}, max ${Math.max(...loads).toFixed(1)} ` +
      `during the run on ${machine.cpus.split(' ')[0]} CPUs (the s3rver, the worker(s), PostgreSQL and anything else running share them)`,
  );
  const rows = buildRows({ opts, throughput, rescan, processes, atScale, scaleMode: scalePlan.mode });
  notes.push(...rowsNotes(opts, processes));
  const parameters = [
    `N = ${opts.n} objects in one bucket of an edge source (scale run: ${opts.scale} x N = ${opts.scale * opts.n})`,
    `reads in flight: ${opts.concurrency} (the source's \`concurrency\`, and the bare client's); jobs per worker: ${opts.workerConcurrency}`,
    `head read: 64 KiB (scan.headBytes); listing pages of 1000 keys; shardSize: the default (50000) in (b) and (c), ` +
      `${shardSizeFor(opts.n)} (about N/8) in the second (c) row, (d) and (f)`,
    `store: PostgreSQL (${await postgresVersion()}, a fresh schema per store); queue: BullMQ on the local Redis`,
    `S3: s3rver behind the counting gateway (fixtures/s3-server.ts) in a child process of its own, as a remote S3 server is; ` +
      `the bare client of (a) and the worker of (b)-(c) run in the benchmark process, (d) and (f) in \`anpr-audit worker\` child processes`,
    `CPUs: ${world.cpus}`,
    `medians of ${opts.runs} interleaved runs for (a)-(c), ${processRuns} run(s) for (d) and (f); ratios are against baselines of this run`,
  ];
  const table = textTable(rows);
  process.stdout.write(
    `\nmachine: ${machine.cpus}; ${machine.memory}; Node ${machine.node}; ${machine.os}\n` +
      `command: ${command}\n${parameters.map((p) => `  ${p}`).join('\n')}\n\n${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`,
  );
  const markdown = markdownReport({ machine, command, parameters, rows, notes, date: started });
  // Formatted as the repository's `prettier --check` wants it, so a fresh result does not fail lint.
  const prettierOptions = (await prettier.resolveConfig(opts.out)) ?? {};
  await writeFile(opts.out, await prettier.format(markdown, { ...prettierOptions, parser: 'markdown' }));
  log(`\nwritten to ${opts.out}; took ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min`);
}

function rowsNotes(opts: BenchOptions, processes: ProcessesResult): string[] {
  const notes: string[] = [];
  const fresh2 = processes.fresh2[0];
  if (fresh2 && fresh2.scan.shards <= 1) {
    notes.push(
      'the first scans were one shard: a first scan is cut at the folders a delimiter listing reports ' +
        '(core/scan/folder-shards.ts), and s3rver reports a folder only when objects sit directly in it, not ' +
        'the camera folders of these keys (camera/date/hour/image); S3 and MinIO report them. The re-read rows ' +
        'show two processes sharing shards learned from the keys of the last scan',
    );
  }
  notes.push(
    'worker RSS: "ready" is after loading (bin/anpr-audit.js compiles the TypeScript with tsx at start); ' +
      '"by fifth" is the highest RSS sampled (every 100 ms) in each fifth of the scan: memory that grows with ' +
      'the objects climbs from fifth to fifth, garbage waiting for a collection saws',
  );
  if (opts.cpuProfDir) {
    notes.push(
      `CPU profiles written to ${opts.cpuProfDir}: the worker processes, and this process and the S3 process ` +
        `during each (a), (a') and (b) run (bench-a-runK, bench-a-listing-runK, bench-b-runK, each with its -s3 ` +
        `twin); summarise with ` +
        `tsx bench/cpu-profile.ts. The profiler slows the scan more than the bare client, so (b) gets no verdict`,
    );
  }
  return notes;
}

async function postgresVersion(): Promise<string> {
  const { openDb } = await import('../core/store/db.js');
  const { TEST_DATABASE_URL } = await import('../test/helpers/database.js');
  const db = await openDb({ databaseUrl: TEST_DATABASE_URL });
  try {
    const rows = await db.query<{ server_version: string }>('SHOW server_version');
    return `PostgreSQL ${rows[0]?.server_version.split(' ')[0] ?? '?'}`;
  } finally {
    await db.close();
  }
}

installCleanupHandlers();
let options: BenchOptions;
let cpuSplit: CpuSplit | null;
try {
  options = parseOptions(process.argv.slice(2));
  // Before anything starts: a --pin this machine cannot do is a bad option.
  cpuSplit = options.pin ? await planCpuSplit() : null;
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
/** Cleans up (at most a minute: a hung clean-up must not hang the benchmark) and exits. */
async function finish(code: number): Promise<never> {
  const timer = setTimeout(() => process.exit(code), 60_000);
  timer.unref();
  await cleanupAll();
  process.exit(code);
}

main(options, cpuSplit).then(
  () => finish(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    return finish(1);
  },
);
