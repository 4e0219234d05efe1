/**
 * Discovery of a source's environments, before its objects are read: which buckets it exposes
 * (ListBuckets with the source's own credentials), which of them were never declared or look like
 * test environments, whether they answer unsigned requests, what lifecycle they claim, and which
 * deleted or overwritten objects they still keep as noncurrent versions.
 */
import type { KeyRange, PlannedBucket, SourcePlan } from '../queue/jobs.js';
import type {
  AnonymousProbe,
  LifecycleObservation,
  NoncurrentVersion,
  VersioningObservation,
} from '../rules/rule.js';
import { classifyBucketName } from '../rules/bucket-names.js';
import { probeAnonymousAccess, probeInconclusive } from '../storage/anonymous-probe.js';
import { ListingXmlError } from '../storage/list-objects-xml.js';
import {
  describeS3Error,
  isRetryable,
  type ListedObject,
  type SourceStorage,
} from '../storage/s3-storage.js';
import { planFolderShards } from './folder-shards.js';
import type { RequestLimit, ScanDeps } from './scan-deps.js';

/**
 * A bucket rule whose evidence discovery could not gather this time. Its findings from earlier
 * scans stay open: that a rule raised nothing on missing evidence proves nothing.
 */
export interface UndeterminedCheck {
  rule: 'public-access' | 'lifecycle-not-enforcing' | 'noncurrent-versions';
  reason: string;
}

/** A planned bucket with what discovery observed of it. */
export interface DiscoveredBucket extends PlannedBucket {
  anonymousProbes: AnonymousProbe[];
  lifecycle: LifecycleObservation;
  /** Absent in plans stored by versions before it was read. */
  versioning?: VersioningObservation;
  /** Absent in plans stored by versions before it: see {@link undeterminedOf}. */
  undetermined?: UndeterminedCheck[];
}

/**
 * The bucket's undetermined checks; for a plan stored before they were recorded, judged again from
 * its probes and lifecycle (the object probe's skip was not recorded then). A plan stored before
 * versions were read says nothing of them: its versions are undetermined too.
 */
export function undeterminedOf(bucket: DiscoveredBucket): UndeterminedCheck[] {
  const checks =
    bucket.undetermined ??
    undeterminedChecks(bucket.anonymousProbes, null, bucket.lifecycle, bucket.versioning);
  if (bucket.versioning !== undefined) return checks;
  return [
    ...checks,
    { rule: 'noncurrent-versions', reason: 'the scan was planned before versions were read' },
  ];
}

/**
 * What discovery could not determine of a bucket: public access when no probe was served and some
 * probe got no decision (or the object probe could not run because the bucket could not be
 * listed), the lifecycle when it could not be read, and the versions when they could not be.
 */
export function undeterminedChecks(
  probes: AnonymousProbe[],
  objectProbeSkipped: string | null,
  lifecycle: LifecycleObservation,
  versioning?: VersioningObservation,
): UndeterminedCheck[] {
  const checks: UndeterminedCheck[] = [];
  if (!probes.some((p) => p.allowed)) {
    const reasons = probes
      .filter(probeInconclusive)
      .map((p) => (p.status === 0 ? p.request : `${p.request}: ${p.status}`));
    if (objectProbeSkipped !== null) reasons.push(`no object probe: ${objectProbeSkipped}`);
    if (reasons.length > 0) checks.push({ rule: 'public-access', reason: reasons.join('; ') });
  }
  if (!lifecycle.supported) checks.push({ rule: 'lifecycle-not-enforcing', reason: lifecycle.note });
  if (versioning?.state === 'unknown') checks.push({ rule: 'noncurrent-versions', reason: versioning.note });
  return checks;
}

export interface DiscoveryResult extends SourcePlan {
  buckets: DiscoveredBucket[];
  /** Problems that make the source's scan incomplete (a declared bucket that is not there...). */
  errors: string[];
}

/**
 * Lists and classifies the source's buckets and probes each one. Throws when a request fails for a
 * passing reason after its retries (the job then runs discovery again); anything else becomes an
 * error (the source's scan is then incomplete) or a note.
 */
