/**
 * Scans one key range of one bucket: streams ListObjectsV2 page by page, reads the head of each new
 * or changed object (unchanged ones come from the store), judges every object with the rules, and
 * upserts the findings. Memory holds at most three pages (two being read, one being written),
 * whatever the bucket's size.
 */
import type { BucketCheckpoint, BucketCounts, KeyRange, ScanBucketResult } from '../queue/jobs.js';
import type { RegisterMatch } from '../model.js';
import type { ObjectState } from '../store/store.js';
import type { ListedObject, ListPage } from '../storage/s3-storage.js';
import { describeS3Error } from '../storage/s3-storage.js';
import { byteOrder, KeyOrderError, keyOrderProblem } from './key-order.js';
import { readSettingsFingerprint, type ReadContext } from './object-reader.js';
import { readPage, type PageResult, type PageTools } from './page-reader.js';
import { notAskedMessage, RefusalGate } from './refusal-gate.js';
import type { ScanDeps } from './scan-deps.js';

/** What to scan, and where to pick up after a crash. */
export interface BucketScanRequest {
  scanId: string;
  sourceId: string;
  bucket: string;
  now: Date;
  declared: boolean;
  testLike: boolean;
  shard: number;
  range: KeyRange;
  checkpoint?: BucketCheckpoint | undefined;
  /** Matches an object against the municipality's register; absent when the source has none. */
  matchRegister?: ((state: ObjectState, listed: ListedObject) => RegisterMatch) | undefined;
  /** Called after each page is fully stored: persist it, so a restart resumes after `lastKey`. */
  onCheckpoint?: (checkpoint: BucketCheckpoint) => Promise<void>;
  /** Whether an earlier attempt of this job ran (failed or stalled): it may have stored findings. */
  retried?: boolean;
  /**
   * Whether this is the job's last attempt: objects that still cannot be read are then reported
   * and the rest of the range is scanned, instead of failing the job.
   */
  lastAttempt?: boolean;
  /** Polled between pages; when it says so, the scan stops (cancelled). */
  shouldStop?: () => Promise<boolean>;
}

/** Errors a bucket job keeps in its checkpoint and result; beyond them it counts. */
const MAX_ERRORS = 50;

/**
 * Scans the range. Objects that could not be read for a transient reason are counted as listed but
 * not evaluated, so the result is not `complete`; everything else is judged.
 */
