/**
 * The domain vocabulary shared by core/, server/ and workers/: sources, object snapshots, findings,
 * scans. Plain data only; nothing here does I/O.
 */

/** What a configured storage endpoint is to the contract. */
export type SourceRole = 'edge' | 'vendor';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Where a capture time came from, most to least trustworthy. */
export type CaptureTimeOrigin = 'exif-offset' | 'exif-local' | 'last-modified';

export const SCAN_STATUSES = ['running', 'completed', 'incomplete', 'failed', 'cancelled'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

export const FINDING_STATUSES = [
  'open',
  'acknowledged',
  'resolved',
  'false-positive',
  'accepted-risk',
  'remediated',
] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** The terms of the processor agreement the rules judge by. */
export interface Contract {
  edgeRetentionHours: number;
  vendorRetentionDays: number;
  transferDeadlineHours: number;
  graceMinutes: number;
  /** IANA zone of EXIF times that carry no offset. */
  timezone: string;
  /** How far a capture time may lie after LastModified (or now) before `clock-skew`. */
  clockSkewToleranceMinutes: number;
}

/** A violation signal read from one place: true/false, or null when that place says nothing. */
export interface ViolationSignals {
  /** From S3 user metadata `x-amz-meta-<name>`. */
  metadata: boolean | null;
  /** From an EXIF text tag (optionally a JSON field inside it). */
  exif: boolean | null;
  /** From the municipality's register; null when no register is configured for the source. */
  register: RegisterMatch | null;
}

/** How an image matched (or did not match) the municipality's register of violations. */
export interface RegisterMatch {
  matched: boolean;
  /** `key` or `capture-time+plate` when matched. */
  by: 'key' | 'capture-time+plate' | null;
}

/**
 * Everything the auditor learned about one object, from its listing entry and the head of its bytes.
 * This is what rules judge; it never holds image bytes or a plate in clear.
 */
export interface ObjectSnapshot {
  source: string;
  bucket: string;
  key: string;
  etag: string;
  size: number;
  lastModified: Date;
  /** Whether the bytes parsed as an image at all. */
  isImage: boolean;
  /** Why the object could not be read or parsed; null when it could. */
  readError: string | null;
  /**
   * Whether the storage served the object's bytes: false when it refused them, or when the scan did
   * not ask (core/scan/refusal-gate.ts). Nothing the bytes say (camera flags, plate, EXIF) is known
   * of such an object; `unreadable-object` reports it.
   */
  contentServed: boolean;
  /** The capture time: from EXIF when possible, LastModified otherwise (see origin). */
  captureTime: Date;
  captureTimeOrigin: CaptureTimeOrigin;
  /** The EXIF capture time exactly as written (`2026:11:20 08:30:00.250 +01:00`), for evidence. */
  exifCaptureTime: string | null;
  cameraMake: string | null;
  cameraModel: string | null;
  /** SHA-256 (keyed when a key is configured) of the normalised plate read from EXIF, if any. */
  plateHash: string | null;
  signals: ViolationSignals;
  /** Where the bucket stands in the declared inventory. */
  bucketDeclared: boolean;
  bucketTestLike: boolean;
  /** A production image this object copies, when the copy check ran and found one. */
  copyOf: CopyMatch | null;
}

/** A production image that an object outside production copies. */
export interface CopyMatch {
  source: string;
  bucket: string;
  key: string;
  /**
   * The ETag of the original's version the copy matched (evidence, and how a later check tells a
   * re-read of that version from another image stored under its key). Absent in matches kept from
   * before it was recorded.
   */
  etag?: string;
  by: 'etag' | 'perceptual-hash';
  /** Hamming distance of the perceptual hashes (0 for an ETag match). */
  distance: number;
}

/** A configured source as rules see it: no endpoint, no credentials. */
export interface SourceRef {
  id: string;
  role: SourceRole;
  buckets: string[];
  /** Whether this source has any way to tell a violation (metadata, EXIF tag or register). */
  hasViolationSignal: boolean;
  hasRegister: boolean;
}

/** What a rule needs besides the object: the source, the contract and the clock to judge by. */
export interface RuleContext {
  source: SourceRef;
  contract: Contract;
  now: Date;
}

/** A rule's verdict on one object (or one bucket): what is wrong, by which threshold, and why. */
export interface FindingDraft {
  rule: string;
  severity: Severity;
  /** The limit applied, human-readable (`48 h`, `28 d + 0 min grace`). */
  threshold: string;
  /** One sentence an officer understands. */
  reason: string;
  /** Extra evidence specific to the rule (never image bytes, never a plate in clear). */
  details?: Record<string, unknown>;
}

/** A finding as stored and reported: the draft plus the evidence of the object and the scan. */
export interface Finding {
  id: string;
  rule: string;
  severity: Severity;
  status: FindingStatus;
  source: string;
  bucket: string;
  /** The object key; empty for a bucket-level finding. */
  key: string;
  etag: string | null;
  size: number | null;
  lastModified: string | null;
  captureTime: string | null;
  captureTimeOrigin: CaptureTimeOrigin | null;
  ageHours: number | null;
  threshold: string;
  reason: string;
  details: Record<string, unknown>;
  scanId: string;
  firstSeen: string;
  lastSeen: string;
  remediatedAt: string | null;
  /**
   * Until when an officer accepted the risk (status `accepted-risk`); null otherwise. A scan that
   * sees the finding after it reopens the finding.
   */
  acceptedUntil: string | null;
  suppressedBy: string | null;
}

/** Per-bucket counters of a scan. */
export interface BucketProgress {
  source: string;
  bucket: string;
  /** Key-range shard of the bucket (0 when the bucket is scanned whole). */
  shard?: number;
  listed: number;
  evaluated: number;
  /** Objects whose head was read (GET) in this scan; the rest came from the object store. */
  fetched: number;
  state: 'pending' | 'running' | 'completed' | 'incomplete';
}

/** A scan as recorded in the store. */
export interface Scan {
  id: string;
  sources: string[];
  trigger: 'cli' | 'api' | 'schedule';
  status: ScanStatus;
  startedAt: string;
  finishedAt: string | null;
  /** The clock the rules judged by. */
  judgedAt: string;
  objectsListed: number;
  objectsEvaluated: number;
  findingsByRule: Record<string, number>;
  errors: string[];
  notes: string[];
  buckets: BucketProgress[];
}
