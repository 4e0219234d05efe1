/**
 * What a rule is: metadata plus a pure verdict function. Rules import nothing that does I/O.
 */
import type { FindingDraft, ObjectSnapshot, RuleContext, Severity } from '../model.js';

/** A rule's metadata, kept next to its code in `<id>.meta.json`. */
export interface RuleMeta {
  id: string;
  title: string;
  severity: Severity;
  /** `object`: judged per object snapshot; `bucket`: judged per bucket observation. */
  scope: 'object' | 'bucket';
  description: string;
  risk: string;
  remediation: string;
  /** The contract clause (and BIO control) this rule enforces. */
  clause: string;
}

/** What discovery and the bucket scan learned about one bucket, judged by bucket rules. */
export interface BucketObservation {
  source: string;
  bucket: string;
  declared: boolean;
  /** Whether the bucket name marks a non-production environment (test, acc, backup...). */
  testLike: boolean;
  /** The words of the name that made it test-like. */
  testWords: string[];
  /** Images evaluated in the bucket in this scan; null before the bucket was scanned. */
  imageCount: number | null;
  /** Unsigned probes: the exact request and the status the server answered. */
  anonymousProbes: AnonymousProbe[];
  /** The bucket's lifecycle configuration, as far as the server told. */
  lifecycle: LifecycleObservation;
  /** Its versions; absent in plans stored by versions of the auditor before it was read. */
  versioning?: VersioningObservation;
}

/** A bucket's versioning status; `unsupported` for a server without versioning (it holds none). */
export type VersioningState = 'enabled' | 'suspended' | 'never' | 'unsupported';

/** One noncurrent version, as evidence (its key is the object's, its bytes never read). */
export interface NoncurrentVersion {
  key: string;
  versionId: string;
  etag: string;
  size: number;
  /** When this version was written (it became noncurrent later). */
  lastModified: string;
}

/**
 * What the auditor learned of a bucket's versions. In a bucket that keeps versions (`enabled`, or
 * `suspended` after it did), deleting or overwriting an object keeps the old bytes as a noncurrent
 * version, which an ordinary listing does not show: the storage still holds the image.
 */
export type VersioningObservation =
  | { state: 'never' | 'unsupported' }
  /** The status or the versions could not be read: `note` says why. */
  | { state: 'unknown'; note: string }
  | {
      state: 'enabled' | 'suspended';
      /** Noncurrent versions with bytes (zero-byte folder markers left out). */
      noncurrent: number;
      deleteMarkers: number;
      /** The oldest noncurrent versions by LastModified, oldest first, up to 10. */
      oldest: NoncurrentVersion[];
      /** When the versions were listed. */
      listedAt: string;
    };

export interface AnonymousProbe {
  /** `GET /bucket?list-type=2&max-keys=1` or `GET /bucket/key (Range: bytes=0-15)`. */
  request: string;
  status: number;
  /** True when the server served data without credentials. */
  allowed: boolean;
}

/** An enabled expiration rule that covers only part of a bucket (a prefix, tags, object sizes). */
export interface ScopedExpiration {
  /** What the rule covers, for a finding's reason (`prefix "logs/"`, `tag kind=tmp`). */
  scope: string;
  days: number;
}

/**
 * A bucket's lifecycle: the days of its enabled expiration rules that cover the whole bucket, and
 * those that cover only part of it (a prefix, tags), which do not make it delete images.
 */
export type LifecycleObservation =
  | { supported: false; note: string }
  | { supported: true; expirationDays: number[]; scopedExpirations?: ScopedExpiration[] };

/** A rule judged once per object. */
export interface ObjectRule {
  meta: RuleMeta & { scope: 'object' };
  evaluate(snapshot: ObjectSnapshot, ctx: RuleContext): FindingDraft[];
}

/** A rule judged once per bucket. */
export interface BucketRule {
  meta: RuleMeta & { scope: 'bucket' };
  evaluate(bucket: BucketObservation, ctx: RuleContext): FindingDraft[];
}

export type Rule = ObjectRule | BucketRule;

/** Builds a draft with the rule's own id and severity, so a rule cannot misname itself. */
export function draft(
  meta: RuleMeta,
  threshold: string,
  reason: string,
  details?: Record<string, unknown>,
): FindingDraft {
  return { rule: meta.id, severity: meta.severity, threshold, reason, ...(details ? { details } : {}) };
}

/** Age in hours between two instants, rounded to 0.01 h for evidence. */
export function hoursBetween(from: Date, to: Date): number {
  return Math.round(((to.getTime() - from.getTime()) / 3_600_000) * 100) / 100;
}
