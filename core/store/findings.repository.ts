/** Findings: upsert by identity, remediation of the unseen, reads, and officers' status changes. */
import { FINDING_STATUSES, type Finding, type FindingStatus, type Severity } from '../model.js';
import { FindingStatusConflictError } from './api-errors.js';
import type { Db } from './db.js';
import { ScanNotFoundError } from './errors.js';
import { listFindings } from './findings.query.js';
import {
  FINDING_COLUMNS,
  isoParam,
  toFinding,
  toHistoryEntry,
  type FindingRow,
  type HistoryRow,
} from './rows.js';
import type {
  FindingCount,
  FindingFilter,
  FindingHistoryEntry,
  FindingInput,
  FindingPage,
  FindingStatusChange,
  RemediateOptions,
} from './store.js';

/** Rows per INSERT statement of `upsertFindings`. */
export const FINDING_BATCH = 500;

const UPSERT_SQL = `
WITH input AS (
  SELECT t.*, (
    -- The oldest suppression in force at this sighting whose every set criterion matches.
    SELECT s.id FROM suppressions s
    WHERE s.revoked_at IS NULL AND s.expires_at > $16::timestamptz
      AND (s.rule IS NULL OR s.rule = t.rule)
      AND (s.source IS NULL OR s.source = t.source)
      AND (s.bucket IS NULL OR s.bucket = t.bucket)
      AND (s.key_prefix IS NULL OR starts_with(t.key, s.key_prefix))
    ORDER BY s.created_at, s.id
    LIMIT 1
  ) AS suppressed_by
  FROM unnest(
    $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
    $9::timestamptz[], $10::timestamptz[], $11::text[], $12::double precision[], $13::text[],
    $14::text[], $15::jsonb[]
  ) AS t(source, bucket, key, rule, severity, etag, size, last_modified, capture_time,
         capture_time_origin, age_hours, threshold, reason, details)
), lapsed AS (
  -- Accepted risks whose date has passed at this sighting (read before this statement changes them).
  SELECT f.id, f.accepted_until FROM findings f JOIN input i USING (source, bucket, key, rule)
  WHERE f.status = 'accepted-risk' AND f.accepted_until < $16::timestamptz
), lapse_history AS (
  INSERT INTO finding_history (finding_id, at, actor, from_status, to_status, comment)
  SELECT id, $16::timestamptz, 'scan ' || $1, 'accepted-risk', 'open',
    'the risk was accepted until ' || to_char(accepted_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ||
    '; seen again after that, so reopened'
  FROM lapsed
), upserted AS (
  INSERT INTO findings AS f (source, bucket, key, rule, severity, etag, size, last_modified, capture_time,
    capture_time_origin, age_hours, threshold, reason, details, first_scan_id, last_scan_id, first_seen,
    last_seen, suppressed_by)
  SELECT source, bucket, key, rule, severity, etag, size, last_modified, capture_time, capture_time_origin,
    age_hours, threshold, reason, details, $1, $1, $16::timestamptz, $16::timestamptz, suppressed_by
  FROM input
  ON CONFLICT (source, bucket, key, rule) DO UPDATE SET
    severity = EXCLUDED.severity,
    etag = EXCLUDED.etag,
    size = EXCLUDED.size,
    last_modified = EXCLUDED.last_modified,
    capture_time = EXCLUDED.capture_time,
    capture_time_origin = EXCLUDED.capture_time_origin,
    age_hours = EXCLUDED.age_hours,
    threshold = EXCLUDED.threshold,
    reason = EXCLUDED.reason,
    details = EXCLUDED.details,
    last_scan_id = EXCLUDED.last_scan_id,
    last_seen = EXCLUDED.last_seen,
    -- Decided again at every sighting, so an expired or revoked suppression stops applying.
    suppressed_by = EXCLUDED.suppressed_by,
    -- Seen again means the object is back: reopen what a scan closed, keep what an officer decided
    -- (an accepted risk only until its date).
    status = CASE
      WHEN f.status = 'remediated' THEN 'open'
      WHEN f.status = 'accepted-risk' AND f.accepted_until < EXCLUDED.last_seen THEN 'open'
      ELSE f.status END,
    remediated_at = CASE WHEN f.status = 'remediated' THEN NULL ELSE f.remediated_at END,
    -- Kept only while the acceptance stands: a lapse or a remediation ends it.
    accepted_until = CASE
      WHEN f.status = 'accepted-risk' AND f.accepted_until >= EXCLUDED.last_seen THEN f.accepted_until
      END
  RETURNING f.id
)
INSERT INTO finding_scans (scan_id, finding_id)
SELECT $1, id FROM upserted
ON CONFLICT DO NOTHING`;

