/**
 * The findings store's contract. One implementation (`openStore`) runs the same SQL on PostgreSQL
 * (via `pg`) or on embedded PGlite; callers never know which.
 */
import type {
  BucketProgress,
  CaptureTimeOrigin,
  CopyMatch,
  Finding,
  FindingDraft,
  FindingStatus,
  Scan,
  ScanStatus,
  Severity,
  ViolationSignals,
} from '../model.js';
import type {
  AccessFilter,
  AccessInput,
  AccessPage,
  ComplianceData,
  FindingCount,
  FinishedScan,
  ScanDelta,
  Suppression,
  SuppressionInput,
} from './store-api.js';

/** A finding to upsert: the rule's draft plus the evidence of the object it is about. */
export interface FindingInput extends FindingDraft {
  source: string;
  bucket: string;
  /** Empty string for a bucket-level finding. */
  key: string;
  etag: string | null;
  size: number | null;
  lastModified: Date | null;
  captureTime: Date | null;
  captureTimeOrigin: CaptureTimeOrigin | null;
  ageHours: number | null;
}

/** What the auditor read from one object version, kept so an unchanged object is never read again. */
export interface ObjectState {
  source: string;
  bucket: string;
  key: string;
  etag: string;
  size: number;
  /** LastModified as listed when this version was read. */
  lastModified: Date;
  isImage: boolean;
  readError: string | null;
  captureTime: Date | null;
  captureTimeOrigin: CaptureTimeOrigin | null;
  exifCaptureTime: string | null;
  cameraMake: string | null;
  cameraModel: string | null;
  plateHash: string | null;
  /** Signals read from the object itself (metadata, EXIF); the register is matched at every scan. */
  signals: Pick<ViolationSignals, 'metadata' | 'exif'>;
  /** 64-bit perceptual hash as 16 hex digits, once computed. */
  perceptualHash: string | null;
  /**
   * The production image this object was found to copy (objects outside production only), kept
   * while its bytes and EXIF capture facts stay the same: the copy stays a finding after its
   * original is deleted. Written by setCopyOf only (see putObjectStates).
   */
  copyOf: CopyMatch | null;
  /**
   * Fingerprint of the settings the object was read with (see readSettingsFingerprint in
   * core/scan/object-reader.ts); a state read with other settings is read again.
   */
  readSettings: string;
}

