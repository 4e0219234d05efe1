/**
 * A bucket of many small camera images on a real S3 server behind the counting, fault-injecting
 * gateway: the world the distributed-scan tests shard, kill and fail.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { parseConfig, type Config } from '../../config/load.js';
import type { Finding, Scan } from '../../core/model.js';
import { scanJobOptions } from '../../core/queue/connection.js';
import type { Runtime } from '../../core/runtime.js';
import { startScan } from '../../core/scan/start-scan.js';
import type { Store } from '../../core/store/store.js';
import { generateCameraImage, toExifTime } from '../../fixtures/camera-image.js';
import { startS3Stack, type S3Stack } from '../../fixtures/s3-server.js';
import { s3Sink } from '../../fixtures/s3-sink.js';
import { openTestStore, type TestStore } from './database.js';

export const BULK_ENV = { CAM_ACCESS_KEY: 'S3RVER', CAM_SECRET_KEY: 'S3RVER' };
export const BULK_BUCKET = 'bulk-camera';

/** The key of object `index` unless startBulkWorld is told otherwise: date folders, as cameras write them. */
export const bulkKey = (index: number): string =>
  `2026/11/${String(index % 7).padStart(2, '0')}/cam-${String(index).padStart(5, '0')}.jpg`;

/** Findings as sorted `bucket/key#rule` lines, to compare one scan's findings with another's. */
export const fingerprint = (findings: Finding[]): string[] =>
  findings.map((f) => `${f.bucket}/${f.key}#${f.rule}`).sort();

/** Queues a scan of the bulk source as the API does, for worker processes to run; returns its id. */
export function queueBulkScan(world: BulkWorld, store: Store, runtime: Runtime): Promise<string> {
  return startScan(store, runtime.flows, {
    sources: ['edge-bulk'],
    trigger: 'api',
    now: world.now,
    jobOptions: scanJobOptions(runtime.queueSettings),
  });
}

/**
 * Records a running scan of the bulk source without queueing any job for it, as a trigger that
 * stopped between the two (or long ago, with `startedHoursAgo`) leaves it.
 */
export function recordBulkScan(
  world: BulkWorld,
  store: Store,
  scan: { id: string; trigger: Scan['trigger']; startedHoursAgo?: number },
): Promise<void> {
  return store.createScan({
    id: scan.id,
    sources: ['edge-bulk'],
    trigger: scan.trigger,
    judgedAt: world.now,
    startedAt:
      scan.startedHoursAgo === undefined
        ? undefined
        : new Date(Date.now() - scan.startedHoursAgo * 3_600_000),
  });
}

/** Polls the scan every 100 ms until it is no longer `running`. */
export async function waitForScanEnd(store: Store, scanId: string): Promise<Scan> {
  for (;;) {
    const scan = (await store.getScan(scanId))!;
    if (scan.status !== 'running') return scan;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many of the scan's bucket jobs each worker process completed. */
export function bucketJobsPerWorker(workers: { completedJobs(): string[] }[], scanId: string): number[] {
  return workers.map((w) => w.completedJobs().filter((id) => id.startsWith(`${scanId}-bucket`)).length);
}

export interface BulkWorld {
  stack: S3Stack;
  directory: string;
  objects: number;
  now: Date;
  prefix: string;
  /** Writes a config file with these extra source and top-level settings; returns path and parsed config. */
  config(opts?: {
    source?: string;
    top?: string;
    schema?: string;
  }): Promise<{ path: string; config: Config }>;
  close(): Promise<void>;
}

/**
 * Loads `objects` images: every third one older than the edge limit (so findings exist), keys in
 * date folders as cameras write them (or as `keyOf` names them).
 */
export async function startBulkWorld(
  objects: number,
  keyOf: (index: number) => string = bulkKey,
): Promise<BulkWorld> {
  const directory = await mkdtemp(join(tmpdir(), 'anpr-bulk-'));
  const stack = await startS3Stack({ directory: join(directory, 's3') });
  const now = new Date();
  const sink = s3Sink(stack);
  await sink.makeBucket(BULK_BUCKET);
  const limit = pLimit(16);
  await Promise.all(
    Array.from({ length: objects }, (_, i) =>
      limit(async () => {
        const hoursAgo = i % 3 === 0 ? 60 + (i % 24) : 1 + (i % 24);
        const time = toExifTime(new Date(now.getTime() - hoursAgo * 3_600_000), 'Europe/Amsterdam');
        const jpeg = await generateCameraImage({
          width: 96,
          height: 72,
          noise: 0,
          seed: i,
          captureTime: time.dateTime,
          offsetTime: time.offset,
        });
        await sink.putObject(BULK_BUCKET, keyOf(i), jpeg, { 'Content-Type': 'image/jpeg' });
      }),
    ),
  );
  sink.close();
  const prefix = `test-bulk-${randomUUID()}`;
  return {
    stack,
    directory,
    objects,
    now,
    prefix,
    async config(opts = {}) {
      const text = `
sources:
  - id: edge-bulk
    role: edge
    endpoint: ${stack.url}
    accessKeyEnv: CAM_ACCESS_KEY
    secretKeyEnv: CAM_SECRET_KEY
    buckets: [${BULK_BUCKET}]${opts.source ?? ''}
redis: { prefix: ${prefix} }
${opts.schema ? `database: { schema: ${opts.schema} }` : `database: { dataDir: ${join(directory, 'pglite')} }`}
${opts.top ?? ''}`;
      const path = join(directory, `config-${randomUUID().slice(0, 8)}.yaml`);
      await writeFile(path, text);
      return { path, config: parseConfig(text, path, BULK_ENV) };
    },
    async close() {
      await stack.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A bulk world and a fresh PostgreSQL store, there from `before` to `after` of a describe. */
export interface BulkWorldWithStore {
  readonly world: BulkWorld;
  readonly db: TestStore;
}

/**
 * Starts a bulk world of `objects` (keys from `keyOf`) and a fresh PostgreSQL store in the calling
 * describe's `before` hook, and closes both in its `after` hook. Read the fields inside tests only.
 */
export function useBulkWorld(objects: number, keyOf?: (index: number) => string): BulkWorldWithStore {
  let world: BulkWorld | undefined;
  let db: TestStore | undefined;
  before(async () => {
    world = await startBulkWorld(objects, keyOf);
    db = await openTestStore('postgres');
  });
  after(async () => {
    await db?.cleanup();
    await world?.close();
  });
  return {
    get world() {
      if (!world) throw new Error('the bulk world starts in the before hook');
      return world;
    },
    get db() {
      if (!db) throw new Error('the store opens in the before hook');
      return db;
    },
  };
}