// The scan is checked in the same statement: with an unknown scan id nothing counts as seen, and
// every finding of the bucket would be remediated.
const REMEDIATE_SQL = `
WITH scan AS (
  SELECT id FROM scans WHERE id = $1
), changed AS (
  UPDATE findings AS f SET status = 'remediated', remediated_at = $4::timestamptz, remediated_scan_id = $1,
    accepted_until = NULL
  WHERE EXISTS (SELECT 1 FROM scan)
    AND f.source = $2 AND f.bucket = $3 AND f.status <> 'remediated'
    AND ($5::boolean OR f.key <> '')
    AND ($6::text IS NULL OR f.key > $6::text)
    AND ($7::text IS NULL OR f.key <= $7::text)
    AND NOT (f.rule = ANY($8::text[]))
    AND NOT EXISTS (SELECT 1 FROM finding_scans fs WHERE fs.scan_id = $1 AND fs.finding_id = f.id)
  RETURNING 1
)
SELECT (SELECT count(*) FROM scan)::int AS scans, (SELECT count(*) FROM changed)::int AS n`;

function identity(f: FindingInput): string {
  return JSON.stringify([f.source, f.bucket, f.key, f.rule]);
}

function compareIdentity(a: FindingInput, b: FindingInput): number {
  for (const field of ['source', 'bucket', 'key', 'rule'] as const) {
    if (a[field] !== b[field]) return a[field] < b[field] ? -1 : 1;
  }
  return 0;
}

/** One batch as the column arrays of {@link UPSERT_SQL} ($2..$15). */
function columns(batch: FindingInput[]): unknown[] {
  return [
    batch.map((f) => f.source),
    batch.map((f) => f.bucket),
    batch.map((f) => f.key),
    batch.map((f) => f.rule),
    batch.map((f) => f.severity),
    batch.map((f) => f.etag),
    batch.map((f) => f.size),
    batch.map((f) => isoParam(f.lastModified)),
    batch.map((f) => isoParam(f.captureTime)),
    batch.map((f) => f.captureTimeOrigin),
    // NaN or Infinity would poison sorting and cursors; an unknown age is null.
    batch.map((f) => (f.ageHours !== null && Number.isFinite(f.ageHours) ? f.ageHours : null)),
    batch.map((f) => f.threshold),
    batch.map((f) => f.reason),
    batch.map((f) => JSON.stringify(f.details ?? {})),
  ];
}

/** Implements the finding methods of `Store`. */
export class FindingsRepository {
  constructor(private readonly db: Db) {}

  /**
   * See `Store.upsertFindings`. Batches of {@link FINDING_BATCH} rows, one statement each, all
   * in one transaction. Rows are sorted by identity so concurrent upserts lock in the same order
   * instead of deadlocking. Throws {@link ScanNotFoundError} when `scanId` has no scan row.
   */
  async upsertFindings(scanId: string, findings: FindingInput[], seenAt: Date): Promise<void> {
    // ON CONFLICT cannot touch one row twice in a statement, so duplicates collapse (last one wins).
    const unique = [...new Map(findings.map((f) => [identity(f), f])).values()].sort(compareIdentity);
    if (unique.length === 0) return;
    const run = async (db: Db): Promise<void> => {
      for (let i = 0; i < unique.length; i += FINDING_BATCH) {
        const batch = unique.slice(i, i + FINDING_BATCH);
        await db.query(UPSERT_SQL, [scanId, ...columns(batch), isoParam(seenAt)]);
      }
    };
    try {
      await (unique.length > FINDING_BATCH ? this.db.transaction(run) : run(this.db));
    } catch (error) {
      // The only foreign key the statement can break is finding_scans -> scans.
      if ((error as { code?: string }).code === '23503') throw new ScanNotFoundError(scanId);
      throw error;
    }
  }