export interface FindingFilter {
  rule?: string[];
  severity?: Severity[];
  source?: string[];
  bucket?: string[];
  status?: FindingStatus[];
  /** Last seen at or after. */
  since?: Date;
  /** First seen at or before. */
  until?: Date;
  /** Substring of the key, case-insensitive. */
  keyContains?: string;
  scanId?: string;
  /**
   * With `scanId`, what the scan changed instead of what it saw: `new` (first seen in that scan),
   * `still-open` (seen in it, first seen in an earlier one) or `remediated` (found gone by it).
   * Throws RangeError without `scanId`.
   */
  delta?: ScanDeltaKind;
  /** Only findings a suppression rule matched (true) or did not match (false) at their last sighting. */
  suppressed?: boolean;
  sort?: 'severity' | 'firstSeen' | 'lastSeen' | 'ageHours';
  order?: 'asc' | 'desc';
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** The three parts of a scan's delta; see {@link FindingFilter.delta}. */
export type ScanDeltaKind = 'new' | 'still-open' | 'remediated';

export type * from './store-api.js';

/** Limits of `Store.remediateUnseen`. */
export interface RemediateOptions {
  /** Include bucket-level findings (key ''). */
  includeBucketLevel?: boolean;
  /** Only keys after this one (exclusive), in byte order. */
  keyFrom?: string;
  /** Only keys up to this one (inclusive), in byte order. */
  keyTo?: string;
  /** Rule ids whose findings stay as they are. */
  keepRules?: string[];
}

export interface FindingPage {
  items: Finding[];
  nextCursor: string | null;
}

export interface FindingHistoryEntry {
  at: string;
  actor: string;
  from: FindingStatus | null;
  to: FindingStatus;
  comment: string;
  until: string | null;
}

/**
 * An officer's decision on a finding. `remediated` is not among them: only a scan that no longer finds
 * the object decides that.
 */
export interface FindingStatusChange {
  status: Exclude<FindingStatus, 'remediated'>;
  /** Who decided (a user name or id), for the history. */
  actor: string;
  comment?: string;
  /** Until when the decision holds (e.g. an accepted risk), recorded in the history. */
  until?: Date | null;
  /**
   * The statuses the decision may start from. When the finding's status (read under the row lock) is
   * not among them, nothing changes and `FindingStatusConflictError` (errors.ts) is thrown, so two officers
   * deciding at once cannot both pass a check made before the lock.
   */
  expectFrom?: readonly FindingStatus[];
  /** When it was decided; now when omitted. */
  at?: Date;
}

export interface ScanCounts {
  objectsListed: number;
  objectsEvaluated: number;
}

/** The store every entry point shares. All methods are safe to call concurrently. */
export interface Store {
  /** `postgres` or `pglite`, for /readyz and logs. */
  readonly kind: 'postgres' | 'pglite';
  /** Round-trips a trivial query; throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Records a scan as `running`. Creating an id that exists already does nothing, so a retried trigger
   * is harmless. `startedAt` defaults to the database's clock.
   */
  createScan(scan: {
    id: string;
    sources: string[];
    trigger: Scan['trigger'];
    judgedAt: Date;
    startedAt?: Date;
  }): Promise<void>;
  getScan(id: string): Promise<Scan | null>;
  listScans(opts?: { limit?: number; source?: string; status?: ScanStatus }): Promise<Scan[]>;
  /** Replaces the progress row of one bucket (or shard aggregate) of a scan. */
  setBucketProgress(scanId: string, progress: BucketProgress): Promise<void>;
  /** Adds to the running counters of a scan (safe from several workers at once). */
  addScanCounts(scanId: string, counts: ScanCounts): Promise<void>;
  addScanError(scanId: string, error: string): Promise<void>;
  addScanNote(scanId: string, note: string): Promise<void>;
  /** Sets the final status; fills `findingsByRule` from the findings seen in this scan. */
  finishScan(scanId: string, status: ScanStatus, at: Date): Promise<void>;
  /**
   * Upkeep after a scan's writes. PGlite has no autovacuum: without it the tables a scan rewrites
   * bloat with every scan and the planner never has statistics (a filtered findings page then sorts
   * every match). So on PGlite: VACUUM (ANALYZE) of those tables, which holds its one connection for
   * the time (1.06 s at 200,000 objects and 52,000 findings, 0.71 s again). On PostgreSQL autovacuum does it:
   * nothing.
   */
  tidyAfterScan(): Promise<void>;
  /**
   * Marks a running scan `cancelled` (finished at `at`); its jobs stop at their next check and the
   * finalizer leaves it alone. A scan that is not running is left as it is (`changed` false). Null
   * for an unknown id.
   */
  cancelScan(id: string, at: Date): Promise<{ scan: Scan; changed: boolean } | null>;
  /**
   * Scans that finished after the position (finishedAt, id), oldest first, at most `limit`
   * (1..1000); from the first when `after` is null. Lets metrics observe each finished scan once.
   */
  scansFinishedAfter(after: { finishedAt: Date; id: string } | null, limit: number): Promise<FinishedScan[]>;

