/**
 * Scans one key range of one bucket: streams ListObjectsV2 page by page, reads the head of each new
 * or changed object (unchanged ones come from the store), judges every object with the rules, and
 * upserts the findings. Memory holds one page at a time, whatever the bucket's size.
 */
import type { BucketCheckpoint, BucketCounts, KeyRange, ScanBucketResult } from '../queue/jobs.js';
import type { RegisterMatch } from '../model.js';
import type { FindingInput, ObjectState } from '../store/store.js';
import type { ListedObject, ListPage } from '../storage/s3-storage.js';
import { describeS3Error } from '../storage/s3-storage.js';
import { evaluateObject, toSnapshot } from './evaluate.js';
import { readObject } from './object-reader.js';
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
  /** Polled between pages; when it says so, the scan stops (cancelled). */
  shouldStop?: () => Promise<boolean>;
}

function unchanged(previous: ObjectState | undefined, listed: ListedObject): previous is ObjectState {
  return previous !== undefined && previous.etag === listed.etag && previous.size === listed.size;
}

/**
 * Scans the range. Objects that could not be read for a transient reason are counted as listed but
 * not evaluated, so the result is not `complete`; everything else is judged.
 */
export async function scanBucketRange(deps: ScanDeps, request: BucketScanRequest): Promise<ScanBucketResult> {
  const handle = deps.source(request.sourceId);
  const { storage, limit, rate } = handle;
  const ctx = deps.ruleContext(request.sourceId, request.now);
  const scanConfig = deps.config.scan;
  const readContext = {
    storage,
    source: handle.config,
    bucket: request.bucket,
    timezone: deps.contract.timezone,
    headBytes: scanConfig.headBytes,
    maxHeadBytes: scanConfig.maxHeadBytes,
    plateHashKey: deps.config.plateHashKey,
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
  let sampleKey: string | null = null;
  const startAfter = request.checkpoint?.lastKey ?? request.range.startAfter;
  let pageStart = startAfter;
  const endAt = request.range.endAt;

  await progress(deps, request, counts, 'running');
  const listFrom = (continuationToken: string | null, after: string | null): Promise<ListPage> =>
    quiet(
      (async () => {
        if (rate) await rate();
        try {
          return await storage.listPage(request.bucket, {
            continuationToken,
            startAfter: after,
            maxKeys: scanConfig.listPageSize,
          });
        } catch (error) {
          // The job is retried with backoff and resumes from the checkpoint.
          throw new Error(`listing ${request.sourceId}/${request.bucket} failed: ${describeS3Error(error)}`, {
            cause: error,
          });
        }
      })(),
    );
  // A one-page pipeline: while page k is read, page k+1 is already being listed, and page k-1's
  // results are still being written. Checkpoints stay in order: page k is checkpointed only after
  // page k-1's writes and its own are done.
  let listing: Promise<ListPage> | null = listFrom(null, startAfter);
  let storing: Promise<void> = Promise.resolve();
  while (listing) {
    if (request.shouldStop && (await request.shouldStop())) {
      errors.push('scan cancelled before the bucket was finished');
      break;
    }
    const page: ListPage = await listing;
    let objects = page.objects;
    let reachedEnd = page.nextToken === null;
    if (endAt !== null) {
      // S3 (and the store's "C" collation) order keys by UTF-8 bytes; JS strings compare UTF-16 units.
      const inRange = objects.filter((o) => Buffer.compare(Buffer.from(o.key), Buffer.from(endAt)) <= 0);
      if (inRange.length < objects.length) reachedEnd = true;
      objects = inRange;
    }
    listing = reachedEnd ? null : listFrom(page.nextToken, null);
    if (objects.length === 0) {
      await storing;
      if (reachedEnd)
        await deps.store.pruneObjectStates(request.sourceId, request.bucket, pageStart, endAt, []);
      continue;
    }
    sampleKey ??= objects[0]!.key;
    const read = await readPage(deps, request, objects, counts, errors, { readContext, ctx, limit, rate });
    if (read.unread.length > 0) {
      await storing.catch(() => undefined);
      // Throttling, 5xx or time-outs that outlasted the per-request retries: fail the job so BullMQ
      // retries it with backoff from the last checkpoint (this page is read again; what was stored
      // is not fetched twice). After the last attempt the bucket counts as not scanned.
      throw new Error(
        `${read.unread.length} object(s) of ${request.bucket} could not be read: ${read.unread[0]}`,
      );
    }
    const lastKey = objects[objects.length - 1]!.key;
    const checkpoint: BucketCheckpoint = { ...counts, lastKey, errors: errors.slice(0, 50) };
    const pruneFrom = pageStart;
    pageStart = lastKey;
    await storing;
    storing = quiet(
      (async () => {
        await deps.store.putObjectStates(read.changedStates);
        await deps.store.upsertFindings(request.scanId, read.findings, request.now);
        // The page proves which keys exist between the previous page and this one: forget the rest.
        const keys = objects.map((o) => o.key);
        await deps.store.pruneObjectStates(
          request.sourceId,
          request.bucket,
          pruneFrom,
          reachedEnd ? endAt : lastKey,
          keys,
        );
        await request.onCheckpoint?.(checkpoint);
        await progress(deps, request, checkpoint, 'running');
      })(),
    );
  }
  await storing;
  const complete = errors.length === 0 && counts.evaluated === counts.listed;
  await progress(deps, request, counts, complete ? 'completed' : 'incomplete');
  return {
    ...counts,
    bucket: request.bucket,
    shard: request.shard,
    complete,
    errors: errors.slice(0, 50),
    sampleKey,
  };
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

interface PageTools {
  readContext: Parameters<typeof readObject>[0];
  ctx: ReturnType<ScanDeps['ruleContext']>;
  limit: ScanDepsLimit;
  rate: (() => Promise<void>) | null;
}
type ScanDepsLimit = ReturnType<ScanDeps['source']>['limit'];

/** What reading and judging one page produced, to be stored. */
interface PageResult {
  changedStates: ObjectState[];
  findings: FindingInput[];
  /** Objects that could not be read for a transient reason. */
  unread: string[];
}

/**
 * Marks a promise as handled, so that a failure while it waits in the pipeline is not an unhandled
 * rejection; whoever awaits it later still gets the error.
 */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Reads and judges one listing page; the caller stores the result. */
async function readPage(
  deps: ScanDeps,
  request: BucketScanRequest,
  objects: ListedObject[],
  counts: BucketCounts,
  errors: string[],
  tools: PageTools,
): Promise<PageResult> {
  const unread: string[] = [];
  const known = await deps.store.getObjectStates(
    request.sourceId,
    request.bucket,
    objects.map((o) => o.key),
  );
  const changedStates: ObjectState[] = [];
  const findings: FindingInput[] = [];
  counts.listed += objects.length;

  await Promise.all(
    objects.map((listed) =>
      tools.limit(async () => {
        let state = known.get(listed.key);
        if (!unchanged(state, listed)) {
          if (tools.rate) await tools.rate();
          const result = await readObject(tools.readContext, listed);
          counts.bytesRead += result.bytesRead;
          if (result.bytesRead > 0) counts.fetched += 1;
          if (result.vanished) {
            // Deleted between LIST and GET: gone, as the contract wants; not part of this scan.
            counts.listed -= 1;
            return;
          }
          if (result.transientError) {
            unread.push(result.transientError);
            return;
          }
          state = result.state;
          changedStates.push(state);
        }
        const snapshot = toSnapshot(listed, state, {
          bucketDeclared: request.declared,
          bucketTestLike: request.testLike,
          register: request.matchRegister ? request.matchRegister(state, listed) : null,
          copyOf: null,
        });
        const verdict = evaluateObject(snapshot, tools.ctx);
        findings.push(...verdict.findings);
        errors.push(...verdict.errors);
        counts.evaluated += 1;
        if (state.isImage) counts.images += 1;
      }),
    ),
  );
  return { changedStates, findings, unread };
}