  /** See `Store.unlinkGoneObjectFindings`: one DELETE over the key range of a listing page. */
  async unlinkGoneObjectFindings(
    scanId: string,
    source: string,
    bucket: string,
    afterKey: string | null,
    upToKey: string | null,
    keep: string[],
  ): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM finding_scans fs USING findings f
       WHERE fs.finding_id = f.id AND fs.scan_id = $1 AND f.source = $2 AND f.bucket = $3
         AND f.key <> ''
         AND ($4::text IS NULL OR f.key > $4::text) AND ($5::text IS NULL OR f.key <= $5::text)
         AND NOT (f.key = ANY($6::text[]))
       RETURNING fs.finding_id`,
      [scanId, source, bucket, afterKey, upToKey, keep],
    );
    return rows.length;
  }

  /**
   * See `Store.remediateUnseen`. One UPDATE; returns the number of findings it changed. Throws
   * {@link ScanNotFoundError} for an unknown scan rather than remediating the whole bucket.
   */
  async remediateUnseen(
    scanId: string,
    source: string,
    bucket: string,
    at: Date,
    opts: RemediateOptions = {},
  ): Promise<number> {
    const rows = await this.db.query<{ scans: number; n: number }>(REMEDIATE_SQL, [
      scanId,
      source,
      bucket,
      isoParam(at),
      opts.includeBucketLevel ?? false,
      opts.keyFrom ?? null,
      opts.keyTo ?? null,
      opts.keepRules ?? [],
    ]);
    if (!rows[0]?.scans) throw new ScanNotFoundError(scanId);
    return rows[0].n;
  }

  /** See `Store.getFinding`. */
  async getFinding(id: string): Promise<Finding | null> {
    const rows = await this.db.query<FindingRow>(
      `SELECT ${FINDING_COLUMNS} FROM findings f WHERE f.id = $1`,
      [id],
    );
    return rows[0] ? toFinding(rows[0]) : null;
  }

  /** See `Store.listFindings` and {@link listFindings} for the order and cursor rules. */
  listFindings(filter: FindingFilter): Promise<FindingPage> {
    return listFindings(this.db, filter);
  }

  /**
   * See `Store.findingsOfScan`: every finding recorded as seen in the scan, most severe first,
   * then by source, bucket, key and rule (empty for an unknown scan).
   */
  async findingsOfScan(scanId: string): Promise<Finding[]> {
    const rows = await this.db.query<FindingRow>(
      `SELECT ${FINDING_COLUMNS}
       FROM finding_scans fs JOIN findings f ON f.id = fs.finding_id
       WHERE fs.scan_id = $1
       ORDER BY f.severity_rank DESC, f.source, f.bucket, f.key, f.rule`,
      [scanId],
    );
    return rows.map(toFinding);
  }

  /**
   * See `Store.setFindingStatus`. Throws RangeError for `remediated` or an unknown status. Moving
   * a remediated finding to another status clears its remediatedAt.
   */
  async setFindingStatus(id: string, change: FindingStatusChange): Promise<Finding | null> {
    const status: string = change.status;
    if (status === 'remediated' || !(FINDING_STATUSES as readonly string[]).includes(status)) {
      throw new RangeError(`an officer cannot set status ${JSON.stringify(status)}`);
    }
    return this.db.transaction(async (tx) => {
      // FOR UPDATE so two officers deciding at once both land in the history with the right `from`.
      const current = await tx.query<{ status: string }>(
        'SELECT status FROM findings WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!current[0]) return null;
      const from = current[0].status as FindingStatus;
      if (change.expectFrom && !change.expectFrom.includes(from)) {
        throw new FindingStatusConflictError(id, from, change.expectFrom);
      }
      const at = isoParam(change.at ?? new Date());
      // The date travels with the acceptance: any other status clears it.
      const acceptedUntil = status === 'accepted-risk' ? isoParam(change.until) : null;
      await tx.query(
        'UPDATE findings SET status = $2, remediated_at = NULL, accepted_until = $3::timestamptz WHERE id = $1',
        [id, status, acceptedUntil],
      );
      await tx.query(
        `INSERT INTO finding_history (finding_id, at, actor, from_status, to_status, comment, until)
         VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7::timestamptz)`,
        [id, at, change.actor, current[0].status, status, change.comment ?? '', isoParam(change.until)],
      );
      const rows = await tx.query<FindingRow>(`SELECT ${FINDING_COLUMNS} FROM findings f WHERE f.id = $1`, [
        id,
      ]);
      return rows[0] ? toFinding(rows[0]) : null;
    });
  }

  /** See `Store.bucketsWithFindings`. */
  async bucketsWithFindings(source: string): Promise<string[]> {
    const rows = await this.db.query<{ bucket: string }>(
      `SELECT DISTINCT bucket FROM findings WHERE source = $1 AND status <> 'remediated' ORDER BY bucket`,
      [source],
    );
    return rows.map((row) => row.bucket);
  }

  /** See `Store.countFindings`. */
  async countFindings(): Promise<FindingCount[]> {
    const rows = await this.db.query<{
      rule: string;
      severity: Severity;
      status: FindingStatus;
      suppressed: boolean;
      n: number;
    }>(
      `SELECT rule, severity, status, suppressed_by IS NOT NULL AS suppressed, count(*)::int AS n
       FROM findings WHERE status <> 'remediated'
       GROUP BY rule, severity, status, suppressed_by IS NOT NULL
       ORDER BY rule, severity, status, suppressed`,
    );
    return rows.map((row) => ({
      rule: row.rule,
      severity: row.severity,
      status: row.status,
      suppressed: row.suppressed,
      count: row.n,
    }));
  }

  /** See `Store.findingHistory`. */
  async findingHistory(id: string): Promise<FindingHistoryEntry[]> {
    const rows = await this.db.query<HistoryRow>(
      `SELECT at, actor, from_status, to_status, comment, until FROM finding_history
       WHERE finding_id = $1 ORDER BY at, id`,
      [id],
    );
    return rows.map(toHistoryEntry);
  }
}