  /**
   * Inserts or refreshes findings by (source, bucket, key, rule): first seen and first scan are kept,
   * last seen, last scan and the evidence (severity, etag, size, times, age, threshold, reason,
   * details) are updated, a remediated finding that reappears is reopened (`open`, remediatedAt
   * cleared), an officer's status (acknowledged, resolved, false-positive, accepted-risk) is kept,
   * except an accepted risk seen after its `acceptedUntil` (strictly): that one is reopened, with a
   * history entry by `scan <scanId>`.
   * `suppressedBy` is decided again at every sighting: the oldest suppression neither revoked nor
   * expired at `seenAt` whose criteria all match, else null.
   * Each finding is recorded as seen in `scanId`, which must exist. Within one call the last input for
   * an identity wins. Atomic per call.
   */
  upsertFindings(scanId: string, findings: FindingInput[], seenAt: Date): Promise<void>;
  /**
   * Takes back `scanId`'s sightings of the object findings whose keys a listing proves gone: keys in
   * (afterKey, upToKey] (either end open when null) not in `keep`. An earlier attempt of a bucket
   * job judged those objects before they were deleted; counted as seen in the scan, their findings
   * would stay open after it although it found the objects gone. Bucket-level findings (key '') are
   * left alone. Returns how many sightings were removed.
   */
  unlinkGoneObjectFindings(
    scanId: string,
    source: string,
    bucket: string,
    afterKey: string | null,
    upToKey: string | null,
    keep: string[],
  ): Promise<number>;
  /**
   * After a complete scan of a bucket: every finding of that bucket not seen in this scan and not
   * remediated already (whatever an officer set) becomes `remediated` at `at`. Bucket-level findings
   * (key '') are included only when `includeBucketLevel`. `keyFrom` (exclusive) and `keyTo`
   * (inclusive) limit it to the key range of one shard, compared in byte order as S3 lists keys.
   * Findings of the `keepRules` stay as they are (rules whose evidence the scan could not gather).
   * Each changed finding remembers `scanId` as the scan that found it gone (see `scanDelta`).
   * Returns how many changed.
   */
  remediateUnseen(
    scanId: string,
    source: string,
    bucket: string,
    at: Date,
    opts?: RemediateOptions,
  ): Promise<number>;
  getFinding(id: string): Promise<Finding | null>;
  listFindings(filter: FindingFilter): Promise<FindingPage>;
  /** All findings of a scan (seen in it), for reports and `--json`. */
  findingsOfScan(scanId: string): Promise<Finding[]>;
  /**
   * Sets a finding's status by an officer's decision and records it in the finding's history, in one
   * transaction. Returns the updated finding, or null when there is no finding with that id.
   */
  setFindingStatus(id: string, change: FindingStatusChange): Promise<Finding | null>;
  /** The officer decisions on a finding, oldest first (empty for an unknown id). */
  findingHistory(id: string): Promise<FindingHistoryEntry[]>;
  /** Counts of the findings not remediated; see {@link FindingCount}. */
  countFindings(): Promise<FindingCount[]>;
  /**
   * Per source and rule, the findings that existed in [from, to], by their current status; per
   * source, the scans started in it; and the suppressions in force in it. Only `sources` when given.
   */
  complianceSummary(period: { from: Date; to: Date; sources?: string[] }): Promise<ComplianceData>;
  /** What a scan changed (see {@link FindingFilter.delta}); null for an unknown scan. */
  scanDelta(scanId: string): Promise<ScanDelta | null>;

  /**
   * Saves a suppression rule. It applies from the next sighting of a matching finding on: see
   * {@link Store.upsertFindings}. Throws RangeError when no criterion is set or a text is empty.
   */
  createSuppression(input: SuppressionInput): Promise<Suppression>;
  getSuppression(id: string): Promise<Suppression | null>;
  /** Newest first; only the active ones (or only the inactive ones) when `active` is given. */
  listSuppressions(opts?: { active?: boolean; limit?: number }): Promise<Suppression[]>;
  /**
   * Revokes a suppression from `at` on (a revoked one stays as it was). Findings it marked stay
   * marked until their next sighting. Null for an unknown id.
   */
  revokeSuppression(id: string, actor: string, at: Date): Promise<Suppression | null>;

