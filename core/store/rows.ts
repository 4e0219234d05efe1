/**
 * Database rows as the drivers return them, and their conversion to the domain types. Both drivers
 * give `Date` for timestamptz; int8 arrives as a string from `pg` and a number from PGlite.
 */
import type {
  BucketProgress,
  CaptureTimeOrigin,
  CopyMatch,
  Finding,
  FindingStatus,
  Scan,
  Severity,
} from '../model.js';
import type { FindingHistoryEntry, ObjectState } from './store.js';

type Timestamp = Date | string;
type Int8 = number | string;

/** ISO-8601 of a timestamptz value, null kept. */
export function iso(value: Timestamp): string;
export function iso(value: Timestamp | null): string | null;
export function iso(value: Timestamp | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function date(value: Timestamp): Date;
function date(value: Timestamp | null): Date | null;
function date(value: Timestamp | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}

function int(value: Int8 | null): number | null {
  return value === null ? null : Number(value);
}

/** Date parameter as an ISO string: one format for both drivers, millisecond-exact. */
export function isoParam(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}

/** A page size: `fallback` when absent or not a number, else floored into 1..`max`. */
export function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}

export interface FindingRow {
  id: string;
  source: string;
  bucket: string;
  key: string;
  rule: string;
  severity: Severity;
  status: FindingStatus;
  etag: string | null;
  size: Int8 | null;
  last_modified: Timestamp | null;
  capture_time: Timestamp | null;
  capture_time_origin: CaptureTimeOrigin | null;
  age_hours: number | null;
  threshold: string;
  reason: string;
  details: Record<string, unknown> | null;
  last_scan_id: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
  remediated_at: Timestamp | null;
  accepted_until: Timestamp | null;
  suppressed_by: string | null;
}

/** The columns a {@link FindingRow} needs, qualified by the alias `f`. */
export const FINDING_COLUMNS = `f.id, f.source, f.bucket, f.key, f.rule, f.severity, f.status, f.etag, f.size,
  f.last_modified, f.capture_time, f.capture_time_origin, f.age_hours, f.threshold, f.reason, f.details,
  f.last_scan_id, f.first_seen, f.last_seen, f.remediated_at, f.accepted_until, f.suppressed_by`;

export function toFinding(row: FindingRow): Finding {
  return {
    id: row.id,
    rule: row.rule,
    severity: row.severity,
    status: row.status,
    source: row.source,
    bucket: row.bucket,
    key: row.key,
    etag: row.etag,
    size: int(row.size),
    lastModified: iso(row.last_modified),
    captureTime: iso(row.capture_time),
    captureTimeOrigin: row.capture_time_origin,
    ageHours: row.age_hours,
    threshold: row.threshold,
    reason: row.reason,
    details: row.details ?? {},
    scanId: row.last_scan_id,
    firstSeen: iso(row.first_seen),
    lastSeen: iso(row.last_seen),
    remediatedAt: iso(row.remediated_at),
    acceptedUntil: iso(row.accepted_until),
    suppressedBy: row.suppressed_by,
  };
}

export interface ScanRow {
  id: string;
  sources: string[];
  trigger: Scan['trigger'];
  status: Scan['status'];
  started_at: Timestamp;
  finished_at: Timestamp | null;
  judged_at: Timestamp;
  objects_listed: Int8;
  objects_evaluated: Int8;
  findings_by_rule: Record<string, number> | null;
  errors: string[];
  notes: string[];
}

export interface BucketRow {
  scan_id: string;
  source: string;
  bucket: string;
  shard: number;
  listed: Int8;
  evaluated: Int8;
  fetched: Int8;
  state: BucketProgress['state'];
}

export function toScan(row: ScanRow, buckets: BucketRow[]): Scan {
  return {
    id: row.id,
    sources: row.sources,
    trigger: row.trigger,
    status: row.status,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    judgedAt: iso(row.judged_at),
    objectsListed: Number(row.objects_listed),
    objectsEvaluated: Number(row.objects_evaluated),
    findingsByRule: row.findings_by_rule ?? {},
    errors: row.errors,
    notes: row.notes,
    buckets: buckets.map((b) => ({
      source: b.source,
      bucket: b.bucket,
      shard: b.shard,
      listed: Number(b.listed),
      evaluated: Number(b.evaluated),
      fetched: Number(b.fetched),
      state: b.state,
    })),
  };
}

export interface HistoryRow {
  at: Timestamp;
  actor: string;
  from_status: FindingStatus | null;
  to_status: FindingStatus;
  comment: string;
  until: Timestamp | null;
}

export function toHistoryEntry(row: HistoryRow): FindingHistoryEntry {
  return {
    at: iso(row.at),
    actor: row.actor,
    from: row.from_status,
    to: row.to_status,
    comment: row.comment,
    until: iso(row.until),
  };
}

export interface ObjectRow {
  source: string;
  bucket: string;
  key: string;
  etag: string;
  size: Int8;
  last_modified: Timestamp;
  is_image: boolean;
  read_error: string | null;
  capture_time: Timestamp | null;
  capture_time_origin: CaptureTimeOrigin | null;
  exif_capture_time: string | null;
  camera_make: string | null;
  camera_model: string | null;
  plate_hash: string | null;
  signals: Partial<ObjectState['signals']> | null;
  perceptual_hash: string | null;
  read_settings: string;
  copy_of: CopyMatch | null;
}

export function toObjectState(row: ObjectRow): ObjectState {
  return {
    source: row.source,
    bucket: row.bucket,
    key: row.key,
    etag: row.etag,
    size: Number(row.size),
    lastModified: date(row.last_modified),
    isImage: row.is_image,
    readError: row.read_error,
    captureTime: date(row.capture_time),
    captureTimeOrigin: row.capture_time_origin,
    exifCaptureTime: row.exif_capture_time,
    cameraMake: row.camera_make,
    cameraModel: row.camera_model,
    plateHash: row.plate_hash,
    signals: { metadata: row.signals?.metadata ?? null, exif: row.signals?.exif ?? null },
    perceptualHash: row.perceptual_hash,
    readSettings: row.read_settings,
    copyOf: row.copy_of,
  };
}
