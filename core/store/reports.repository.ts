/** Reports over findings and scans: compliance per source and rule for a period, and a scan's delta. */
import type { Db } from './db.js';
import { iso, isoParam } from './rows.js';
import { SUPPRESSION_COLUMNS, toSuppression } from './suppressions.repository.js';
import type {
  ComplianceCounts,
  ComplianceData,
  ScanDelta,
  ScanDeltaKind,
  SourceScanCounts,
} from './store.js';

type CountRow = { [K in keyof ComplianceCounts]: ComplianceCounts[K] };

interface ScanCountRow extends Omit<SourceScanCounts, 'lastCompleted'> {
  last_completed_id: string | null;
  last_completed_at: Date | string | null;
}

// A finding existed in [from, to] when it was first seen by the end and not found gone before the
// start. Statuses are counted as they are now: the history table says how they got there.
const FINDINGS_SQL = `
SELECT source, rule,
  count(*)::int AS "present",
  count(*) FILTER (WHERE status = 'open')::int AS "open",
  count(*) FILTER (WHERE status = 'acknowledged')::int AS "acknowledged",
  count(*) FILTER (WHERE status = 'resolved')::int AS "resolved",
  count(*) FILTER (WHERE status = 'false-positive')::int AS "falsePositive",
  count(*) FILTER (WHERE status = 'accepted-risk')::int AS "acceptedRisk",
  count(*) FILTER (WHERE status = 'remediated')::int AS "remediated",
  count(*) FILTER (WHERE suppressed_by IS NOT NULL)::int AS "suppressed",
  count(*) FILTER (WHERE first_seen >= $1::timestamptz)::int AS "newInPeriod",
  count(*) FILTER (WHERE remediated_at BETWEEN $1::timestamptz AND $2::timestamptz)::int AS "remediatedInPeriod"
FROM findings
WHERE first_seen <= $2::timestamptz
  AND (remediated_at IS NULL OR remediated_at >= $1::timestamptz)
  AND ($3::text[] IS NULL OR source = ANY($3::text[]))
GROUP BY source, rule
ORDER BY source, rule`;

const SCANS_SQL = `
SELECT src.source,
  count(*)::int AS "scans",
  count(*) FILTER (WHERE s.status = 'completed')::int AS "completed",
  count(*) FILTER (WHERE s.status = 'incomplete')::int AS "incomplete",
  count(*) FILTER (WHERE s.status = 'failed')::int AS "failed",
  count(*) FILTER (WHERE s.status = 'cancelled')::int AS "cancelled",
  count(*) FILTER (WHERE s.status = 'running')::int AS "running",
  (array_agg(s.id ORDER BY s.finished_at DESC, s.id DESC) FILTER (WHERE s.status = 'completed'))[1]
    AS last_completed_id,
  max(s.finished_at) FILTER (WHERE s.status = 'completed') AS last_completed_at
FROM scans s CROSS JOIN LATERAL unnest(s.sources) AS src(source)
WHERE s.started_at BETWEEN $1::timestamptz AND $2::timestamptz
  AND ($3::text[] IS NULL OR src.source = ANY($3::text[]))
GROUP BY src.source
ORDER BY src.source`;

// In force at some time in the period: created by its end, neither expired nor revoked before its start.
const SUPPRESSIONS_SQL = `
SELECT ${SUPPRESSION_COLUMNS} FROM suppressions s
WHERE s.created_at <= $2::timestamptz AND s.expires_at >= $1::timestamptz
  AND (s.revoked_at IS NULL OR s.revoked_at >= $1::timestamptz)
  AND ($3::text[] IS NULL OR s.source IS NULL OR s.source = ANY($3::text[]))
ORDER BY s.created_at, s.id`;

const DELTA_SQL = `
SELECT 'new' AS kind, f.rule, count(*)::int AS n FROM findings f WHERE f.first_scan_id = $1 GROUP BY f.rule
UNION ALL
SELECT 'still-open', f.rule, count(*)::int FROM finding_scans fs JOIN findings f ON f.id = fs.finding_id
  WHERE fs.scan_id = $1 AND f.first_scan_id <> $1 GROUP BY f.rule
UNION ALL
SELECT 'remediated', f.rule, count(*)::int FROM findings f WHERE f.remediated_scan_id = $1 GROUP BY f.rule`;

/** Implements the report methods of `Store`. */
export class ReportsRepository {
  constructor(private readonly db: Db) {}

  /** See `Store.complianceSummary`. Throws RangeError when `from` is after `to`. */
  async complianceSummary(period: { from: Date; to: Date; sources?: string[] }): Promise<ComplianceData> {
    if (period.from.getTime() > period.to.getTime()) throw new RangeError('the period ends before it starts');
    const params = [isoParam(period.from), isoParam(period.to), period.sources ?? null];
    const findings = await this.db.query<CountRow>(FINDINGS_SQL, params);
    const scans = await this.db.query<ScanCountRow>(SCANS_SQL, params);
    const suppressions = await this.db.query<Parameters<typeof toSuppression>[0]>(SUPPRESSIONS_SQL, params);
    return {
      findings,
      scans: scans.map(({ last_completed_id, last_completed_at, ...counts }) => ({
        ...counts,
        lastCompleted:
          last_completed_id && last_completed_at
            ? { id: last_completed_id, finishedAt: iso(last_completed_at) }
            : null,
      })),
      suppressions: suppressions.map(toSuppression),
    };
  }

  /** See `Store.scanDelta`. */
  async scanDelta(scanId: string): Promise<ScanDelta | null> {
    const exists = await this.db.query('SELECT 1 FROM scans WHERE id = $1', [scanId]);
    if (exists.length === 0) return null;
    const delta: ScanDelta = {
      new: { total: 0, byRule: {} },
      'still-open': { total: 0, byRule: {} },
      remediated: { total: 0, byRule: {} },
    };
    for (const row of await this.db.query<{ kind: ScanDeltaKind; rule: string; n: number }>(DELTA_SQL, [
      scanId,
    ])) {
      delta[row.kind].byRule[row.rule] = row.n;
      delta[row.kind].total += row.n;
    }
    return delta;
  }
}
