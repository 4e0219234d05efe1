/**
 * The findings store's contract. One implementation (`openStore`) runs the same SQL on PostgreSQL
 * (via `pg`) or on embedded PGlite; callers never know which.
 */
import type {
  BucketProgress,
  CaptureTimeOrigin,
  Finding,
  FindingDraft,
  FindingStatus,
  Scan,
  ScanStatus,
  Severity,
  ViolationSignals,
} from '../model.js';

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
  sort?: 'severity' | 'firstSeen' | 'lastSeen' | 'ageHours';
  order?: 'asc' | 'desc';
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
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

  createScan(scan: { id: string; sources: string[]; trigger: Scan['trigger']; judgedAt: Date }): Promise<void>;
  getScan(id: string): Promise<Scan | null>;
  listScans(opts?: { limit?: number; source?: string }): Promise<Scan[]>;
  /** Replaces the progress row of one bucket (or shard aggregate) of a scan. */
  setBucketProgress(scanId: string, progress: BucketProgress): Promise<void>;
  /** Adds to the running counters of a scan (safe from several workers at once). */
  addScanCounts(scanId: string, counts: ScanCounts): Promise<void>;
  addScanError(scanId: string, error: string): Promise<void>;
  addScanNote(scanId: string, note: string): Promise<void>;
  /** Sets the final status; fills `findingsByRule` from the findings seen in this scan. */
  finishScan(scanId: string, status: ScanStatus, at: Date): Promise<void>;

  /**
   * Inserts or refreshes findings by (source, bucket, key, rule): first seen is kept, last seen and
   * the evidence are updated, a remediated finding that reappears is reopened.
   */
  upsertFindings(scanId: string, findings: FindingInput[], seenAt: Date): Promise<void>;
  /**
   * After a complete scan of a bucket: every open finding of that bucket not seen in this scan
   * becomes `remediated` at `at`. Bucket-level findings (key '') are included only when
   * `includeBucketLevel`. Returns how many changed.
   */
  remediateUnseen(
    scanId: string,
    source: string,
    bucket: string,
    at: Date,
    opts?: { includeBucketLevel?: boolean; keyFrom?: string; keyTo?: string },
  ): Promise<number>;
  getFinding(id: string): Promise<Finding | null>;
  listFindings(filter: FindingFilter): Promise<FindingPage>;
  /** All findings of a scan (seen in it), for reports and `--json`. */
  findingsOfScan(scanId: string): Promise<Finding[]>;

  /** States of the given keys of one bucket, for incremental reads. */
  getObjectStates(source: string, bucket: string, keys: string[]): Promise<Map<string, ObjectState>>;
  putObjectStates(states: ObjectState[]): Promise<void>;
}
