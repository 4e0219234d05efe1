/** Scan reads and changes the API adds to the scan rows: cancelling, and finished scans for metrics. */
import type { ScanStatus } from '../model.js';
import type { Db } from './db.js';
import { clampLimit, isoParam } from './rows.js';
import type { ScansRepository } from './scans.repository.js';
import type { FinishedScan, Store } from './store.js';

type Timestamp = Date | string;

interface FinishedRow {
  id: string;
  status: ScanStatus;
  started_at: Timestamp;
  finished_at: Timestamp;
  objects_listed: number | string;
  objects_evaluated: number | string;
}

const toDate = (value: Timestamp): Date => (value instanceof Date ? value : new Date(value));

/** Implements `Store.cancelScan` and `Store.scansFinishedAfter`. */
export class ScanControlRepository {
  constructor(
    private readonly db: Db,
    private readonly scans: ScansRepository,
  ) {}

  /** See {@link Store.cancelScan}. One conditional UPDATE, so a scan finishing meanwhile is not overwritten. */
  async cancelScan(id: string, at: Date): ReturnType<Store['cancelScan']> {
    const changed = await this.db.query(
      `UPDATE scans SET status = 'cancelled', finished_at = $2::timestamptz
       WHERE id = $1 AND status = 'running' RETURNING id`,
      [id, isoParam(at)],
    );
    const scan = await this.scans.getScan(id);
    return scan ? { scan, changed: changed.length > 0 } : null;
  }

  /** See {@link Store.scansFinishedAfter}. */
  async scansFinishedAfter(
    after: { finishedAt: Date; id: string } | null,
    limit: number,
  ): Promise<FinishedScan[]> {
    const rows = await this.db.query<FinishedRow>(
      `SELECT id, status, started_at, finished_at, objects_listed, objects_evaluated FROM scans
       WHERE finished_at IS NOT NULL
         AND ($1::timestamptz IS NULL OR (finished_at, id) > ($1::timestamptz, $2::text))
       ORDER BY finished_at, id
       LIMIT $3`,
      [isoParam(after?.finishedAt), after?.id ?? '', clampLimit(limit, 100, 1000)],
    );
    return rows.map((row) => ({
      id: row.id,
      status: row.status,
      startedAt: toDate(row.started_at),
      finishedAt: toDate(row.finished_at),
      objectsListed: Number(row.objects_listed),
      objectsEvaluated: Number(row.objects_evaluated),
    }));
  }
}
