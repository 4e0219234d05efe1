/**
 * The benchmark's world: an S3 server (s3rver behind the counting gateway) in a child process of its
 * own (bench/s3-process.ts) storing into a temp dir, one edge bucket filled with camera JPEGs, the
 * config that points the auditor at it, and Redis hygiene.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parseConfig, type Config } from '../config/load.js';
import { SourceStorage } from '../core/storage/s3-storage.js';
import { onCleanup, trackDirectory } from './cleanup.js';
import { makeObject, type BaseImage } from './images.js';
import { applyCpuSplit, type CpuSplit } from './cpu-affinity.js';
import { startS3Process, type S3Process } from './s3-process.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const SOURCE_ID = 'edge-randwyck';
export const BUCKET = 'edge-jwbeyenlaan';
const ENV_ACCESS = 'BENCH_EDGE_ACCESS_KEY';
const ENV_SECRET = 'BENCH_EDGE_SECRET_KEY';

export interface BenchWorld {
  directory: string;
  /** The S3 child process: endpoint, credentials, the gateway's counters and the server's CPU time. */
  stack: S3Process;
  /** A client through the gateway, as the auditor reaches the source. */
  storage: SourceStorage;
  /** Environment with the source's credentials, for parseConfig and worker processes. */
  env: Record<string, string>;
  /** Run id: every Redis prefix and schema of this run starts with it. */
  runId: string;
  /** How the CPUs are shared between the S3 process and the rest (bench/cpu-affinity.ts). */
  cpus: string;
  /** Objects uploaded so far (keys are objects 0..count-1) and their bytes. */
  count: number;
  bytes: number;
  /**
   * Uploads objects [count, count + more) (optionally only their first `truncateTo` bytes), then
   * waits until the written data is on disk (`flushSeconds`; null where `sync` is missing), so the
   * kernel's write-back of gigabytes does not take CPU from the measurements that follow.
   */
  upload(
    pool: BaseImage[],
    more: number,
    opts: { now: Date; concurrency: number; truncateTo?: number },
  ): Promise<{ seconds: number; bytes: number; flushSeconds: number | null }>;
  /** A config for the auditor with the given Redis prefix (shardSize: the schema's default when absent). */
  config(
    prefix: string,
    opts: { concurrency: number; shardSize?: number },
  ): Promise<{ path: string; config: Config }>;
}

/**
 * Runs sync(1) and resolves with how long it took: the dirty pages of an upload are written back
 * before anything is measured (seen here: the write-back of 1.7 GB kept kernel threads busy for
 * 15 s, during the first bare-client run, which measured 361 obj/s against 436 for the next one).
 * Null where there is no `sync`.
 */
async function flushToDisk(): Promise<number | null> {
  const start = performance.now();
  try {
    await promisify(execFile)('sync');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`sync after the upload failed: ${(error as Error).message}`, { cause: error });
  }
  return (performance.now() - start) / 1000;
}

/** Free bytes on the file system holding `path`. */
export async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

/**
 * Starts the S3 process (s3rver + gateway) on a new temp dir and creates the bucket. Cleaned up on
 * exit (startS3Process registers the process's own clean-up).
 */
export async function startWorld(opts: { pin: CpuSplit | null }): Promise<BenchWorld> {
  const directory = await mkdtemp(join(tmpdir(), 'anpr-bench-'));
  trackDirectory(directory);
  const stack = await startS3Process({ directory: join(directory, 's3') });
  const cpus = opts.pin
    ? await applyCpuSplit(opts.pin, stack.pid)
    : 'shared: the scheduler places every process on any CPU (--pin gives the S3 process one of its own)';
  const credentials = { accessKey: stack.accessKey, secretKey: stack.secretKey };
  // Uploads go straight to s3rver, so the gateway counts only what the auditor does.
  const upstream = new SourceStorage({
    endpoint: `http://127.0.0.1:${stack.upstreamPort}`,
    region: stack.region,
    credentials,
  });
  const storage = new SourceStorage({ endpoint: stack.url, region: stack.region, credentials });
  onCleanup('s3 clients', () => {
    upstream.close();
    storage.close();
  });
  await upstream.ensureBucket(BUCKET);
  const runId = `bench-${randomUUID().slice(0, 8)}`;

  const world: BenchWorld = {
    directory,
    stack,
    storage,
    env: { [ENV_ACCESS]: stack.accessKey, [ENV_SECRET]: stack.secretKey },
    runId,
    cpus,
    count: 0,
    bytes: 0,
    async upload(pool, more, opts) {
      const start = performance.now();
      const first = world.count;
      const end = first + more;
      let next = first;
      let bytes = 0;
      let lastReport = start;
      const runner = async () => {
        while (next < end) {
          const index = next;
          next += 1;
          const object = makeObject(pool, index, opts.now);
          const body = opts.truncateTo ? object.bytes.subarray(0, opts.truncateTo) : object.bytes;
          await upstream.putObject(BUCKET, object.key, body, object.headers);
          bytes += body.length;
          if (performance.now() - lastReport > 10_000) {
            lastReport = performance.now();
            const done = next - first;
            const rate = done / ((lastReport - start) / 1000);
            process.stderr.write(`  uploaded ${done}/${more} (${rate.toFixed(0)}/s)\n`);
          }
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency }, runner));
      world.count = end;
      world.bytes += bytes;
      const seconds = (performance.now() - start) / 1000;
      return { seconds, bytes, flushSeconds: await flushToDisk() };
    },
    async config(prefix, opts) {
      const shardLine = opts.shardSize === undefined ? '' : `\n    shardSize: ${opts.shardSize}`;
      const text = `contract:
  timezone: Europe/Amsterdam
sources:
  - id: ${SOURCE_ID}
    role: edge
    endpoint: ${stack.url}
    accessKeyEnv: ${ENV_ACCESS}
    secretKeyEnv: ${ENV_SECRET}
    buckets: [${BUCKET}]
    concurrency: ${opts.concurrency}${shardLine}
redis: { url: '${REDIS_URL}', prefix: ${prefix} }
database: { dataDir: ${join(directory, 'pglite-unused')} }
`;
      const path = join(directory, `${prefix}.yaml`);
      await writeFile(path, text);
      return { path, config: parseConfig(text, path, { ...world.env, REDIS_URL }) };
    },
  };
  return world;
}

/** Removes every Redis key whose name starts with `prefix` (SCAN + UNLINK, never KEYS on a big db). */
export async function removeRedisKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}