export async function scanBucketRange(deps: ScanDeps, request: BucketScanRequest): Promise<ScanBucketResult> {
  const handle = deps.source(request.sourceId);
  const { storage, limit } = handle;
  const ctx = deps.ruleContext(request.sourceId, request.now);
  const scanConfig = deps.config.scan;
  const settings = {
    source: handle.config,
    timezone: handle.config.cameraTimezone ?? deps.contract.timezone,
    maxHeadBytes: scanConfig.maxHeadBytes,
    plateHashKey: deps.config.plateHashKey,
  };
  const readContext: ReadContext = {
    ...settings,
    storage,
    bucket: request.bucket,
    headBytes: scanConfig.headBytes,
    readSettings: readSettingsFingerprint(settings),
  };
  const counts: BucketCounts = request.checkpoint
    ? {
        listed: request.checkpoint.listed,
        evaluated: request.checkpoint.evaluated,
        fetched: request.checkpoint.fetched,
        images: request.checkpoint.images,
        bytesRead: request.checkpoint.bytesRead,
      }
    : { listed: 0, evaluated: 0, fetched: 0, images: 0, bytesRead: 0 };
  // Errors so far survive a resume: a bucket with an object a rule failed on is never complete.
  const errors: string[] = [...(request.checkpoint?.errors ?? [])];
  // The first MAX_ERRORS are kept, the rest only counted: a bucket of refused objects has one per
  // object.
  let moreErrors = 0;
  let gateReported = false;
  const addErrors = (more: string[]): void => {
    for (const error of more) {
      if (errors.length < MAX_ERRORS) errors.push(error);
      else moreErrors += 1;
    }
  };
  let sampleKey: string | null = null;
  const startAfter = request.checkpoint?.lastKey ?? request.range.startAfter;
  let pageStart = startAfter;
  const endAt = request.range.endAt;

  await progress(deps, request, counts, 'running');
  const listFrom = (continuationToken: string | null, after: string | null): Promise<ListPage> =>
    quiet(
      (async () => {
        try {
          // A listing is a request in flight like a read, within the source's concurrency. It is
          // asked for before the page ahead queues its reads, so it waits only for the page before.
          return await limit(() =>
            storage.listPage(request.bucket, {
              continuationToken,
              startAfter: after,
              maxKeys: scanConfig.listPageSize,
            }),
          );
        } catch (error) {
          // The job is retried with backoff and resumes from the checkpoint.
          throw new Error(`listing ${request.sourceId}/${request.bucket} failed: ${describeS3Error(error)}`, {
            cause: error,
          });
        }
      })(),
    );
  const tools: PageTools = { readContext, ctx, limit, stopped: false, gate: new RefusalGate() };

  /**
   * Settles one page in key order: waits for its reads, adds its counts, and chains its writes and
   * its checkpoint after the previous page's, so a checkpoint never claims a page whose results are
   * not stored, nor counts of a page it does not cover.
   */
  let storing: Promise<void> = Promise.resolve();
  /** Pages whose reads started and whose results are not yet handed to `storing`. */
  const unsettled = new Set<PageInFlight>();
  const settle = async (page: PageInFlight): Promise<void> => {
    const read = await page.reading;
    if (read.unread.length > 0) {
      const problem = `${read.unread.length} object(s) of ${request.bucket} could not be read: ${read.unread[0]}`;
      // Throttling, 5xx or time-outs that outlasted the per-request retries: fail the job so BullMQ
      // retries it with backoff from the last checkpoint. This page is listed again, but what was
      // read of it is kept (see keepReadObjects) and not fetched twice. The last attempt reports
      // them instead (listed, not evaluated: the bucket is incomplete) and scans the rest, unless
      // the source itself looks down: going on would only load a struggling server for nothing.
      if (!request.lastAttempt || sourceLooksDown(read)) throw new Error(problem);
      read.errors.push(`${problem} (after every attempt)`);
    }
    unsettled.delete(page);
    addCounts(counts, read.counts);
    if (read.gateClosed !== null || read.notAsked > 0) {
      // The one error that says why objects were not asked for, kept whatever the cap the first
      // time in this attempt; a later closing counts as any error. A page with objects not asked
      // for must carry it or follow it, since a checkpoint's errors are all errors so far: its
      // objects count as evaluated, and only this error keeps the bucket from being complete.
      // Reads start in page order through the limiter, so the page whose read closed the gate
      // settles first; should that ever not hold, the page still brings an error of its own.
      const message = read.gateClosed ?? notAskedMessage(request.bucket, read.notAsked);
      if (gateReported) {
        if (read.gateClosed !== null) addErrors([read.gateClosed]);
      } else errors.push(message);
      gateReported = true;
    }
    addErrors(read.errors);
    const keys = page.objects.map((o) => o.key);
    const lastKey = keys.at(-1);
    const checkpoint: BucketCheckpoint | null =
      lastKey === undefined ? null : { ...counts, lastKey, errors: [...errors] };
    await storing;
    storing = quiet(
      (async () => {
        await storeRead(deps, request, read);
        // The page proves which keys exist between the previous page and this one: forget the rest.
        if (lastKey !== undefined || page.reachedEnd) {
          const upTo = page.reachedEnd ? endAt : (lastKey ?? null);
          await deps.store.pruneObjectStates(request.sourceId, request.bucket, page.pruneFrom, upTo, keys);
          // An earlier attempt may have judged objects deleted since: they are not seen in this scan.
          if (request.retried) {
            await deps.store.unlinkGoneObjectFindings(
              request.scanId,
              request.sourceId,
              request.bucket,
              page.pruneFrom,
              upTo,
              keys,
            );
          }
        }
        if (checkpoint) {
          await request.onCheckpoint?.(checkpoint);
          await progress(deps, request, checkpoint, 'running');
        }
      })(),
    );
  };

  // A pipeline: while page k is read, page k+1 is listed and, once listed, its reads queue behind
  // page k's in the source's limiter, so the reads in flight never drain at a page's end; page k-1's
  // results are written meanwhile. At most two pages are being read and one written.
  let listing: Promise<ListPage> | null = listFrom(null, startAfter);
  let previous: PageInFlight | null = null;
  let cancelled = false;
  try {
    while (listing) {
      if (request.shouldStop && (await request.shouldStop())) {
        cancelled = true;
        break;
      }
      const page: ListPage = await listing;
      const disorder = keyOrderProblem(page.objects, pageStart);
      if (disorder !== null)
        throw new KeyOrderError(`listing ${request.sourceId}/${request.bucket} is out of order: ${disorder}`);
      let objects = page.objects;
      let reachedEnd = page.nextToken === null;
      if (endAt !== null) {
        // S3 (and the store's "C" collation) order keys by UTF-8 bytes; JS strings compare UTF-16 units.
        const inRange = objects.filter((o) => byteOrder(o.key, endAt) <= 0);
        if (inRange.length < objects.length) reachedEnd = true;
        objects = inRange;
      }
      listing = reachedEnd ? null : listFrom(page.nextToken, null);
      sampleKey ??= objects[0]?.key ?? null;
      const current: PageInFlight = {
        objects,
        reachedEnd,
        pruneFrom: pageStart,
        reading: quiet(readPage(deps, request, objects, tools)),
      };
      unsettled.add(current);
      pageStart = objects.at(-1)?.key ?? pageStart;
      if (previous) await settle(previous);
      previous = current;
    }
    if (previous) await settle(previous);
    await storing;
  } catch (error) {
    // Reads still queued in the limiter are dropped, not made; what the pages in flight did read is
    // kept, and the job ends only once every write has, so no write lands after a retry has started.
    tools.stopped = true;
    await storing.catch(() => undefined);
    await keepReadObjects(deps, request, [...unsettled]);
    throw error;
  }
  // After the page in flight settled, so its checkpoint does not carry the cancellation.
  if (cancelled) errors.push('scan cancelled before the bucket was finished');
  const complete = errors.length === 0 && counts.evaluated === counts.listed;
  await progress(deps, request, counts, complete ? 'completed' : 'incomplete');
  return {
    ...counts,
    bucket: request.bucket,
    shard: request.shard,
    complete,
    errors: moreErrors > 0 ? [...errors, `and ${moreErrors} more error(s)`] : errors,
    sampleKey,
  };
}