export async function discoverSource(deps: ScanDeps, sourceId: string): Promise<DiscoveryResult> {
  // Every request goes through the source's concurrency budget (`limit`), as the scan's reads do.
  const { config, storage, limit } = deps.source(sourceId);
  const notes: string[] = [];
  const errors: string[] = [];
  let names: string[];
  let listBucketsError: string | null = null;
  try {
    names = await limit(() => storage.listBuckets());
  } catch (error) {
    // A passing failure (throttling, 5xx, time-out) that outlasted the request retries fails the
    // job, so BullMQ runs discovery again after its backoff: nothing has been read yet.
    if (isRetryable(error)) {
      throw new Error(
        `${sourceId}: ListBuckets failed (${describeS3Error(error)}); none of its buckets was scanned (declared: ${config.buckets.join(', ')})`,
        { cause: error },
      );
    }
    // A refusal will not pass: scan what was declared; aggregateSource makes the source incomplete.
    listBucketsError = describeS3Error(error);
    names = [...config.buckets];
  }
  for (const declared of config.buckets) {
    if (!names.includes(declared)) {
      errors.push(
        `declared bucket "${declared}" does not exist on ${sourceId} (or the credentials cannot see it)`,
      );
    }
  }
  const buckets: DiscoveredBucket[] = [];
  for (const bucket of names) {
    if (listBucketsError === null || config.buckets.includes(bucket)) {
      buckets.push(await discoverBucket(deps, sourceId, bucket, notes));
    }
  }
  return { buckets, listBucketsError, notes, errors };
}

/**
 * Key-range shards for a bucket, learned from the last scan: every `shardSize`-th known key is a
 * boundary, so several workers share a large bucket; keys added since then fall into the ranges as
 * they come. A bucket with fewer than `shardSize` known keys is one shard, unless
 * `firstScanOfLargeBucket` (none of its keys is known and it holds more than a listing page): then it
 * is cut at its folders (folder-shards.ts; like every request of `storage`, the listings are paced
 * by the source's request rate), or
 * is one shard when it has none. Never throws for the folder listings' trouble: it becomes a note
 * and the bucket one shard.
 */
export async function planShards(
  deps: ScanDeps,
  sourceId: string,
  bucket: string,
  firstScanOfLargeBucket: boolean,
  notes: string[],
): Promise<KeyRange[]> {
  const { config, storage, limit } = deps.source(sourceId);
  const boundaries = await deps.store.keyBoundaries(sourceId, bucket, config.shardSize);
  if (boundaries.length === 0 && firstScanOfLargeBucket && config.firstScanShards > 1) {
    try {
      const shards = await planFolderShards(
        (prefix) => limit(() => storage.listFolders(bucket, prefix)),
        config.firstScanShards,
      );
      if (shards) return shards;
    } catch (error) {
      notes.push(`${bucket}: could not list its folders to share its first scan (${describeS3Error(error)})`);
    }
  }
  const shards: KeyRange[] = [];
  let startAfter: string | null = null;
  for (const boundary of boundaries) {
    shards.push({ startAfter, endAt: boundary });
    startAfter = boundary;
  }
  shards.push({ startAfter, endAt: null });
  return shards;
}

/** Keys listed of a known bucket to pick the anonymous read probe's object from. */
const PROBE_CANDIDATES = 10;

async function discoverBucket(
  deps: ScanDeps,
  sourceId: string,
  bucket: string,
  notes: string[],
): Promise<DiscoveredBucket> {
  const { config, storage, rate, limit } = deps.source(sourceId);
  const { testLike, words } = classifyBucketName(bucket);
  // A bucket none of whose keys is known may be cut at its folders if it is large: its first page
  // (a page the scan lists again) tells; otherwise a few keys are enough, for the probe.
  const unknown =
    config.firstScanShards > 1 && (await deps.store.listObjectStates(sourceId, bucket, null, 1)).length === 0;
  let sample: ListedObject | undefined;
  let large = false;
  let listingError: string | null = null;
  try {
    const page = await limit(() =>
      storage.listPage(bucket, { maxKeys: unknown ? deps.config.scan.listPageSize : PROBE_CANDIDATES }),
    );
    // An object with bytes if one is listed: a folder marker (zero bytes, often the first keys) is
    // probed whole instead, as a ranged GET of it is answered 416 whether or not it is public.
    sample = page.objects.find((o) => o.size > 0) ?? page.objects[0];
    large = unknown && page.nextToken !== null;
  } catch (error) {
    // As with ListBuckets: a passing failure retries the whole discovery.
    if (isRetryable(error))
      throw new Error(`${sourceId}: ${bucket}: listing failed (${describeS3Error(error)})`, { cause: error });
    listingError = describeS3Error(error);
    notes.push(
      `${bucket}: could not list the bucket for the anonymous read probe or its first-scan shards (${listingError})`,
    );
  }
  const anonymousProbes = await limit(() => probeAnonymousAccess(config.endpoint, bucket, sample, rate));
  const lifecycle = await limit(() => storage.lifecycle(bucket));
  if (!lifecycle.supported) notes.push(`${bucket}: ${lifecycle.note}; lifecycle evidence not available`);
  const versioning = await observeVersions(storage, limit, sourceId, bucket);
  return {
    bucket,
    declared: config.buckets.includes(bucket),
    testLike,
    testWords: words,
    shards: await planShards(deps, sourceId, bucket, large, notes),
    anonymousProbes,
    lifecycle,
    versioning,
    undetermined: undeterminedChecks(anonymousProbes, listingError, lifecycle, versioning),
  };
}

