/**
 * Job names, payloads and results of the scan queue: the one place that knows them.
 * A worker refuses to start when a job name here has no processor.
 */

/** The queue every scan job goes through. */
export const SCAN_QUEUE = 'scan';

/**
 * Whether a job running now is on its last attempt. BullMQ counts `attemptsMade` when an attempt
 * ends (failed, retried or completed), not when a stalled run is taken over, so this holds after
 * a stall too.
 */
export function isLastAttempt(job: { attemptsMade: number; opts: { attempts?: number } }): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export const JOB_NAMES = ['scheduled-scan', 'finalize-scan', 'scan-source', 'scan-bucket'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** Fired by a source's job scheduler: starts a scan of that source unless one is running. */
export interface ScheduledScanData {
  sourceId: string;
}

/** Parent of one scan: runs when every `scan-source` child has finished, and sets the scan status. */
export interface FinalizeScanData {
  scanId: string;
  /** The sources the scan covers, so a lost child is noticed. */
  sources?: string[];
}

/** One source of a scan: discovery, then a `scan-bucket` child per bucket or shard, then aggregation. */
export interface ScanSourceData {
  scanId: string;
  sourceId: string;
  /** The clock the rules judge by (ISO 8601). */
  judgedAt: string;
  /**
   * Step of the step-job pattern; set by the processor itself. `children`: the discovery is saved
   * with the job and its bucket jobs are being added.
   */
  step?: 'discover' | 'children' | 'wait' | 'aggregate';
  plan?: SourcePlan;
}

/** What discovery decided for a source; kept in the job so a retry does not redo it. */
export interface SourcePlan {
  buckets: PlannedBucket[];
  /** Listing the buckets failed (e.g. ListBuckets denied): scan only the declared ones. */
  listBucketsError: string | null;
  notes: string[];
}

export interface PlannedBucket {
  bucket: string;
  declared: boolean;
  testLike: boolean;
  testWords: string[];
  shards: KeyRange[];
}

/** A key range of a bucket: keys > startAfter and <= endAt (either end open when null). */
export interface KeyRange {
  startAfter: string | null;
  endAt: string | null;
}

export interface ScanBucketData {
  scanId: string;
  sourceId: string;
  bucket: string;
  judgedAt: string;
  declared: boolean;
  testLike: boolean;
  shard: number;
  range: KeyRange;
  /** Checkpoint: the last key whose page was fully evaluated, and the counts up to it. */
  checkpoint?: BucketCheckpoint;
}

/** Where a bucket job stands after its last stored page: a restart resumes after `lastKey`. */
export interface BucketCheckpoint extends BucketCounts {
  lastKey: string;
  /** Errors so far (rule failures), so a resumed job still reports them. */
  errors?: string[];
}

export interface BucketCounts {
  listed: number;
  evaluated: number;
  fetched: number;
  images: number;
  bytesRead: number;
}

/** What a `scan-bucket` job returns to its parent. */
export interface ScanBucketResult extends BucketCounts {
  bucket: string;
  shard: number;
  /** True when every listed object was evaluated. */
  complete: boolean;
  errors: string[];
  /** One key of the shard, for the anonymous read probe. */
  sampleKey: string | null;
}

/** What a `scan-source` job returns to the finalizer. */
export interface ScanSourceResult {
  sourceId: string;
  complete: boolean;
  errors: string[];
  notes: string[];
}

/**
 * Deterministic job ids, so a retried trigger or discovery never adds a job twice. Distinct jobs
 * must never share one: BullMQ silently ignores a job added under an id it has. A source id has no
 * '.' (the config allows letters, digits and dashes), so the '.' after it ends it: `vendor` +
 * `ars-x` and `vendor-ars` + `x` differ. The shard number is digits after the last '-'.
 */
export const jobIds = {
  finalize: (scanId: string) => `${scanId}-finalize`,
  source: (scanId: string, sourceId: string) => `${scanId}-source-${sourceId}`,
  bucket: (scanId: string, sourceId: string, bucket: string, shard: number) =>
    `${scanId}-bucket-${sourceId}.${bucket}-${shard}`,
  /**
   * The scan a scheduled run starts: one per `scheduled-scan` job (BullMQ ids of scheduled jobs
   * hold ':', which custom job ids must not), so a retried run finds the scan it started.
   */
  scheduledScan: (scheduledJobId: string) => `scan-${scheduledJobId.replace(/:/g, '-')}`,
};
