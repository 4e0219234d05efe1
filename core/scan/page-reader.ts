/**
 * Reads and judges one listing page of a bucket job: the objects the store already knows unchanged
 * are judged from what it keeps, the others are read (a ranged GET of the head) first, through the
 * source's request limit. A storage that refuses every read is asked only for a sample (see
 * refusal-gate.ts); the objects not asked for are judged from their listing, as a refused one is.
 */
import type { BucketCounts } from '../queue/jobs.js';
import type { FindingInput, ObjectState } from '../store/store.js';
import type { ListedObject } from '../storage/s3-storage.js';
import type { BucketScanRequest } from './bucket-scan.js';
import { evaluateObject, toSnapshot } from './evaluate.js';
import { notReadState, readAsksStorage, readObject, type ReadContext } from './object-reader.js';
import { RefusalGate, refusalRunMessage, REFUSALS_TO_CLOSE } from './refusal-gate.js';
import type { RequestLimit, ScanDeps } from './scan-deps.js';

/**
 * Whether what was read of an object still holds. LastModified counts with ETag and size: a copy
 * in place that replaces only the user metadata (the violation flag) keeps the bytes, so the ETag
 * and size, but not the time. So do the settings it was read with (`readSettings`).
 */
function unchanged(
  previous: ObjectState | undefined,
  listed: ListedObject,
  readSettings: string,
): previous is ObjectState {
  return (
    sameBytes(previous, listed) &&
    previous.lastModified.getTime() === listed.lastModified.getTime() &&
    previous.readSettings === readSettings
  );
}

/** Whether the listed object holds the bytes `previous` was read from (same ETag and size). */
function sameBytes(previous: ObjectState | undefined, listed: ListedObject): previous is ObjectState {
  return previous !== undefined && previous.etag === listed.etag && previous.size === listed.size;
}

/** What a bucket job hands each page it reads: its settings, and what lives as long as the job. */
export interface PageTools {
  readContext: ReadContext;
  ctx: ReturnType<ScanDeps['ruleContext']>;
  limit: RequestLimit;
  /** Set when the bucket job fails or ends: reads still waiting in the limiter are skipped. */
  stopped: boolean;
  /** Stops asking a storage that refuses every read (see refusal-gate.ts). */
  gate: RefusalGate;
}

/** What reading and judging one page produced, to be stored. */
export interface PageResult {
  changedStates: ObjectState[];
  findings: FindingInput[];
  /** Objects that could not be read for a transient reason. */
  unread: string[];
  /** Rule failures. */
  errors: string[];
  /** This page's counts (objects deleted between LIST and GET are not listed). */
  counts: BucketCounts;
  /** Set when a run of refusals on this page made the job stop asking (refusal-gate.ts). */
  gateClosed: string | null;
  /** Objects of this page the gate did not ask for (judged from their listing). */
  notAsked: number;
  /**
   * Keys whose bytes the storage did not serve (refused, or not asked for): their findings hold
   * only for this attempt, whose retry may read them (see bucket-scan.ts keepReadObjects).
   */
  unserved: Set<string>;
}

/** Reads and judges one listing page; the caller adds its counts and stores the result. */
export async function readPage(
  deps: ScanDeps,
  request: BucketScanRequest,
  objects: ListedObject[],
  tools: PageTools,
): Promise<PageResult> {
  const counts: BucketCounts = { listed: objects.length, evaluated: 0, fetched: 0, images: 0, bytesRead: 0 };
  const result: PageResult = {
    changedStates: [],
    findings: [],
    unread: [],
    errors: [],
    counts,
    gateClosed: null,
    notAsked: 0,
    unserved: new Set(),
  };
  if (objects.length === 0) return result;
  const known = await deps.store.getObjectStates(
    request.sourceId,
    request.bucket,
    objects.map((o) => o.key),
  );
  await Promise.all(
    objects.map((listed) =>
      tools.limit(async () => {
        if (tools.stopped) {
          result.unread.push(`${listed.key}: not read, the bucket job stopped`);
          return;
        }
        const previous = known.get(listed.key);
        let state = previous;
        if (!unchanged(state, listed, tools.readContext.readSettings)) {
          state = await readChanged(listed, previous, request, tools, result);
          if (state === undefined) return;
        }
        const snapshot = toSnapshot(listed, state, {
          bucketDeclared: request.declared,
          bucketTestLike: request.testLike,
          register: request.matchRegister ? request.matchRegister(state, listed) : null,
          copyOf: null,
          contentServed: !result.unserved.has(listed.key),
        });
        const verdict = evaluateObject(snapshot, tools.ctx);
        result.findings.push(...verdict.findings);
        result.errors.push(...verdict.errors);
        counts.evaluated += 1;
        if (state.isImage) counts.images += 1;
      }),
    ),
  );
  return result;
}

/**
 * Reads an object new or changed since the store last saw it; or, while the gate is closed and the
 * object is not one of its samples, judges it without asking, as a refused object (its LastModified
 * still proves an age, and `unreadable-object` says it was not read). Returns the state to judge, or
 * undefined when the object is not judged in this scan (deleted meanwhile, or a passing failure
 * that fails the page for a retry).
 */
async function readChanged(
  listed: ListedObject,
  previous: ObjectState | undefined,
  request: BucketScanRequest,
  tools: PageTools,
  result: PageResult,
): Promise<ObjectState | undefined> {
  const { counts } = result;
  // An object read without a request (zero bytes) neither takes a sample nor tells the gate
  // anything, or folder markers among refused objects would keep the gate open.
  const asks = readAsksStorage(listed);
  if (asks && !tools.gate.shouldRead()) {
    // Not kept, as a refused object is not: the next scan asks for it again.
    result.notAsked += 1;
    result.unserved.add(listed.key);
    return notReadState(
      tools.readContext,
      listed,
      `not read: the storage had refused ${REFUSALS_TO_CLOSE} reads in a row before it`,
    );
  }
  const read = await readObject(tools.readContext, listed);
  if (asks) {
    const outcome = read.refused ? 'refused' : read.vanished || read.transientError ? 'other' : 'read';
    if (tools.gate.record(outcome) === 'closed') {
      result.gateClosed ??= refusalRunMessage(request.bucket, listed.key, read.state.readError);
    }
  }
  counts.bytesRead += read.bytesRead;
  if (read.bytesRead > 0) counts.fetched += 1;
  if (read.vanished) {
    // Deleted between LIST and GET: gone, as the contract wants; not part of this scan.
    counts.listed -= 1;
    return undefined;
  }
  if (read.transientError) {
    result.unread.push(`${listed.key}: ${read.transientError}`);
    return undefined;
  }
  if (read.refused) {
    // Judged (unreadable-object) and reported, so the bucket is incomplete; not kept, so the next
    // scan asks for it again.
    result.errors.push(`${listed.key}: ${read.state.readError}`);
    result.unserved.add(listed.key);
    return read.state;
  }
  // The same bytes (a new LastModified alone) keep their perceptual hash: no whole-image read. (What
  // they copy the store keeps by itself; see Store.putObjectStates.)
  const state = sameBytes(previous, listed)
    ? { ...read.state, perceptualHash: previous.perceptualHash }
    : read.state;
  result.changedStates.push(state);
  return state;
}
