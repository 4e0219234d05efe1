/** Scan rows and their per-bucket progress. */
import type { BucketProgress, Scan, ScanStatus } from '../model.js';
import type { Db } from './db.js';
import { ScanNotFoundError } from './errors.js';
import { clampLimit, isoParam, toScan, type BucketRow, type ScanRow } from './rows.js';
import type { ScanCounts, Store } from './store.js';

const SCAN_COLUMNS = `id, sources, trigger, status, started_at, finished_at, judged_at, objects_listed,
  objects_evaluated, findings_by_rule, errors, notes`;

/** Most scans one `listScans` call returns, whatever limit is asked. */
export const MAX_SCAN_PAGE = 1000;

/** Implements the scan methods of {@link Store}; every method throws what the database throws. */
export class ScansRepository {
  constructor(private readonly db: Db) {}

  /** See {@link Store.createScan}. */
  async createScan(scan: Parameters<Store['createScan']>[0]): Promise<void> {
    await this.db.query(
      `INSERT INTO scans (id, sources, trigger, judged_at, started_at)
       VALUES ($1, $2::text[], $3, $4::timestamptz, COALESCE($5::timestamptz, now()))
       ON CONFLICT (id) DO NOTHING`,
      [scan.id, scan.sources, scan.trigger, isoParam(scan.judgedAt), isoParam(scan.startedAt)],
    );
  }