/** Noncurrent versions kept per bucket as evidence: the oldest. */
const VERSION_EVIDENCE = 10;

/** Puts `version` among the oldest `VERSION_EVIDENCE` of `oldest` (kept oldest first), if it is. */
function keepOldest(oldest: NoncurrentVersion[], version: NoncurrentVersion): void {
  const at = Date.parse(version.lastModified);
  const index = oldest.findIndex((v) => Date.parse(v.lastModified) > at);
  if (index === -1) {
    if (oldest.length < VERSION_EVIDENCE) oldest.push(version);
    return;
  }
  oldest.splice(index, 0, version);
  if (oldest.length > VERSION_EVIDENCE) oldest.pop();
}

/**
 * The bucket's versioning and, when it keeps versions, a count of its noncurrent ones with the
 * oldest as evidence: every version is listed (a page per 1000), none is read. Throws for a
 * passing failure (discovery runs again); a refusal becomes `unknown`, which makes the scan
 * incomplete: the bucket may hold images no listing shows.
 */
async function observeVersions(
  storage: SourceStorage,
  limit: RequestLimit,
  sourceId: string,
  bucket: string,
): Promise<VersioningObservation> {
  const fail = (what: string, error: unknown): Error =>
    new Error(`${sourceId}: ${bucket}: ${what} failed (${describeS3Error(error)})`, { cause: error });
  let state: Awaited<ReturnType<SourceStorage['versioning']>>;
  try {
    state = await limit(() => storage.versioning(bucket));
  } catch (error) {
    if (isRetryable(error)) throw fail('GetBucketVersioning', error);
    return { state: 'unknown', note: `its versioning could not be read (${describeS3Error(error)})` };
  }
  if (state === 'never' || state === 'unsupported') return { state };
  const listedAt = new Date().toISOString();
  let noncurrent = 0;
  let deleteMarkers = 0;
  const oldest: NoncurrentVersion[] = [];
  let markers: { keyMarker: string | null; versionIdMarker: string | null } = {
    keyMarker: null,
    versionIdMarker: null,
  };
  try {
    for (;;) {
      const page = await limit(() => storage.listVersionsPage(bucket, markers));
      for (const version of page.versions) {
        const size = Number(version.size);
        if (version.isLatest || !(size > 0)) continue;
        noncurrent += 1;
        const { key, versionId, lastModified } = version;
        keepOldest(oldest, { key, versionId, etag: version.etag.replace(/^"|"$/g, ''), size, lastModified });
      }
      deleteMarkers += page.deleteMarkers.length;
      if (!page.isTruncated) break;
      const next = { keyMarker: page.nextKeyMarker, versionIdMarker: page.nextVersionIdMarker };
      // A server that hands back the markers it was given would keep this loop going for ever.
      if (next.keyMarker === markers.keyMarker && next.versionIdMarker === markers.versionIdMarker) {
        throw new ListingXmlError(
          'the version listing answers the same page again (its next markers are those it was given)',
        );
      }
      markers = next;
    }
  } catch (error) {
    if (isRetryable(error)) throw fail('ListObjectVersions', error);
    return {
      state: 'unknown',
      note: `it keeps versions (${state}), but they could not be listed (${describeS3Error(error)})`,
    };
  }
  return { state, noncurrent, deleteMarkers, oldest, listedAt };
}