  /** Records the start of an API request in the audit trail; returns the entry's id. */
  recordAccess(entry: AccessInput): Promise<string>;
  /** Completes an audit entry with the response status and the time taken. */
  completeAccess(id: string, status: number, durationMs: number): Promise<void>;
  /**
   * Audit entries, newest first, filtered; `cursor` from a previous page. Throws
   * `InvalidCursorError` for a cursor it did not issue.
   */
  listAccess(filter: AccessFilter): Promise<AccessPage>;

  /**
   * The buckets of a source that hold findings not yet remediated, sorted; lets a complete scan of a
   * source remediate the findings of buckets that no longer exist.
   */
  bucketsWithFindings(source: string): Promise<string[]>;

  /** States of the given keys of one bucket, for incremental reads (unknown keys are absent). */
  getObjectStates(source: string, bucket: string, keys: string[]): Promise<Map<string, ObjectState>>;
  /**
   * Inserts or replaces object states by (source, bucket, key); the last state of a key wins. Their
   * `copyOf` is not written: a new row copies nothing, and a replaced row keeps what it copies while
   * its ETag, size, capture time and plate hash stay the same (else it is cleared); see setCopyOf.
   */
  putObjectStates(states: ObjectState[]): Promise<void>;
  /**
   * Every `every`-th key stored for a bucket, in S3's byte order: the boundaries of key-range shards
   * learned from the last scan (empty when the bucket holds fewer than `every` known objects).
   */
  keyBoundaries(source: string, bucket: string, every: number): Promise<string[]>;
  /**
   * Forgets the states of objects that a listing proves gone: keys in (afterKey, upToKey] (either end
   * open when null) that are not in `keep`. Returns how many were removed.
   */
  pruneObjectStates(
    source: string,
    bucket: string,
    afterKey: string | null,
    upToKey: string | null,
    keep: string[],
  ): Promise<number>;
  /**
   * One page of a bucket's object states in key order (byte order, as S3 lists), starting after
   * `afterKey` (from the start when null); at most `limit` (1..1000). A page shorter than `limit` is
   * the last.
   */
  listObjectStates(
    source: string,
    bucket: string,
    afterKey: string | null,
    limit: number,
  ): Promise<ObjectState[]>;
  /**
   * Stores a perceptual hash for an object, only while its stored version still has `etag` (a hash of
   * an older version must not label a newer one). Returns whether it was stored.
   */
  setPerceptualHash(
    source: string,
    bucket: string,
    key: string,
    etag: string,
    hash: string,
  ): Promise<boolean>;
  /** Stores (or clears, with null) the production image an object copies, only while it has `etag`. */
  setCopyOf(object: ObjectVersion, copyOf: CopyMatch | null): Promise<boolean>;
  /**
   * One image per given ETag among the images stored for `locations` (the first by the order of
   * `locations`, then by key); ETags no image there has are absent.
   */
  findImagesByEtag(locations: BucketRef[], etags: string[]): Promise<Map<string, ObjectState>>;
  /**
   * The keys of a bucket's images taken when a copy was: images whose EXIF capture time lies in one
   * of the copies' capture windows, with a plate that agrees. Sorted in byte order, each once.
   */
  copyCandidateKeys(bucket: BucketRef, windows: CaptureWindow[]): Promise<string[]>;
  /**
   * One page of a bucket's images without an EXIF capture time (only LastModified, or nothing,
   * known), in key order after `afterKey` (from the start when null); at most `limit` (1..1000). A
   * page shorter than `limit` is the last.
   */
  listUntimedImages(bucket: BucketRef, afterKey: string | null, limit: number): Promise<ObjectState[]>;
}

/** A bucket of a source. */
export interface BucketRef {
  source: string;
  bucket: string;
}

/** One stored version of an object. */
export interface ObjectVersion extends BucketRef {
  key: string;
  etag: string;
}

/** A capture a copy may come from: EXIF capture times in [from, to], with a plate that agrees. */
export interface CaptureWindow {
  from: Date;
  to: Date;
  /** The copy's plate hash: images with another plate hash are not candidates. Null: any. */
  plateHash: string | null;
}