/**
 * When a bucket job fails, stores what its unsettled pages did read and judge: the object states,
 * so the retry (which lists those pages again from the last checkpoint) does not fetch them twice,
 * and their findings. Neither a checkpoint nor pruning: those need whole pages. On a 1000-key page,
 * one object that outlasted its retries would otherwise cost the retry 999 GETs again, against a
 * server that is throttling. Best effort: a store that fails here fails the retry's writes too, and
 * the job's own error is the one to report.
 */
async function keepReadObjects(
  deps: ScanDeps,
  request: BucketScanRequest,
  pages: PageInFlight[],
): Promise<void> {
  for (const page of pages) {
    const read = await page.reading.catch(() => null);
    if (read === null) continue;
    // The findings of objects whose bytes were not served stay out: the retry may well read them,
    // and a finding stored now would stay linked to this scan as if seen again.
    const findings = read.findings.filter((f) => !read.unserved.has(f.key));
    try {
      await storeRead(deps, request, { ...read, findings });
    } catch {
      return;
    }
  }
}

/** Stores what reading a page produced: the states of the objects read, and the findings. */
async function storeRead(deps: ScanDeps, request: BucketScanRequest, read: PageResult): Promise<void> {
  if (read.changedStates.length > 0) await deps.store.putObjectStates(read.changedStates);
  if (read.findings.length > 0) await deps.store.upsertFindings(request.scanId, read.findings, request.now);
}

/**
 * Whether a page's failed reads look like the source failing as a whole rather than a few objects:
 * more of them than reads that succeeded, and more than a handful.
 */
function sourceLooksDown(read: PageResult): boolean {
  return read.unread.length >= 10 && read.unread.length > read.counts.fetched;
}

/** A listed page on its way through the pipeline. */
interface PageInFlight {
  objects: ListedObject[];
  reachedEnd: boolean;
  /** The key after which this page's range starts (the previous page's last key). */
  pruneFrom: string | null;
  reading: Promise<PageResult>;
}

function addCounts(total: BucketCounts, page: BucketCounts): void {
  total.listed += page.listed;
  total.evaluated += page.evaluated;
  total.fetched += page.fetched;
  total.images += page.images;
  total.bytesRead += page.bytesRead;
}

async function progress(
  deps: ScanDeps,
  request: BucketScanRequest,
  counts: BucketCounts,
  state: 'running' | 'completed' | 'incomplete',
): Promise<void> {
  await deps.store.setBucketProgress(request.scanId, {
    source: request.sourceId,
    bucket: request.bucket,
    shard: request.shard,
    listed: counts.listed,
    evaluated: counts.evaluated,
    fetched: counts.fetched,
    state,
  });
}

/**
 * Marks a promise as handled, so that a failure while it waits in the pipeline is not an unhandled
 * rejection; whoever awaits it later still gets the error.
 */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
