/**
 * The baselines the pipeline is held against, measured with the auditor's own S3 wrapper through the
 * same gateway: a bare client doing the pipeline's ranged GETs plus the EXIF parse (no store, no
 * queue), and a bare listing of the bucket page by page. The client runs in this process; the S3
 * server it talks to runs in its own (bench/s3-process.ts), so its CPU is measured there.
 */
import { EXIFR_OPTIONS } from '../core/exif/exif-reader.js';
import exifr from 'exifr';
import type { ListedObject, SourceStorage } from '../core/storage/s3-storage.js';

/** The reader's own exifr options (one constant object: exifr caches options by identity). */
const EXIF_OPTIONS = EXIFR_OPTIONS;

async function parseCaptureTime(head: Buffer): Promise<boolean> {
  const raw = (await exifr.parse(head, EXIF_OPTIONS)) as Record<string, unknown> | undefined;
  return typeof raw?.DateTimeOriginal === 'string';
}

export interface ListingRun {
  seconds: number;
  objects: ListedObject[];
  pages: number;
}

/** Lists the whole bucket with ListObjectsV2 pages of `pageSize` keys, timed. */
export async function bareListing(
  storage: SourceStorage,
  bucket: string,
  pageSize = 1000,
): Promise<ListingRun> {
  const start = performance.now();
  const objects: ListedObject[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const page = await storage.listPage(bucket, { continuationToken: token, maxKeys: pageSize });
    objects.push(...page.objects);
    token = page.nextToken;
    pages += 1;
  } while (token !== null);
  return { seconds: (performance.now() - start) / 1000, objects, pages };
}

/**
 * The bare clients' work per object, as the scan does it: a ranged GET of the head and the EXIF
 * parse. A failed read is counted, never thrown.
 */
function headReader(storage: SourceStorage, bucket: string, headBytes: number) {
  const totals = { bytes: 0, withCaptureTime: 0, failures: 0 };
  return {
    totals,
    async read(object: ListedObject): Promise<void> {
      try {
        const head = await storage.readRange(bucket, object.key, 0, Math.min(object.size, headBytes));
        totals.bytes += head.bytes.length;
        if (await parseCaptureTime(head.bytes)) totals.withCaptureTime += 1;
      } catch {
        totals.failures += 1;
      }
    },
  };
}

export interface ReadRun {
  seconds: number;
  objectsPerSecond: number;
  bytes: number;
  withCaptureTime: number;
  failures: number;
  /** CPU seconds of this process meanwhile: the client only (the S3 server runs in another process). */
  cpuSeconds: number;
}

/**
 * Reads the first `headBytes` of every object with `concurrency` ranged GETs in flight and parses
 * the EXIF (exifr.parse with the pipeline's options, see EXIF_OPTIONS). A pool of runners, no
 * page barriers: the most this machine can do for the same work.
 */
export async function bareReads(
  storage: SourceStorage,
  bucket: string,
  objects: ListedObject[],
  opts: { concurrency: number; headBytes: number },
): Promise<ReadRun> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  const tally = headReader(storage, bucket, opts.headBytes);
  const runner = async () => {
    while (next < objects.length) {
      const object = objects[next]!;
      next += 1;
      await tally.read(object);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, runner));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return {
    seconds,
    objectsPerSecond: objects.length / seconds,
    ...tally.totals,
    cpuSeconds,
  };
}

/**
 * Like {@link bareReads}, but listing the bucket too, as a scan must: the pages are listed one after
 * another while the reads of the keys listed so far go on, `concurrency` in flight, with no barrier
 * between pages. The most a scan could do on this machine, listing included.
 */
export async function bareListAndRead(
  storage: SourceStorage,
  bucket: string,
  opts: { concurrency: number; headBytes: number; pageSize?: number },
): Promise<ReadRun> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const pending: ListedObject[] = [];
  let listed = false;
  let sleepers: (() => void)[] = [];
  const wake = () => {
    const woken = sleepers;
    sleepers = [];
    for (const resolve of woken) resolve();
  };
  let count = 0;
  const tally = headReader(storage, bucket, opts.headBytes);
  const lister = async () => {
    try {
      let token: string | null = null;
      do {
        const page = await storage.listPage(bucket, {
          continuationToken: token,
          maxKeys: opts.pageSize ?? 1000,
        });
        pending.push(...page.objects);
        token = page.nextToken;
        wake();
      } while (token !== null);
    } finally {
      listed = true;
      wake();
    }
  };
  const runner = async () => {
    for (;;) {
      const object = pending.shift();
      if (object === undefined) {
        if (listed) return;
        await new Promise<void>((resolve) => sleepers.push(resolve));
        continue;
      }
      count += 1;
      await tally.read(object);
    }
  };
  await Promise.all([lister(), ...Array.from({ length: opts.concurrency }, runner)]);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { seconds, objectsPerSecond: count / seconds, ...tally.totals, cpuSeconds };
}