  /** See {@link Store.getScan}; `buckets` are ordered by source, bucket and shard. */
  async getScan(id: string): Promise<Scan | null> {
    const rows = await this.db.query<ScanRow>(`SELECT ${SCAN_COLUMNS} FROM scans WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row) return null;
    const buckets = await this.bucketsOf([id]);
    return toScan(row, buckets.get(id) ?? []);
  }

  /**
   * See {@link Store.listScans}: newest first (by start, then id), at most `limit` (default 50, at
   * most {@link MAX_SCAN_PAGE}), only those covering `source` when given.
   */
  async listScans(opts: { limit?: number; source?: string; status?: ScanStatus } = {}): Promise<Scan[]> {
    const limit = clampLimit(opts.limit, 50, MAX_SCAN_PAGE);
    const rows = await this.db.query<ScanRow>(
      `SELECT ${SCAN_COLUMNS} FROM scans
       WHERE ($1::text IS NULL OR sources @> ARRAY[$1::text])
         AND ($3::text IS NULL OR status = $3::text)
       ORDER BY started_at DESC, id DESC
       LIMIT $2`,
      [opts.source ?? null, limit, opts.status ?? null],
    );
    const buckets = await this.bucketsOf(rows.map((row) => row.id));
    return rows.map((row) => toScan(row, buckets.get(row.id) ?? []));
  }

  /**
   * See {@link Store.setBucketProgress}: one row per (source, bucket, shard), shard 0 when absent, so
   * the shards of a bucket never overwrite each other. Throws {@link ScanNotFoundError} for an unknown
   * scan.
   */
  async setBucketProgress(scanId: string, progress: BucketProgress): Promise<void> {
    // INSERT ... SELECT from scans, so an unknown scan inserts nothing rather than raising a foreign
    // key error that would read the same as any other database failure.
    const rows = await this.db.query(
      `INSERT INTO scan_buckets (scan_id, source, bucket, shard, listed, evaluated, fetched, state)
       SELECT id, $2, $3, $8, $4, $5, $6, $7 FROM scans WHERE id = $1
       ON CONFLICT (scan_id, source, bucket, shard) DO UPDATE SET
         listed = EXCLUDED.listed, evaluated = EXCLUDED.evaluated, fetched = EXCLUDED.fetched,
         state = EXCLUDED.state
       RETURNING scan_id`,
      [
        scanId,
        progress.source,
        progress.bucket,
        progress.listed,
        progress.evaluated,
        progress.fetched,
        progress.state,
        progress.shard ?? 0,
      ],
    );
    if (rows.length === 0) throw new ScanNotFoundError(scanId);
  }

  /**
   * See {@link Store.addScanCounts}. One UPDATE adding to the stored values, so concurrent workers
   * never lose each other's counts. Throws {@link ScanNotFoundError} for an unknown scan.
   */
  async addScanCounts(scanId: string, counts: ScanCounts): Promise<void> {
    await this.updateOne(
      scanId,
      `UPDATE scans SET objects_listed = objects_listed + $2, objects_evaluated = objects_evaluated + $3
       WHERE id = $1 RETURNING id`,
      [counts.objectsListed, counts.objectsEvaluated],
    );
  }

  /** See {@link Store.addScanError}; appends atomically. Throws {@link ScanNotFoundError}. */
  async addScanError(scanId: string, error: string): Promise<void> {
    await this.updateOne(
      scanId,
      `UPDATE scans SET errors = array_append(errors, $2) WHERE id = $1 RETURNING id`,
      [error],
    );
  }

  /** See {@link Store.addScanNote}; appends atomically. Throws {@link ScanNotFoundError}. */
  async addScanNote(scanId: string, note: string): Promise<void> {
    await this.updateOne(
      scanId,
      `UPDATE scans SET notes = array_append(notes, $2) WHERE id = $1 RETURNING id`,
      [note],
    );
  }

  /**
   * See {@link Store.finishScan}: status, finished_at, and findings_by_rule counted from the findings
   * recorded as seen in this scan (so a scan that saw none gets `{}`). Calling it again recounts.
   * Throws {@link ScanNotFoundError} for an unknown scan.
   */
  async finishScan(scanId: string, status: ScanStatus, at: Date): Promise<void> {
    // Only a running scan is finished: a cancel that landed first is not overwritten.
    const updated = await this.db.query(
      `UPDATE scans SET status = $2, finished_at = $3::timestamptz,
         -- The bucket rows hold absolute counts (a resumed job rewrites, never adds twice).
         objects_listed = GREATEST(objects_listed, (SELECT COALESCE(sum(listed), 0) FROM scan_buckets WHERE scan_id = $1)),
         objects_evaluated = GREATEST(objects_evaluated, (SELECT COALESCE(sum(evaluated), 0) FROM scan_buckets WHERE scan_id = $1)),
         findings_by_rule = COALESCE((
           SELECT jsonb_object_agg(counted.rule, counted.n)
           FROM (
             SELECT f.rule, count(*)::int AS n
             FROM finding_scans fs JOIN findings f ON f.id = fs.finding_id
             WHERE fs.scan_id = $1
             GROUP BY f.rule
           ) AS counted
         ), '{}'::jsonb)
       WHERE id = $1 AND status = 'running' RETURNING id`,
      [scanId, status, isoParam(at)],
    );
    if (
      updated.length === 0 &&
      (await this.db.query(`SELECT id FROM scans WHERE id = $1`, [scanId])).length === 0
    ) {
      throw new ScanNotFoundError(scanId);
    }
  }

  private async updateOne(scanId: string, sql: string, params: unknown[]): Promise<void> {
    const rows = await this.db.query(sql, [scanId, ...params]);
    if (rows.length === 0) throw new ScanNotFoundError(scanId);
  }

  private async bucketsOf(scanIds: string[]): Promise<Map<string, BucketRow[]>> {
    const byScan = new Map<string, BucketRow[]>();
    if (scanIds.length === 0) return byScan;
    const rows = await this.db.query<BucketRow>(
      `SELECT scan_id, source, bucket, shard, listed, evaluated, fetched, state FROM scan_buckets
       WHERE scan_id = ANY($1::text[]) ORDER BY scan_id, source, bucket, shard`,
      [scanIds],
    );
    for (const row of rows) {
      const list = byScan.get(row.scan_id) ?? [];
      list.push(row);
      byScan.set(row.scan_id, list);
    }
    return byScan;
  }
}
