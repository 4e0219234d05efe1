/** Suppression rules: saved filters of accepted situations, applied by `upsertFindings`. */
import type { Db } from './db.js';
import { clampLimit, iso, isoParam } from './rows.js';
import type { Suppression, SuppressionInput } from './store.js';

type Timestamp = Date | string;

interface SuppressionRow {
  id: string;
  rule: string | null;
  source: string | null;
  bucket: string | null;
  key_prefix: string | null;
  reason: string;
  expires_at: Timestamp;
  created_by: string;
  created_at: Timestamp;
  revoked_by: string | null;
  revoked_at: Timestamp | null;
  active: boolean;
  findings: number;
}

/** The columns of a {@link SuppressionRow}, with activity judged by the database's clock. */
export const SUPPRESSION_COLUMNS = `s.id, s.rule, s.source, s.bucket, s.key_prefix, s.reason, s.expires_at,
  s.created_by, s.created_at, s.revoked_by, s.revoked_at,
  (s.revoked_at IS NULL AND s.expires_at > now()) AS active,
  (SELECT count(*)::int FROM findings f WHERE f.suppressed_by = s.id) AS findings`;

/** A database row as a {@link Suppression}. */
export function toSuppression(row: SuppressionRow): Suppression {
  return {
    id: row.id,
    rule: row.rule,
    source: row.source,
    bucket: row.bucket,
    keyPrefix: row.key_prefix,
    reason: row.reason,
    expiresAt: iso(row.expires_at),
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    revokedBy: row.revoked_by,
    revokedAt: iso(row.revoked_at),
    active: row.active,
    findings: row.findings,
  };
}

/** Empty criteria mean "not set": an empty key prefix would match every key. */
const criterion = (value: string | null | undefined): string | null =>
  value === undefined || value === null || value === '' ? null : value;

/** Implements the suppression methods of `Store`. */
export class SuppressionsRepository {
  constructor(private readonly db: Db) {}

  /** See `Store.createSuppression`. */
  async createSuppression(input: SuppressionInput): Promise<Suppression> {
    const criteria = [input.rule, input.source, input.bucket, input.keyPrefix].map(criterion);
    if (criteria.every((value) => value === null)) {
      throw new RangeError('a suppression needs at least one of rule, source, bucket and keyPrefix');
    }
    if (input.reason.trim() === '') throw new RangeError('a suppression needs a reason');
    if (input.createdBy === '') throw new RangeError('a suppression needs its author');
    const rows = await this.db.query<{ id: string }>(
      `INSERT INTO suppressions (rule, source, bucket, key_prefix, reason, expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7) RETURNING id`,
      [...criteria, input.reason, isoParam(input.expiresAt), input.createdBy],
    );
    const created = await this.getSuppression(rows[0]!.id);
    if (!created) throw new Error('suppression vanished after insert');
    return created;
  }

  /** See `Store.getSuppression`. */
  async getSuppression(id: string): Promise<Suppression | null> {
    const rows = await this.db.query<SuppressionRow>(
      `SELECT ${SUPPRESSION_COLUMNS} FROM suppressions s WHERE s.id = $1`,
      [id],
    );
    return rows[0] ? toSuppression(rows[0]) : null;
  }

  /** See `Store.listSuppressions`: newest first, at most `limit` (default 100, at most 1000). */
  async listSuppressions(opts: { active?: boolean; limit?: number } = {}): Promise<Suppression[]> {
    const rows = await this.db.query<SuppressionRow>(
      `SELECT ${SUPPRESSION_COLUMNS} FROM suppressions s
       WHERE $1::boolean IS NULL OR (s.revoked_at IS NULL AND s.expires_at > now()) = $1::boolean
       ORDER BY s.created_at DESC, s.id DESC
       LIMIT $2`,
      [opts.active ?? null, clampLimit(opts.limit, 100, 1000)],
    );
    return rows.map(toSuppression);
  }

  /** See `Store.revokeSuppression`. */
  async revokeSuppression(id: string, actor: string, at: Date): Promise<Suppression | null> {
    await this.db.query(
      `UPDATE suppressions SET revoked_at = $3::timestamptz, revoked_by = $2
       WHERE id = $1 AND revoked_at IS NULL`,
      [id, actor, isoParam(at)],
    );
    return this.getSuppression(id);
  }
}
