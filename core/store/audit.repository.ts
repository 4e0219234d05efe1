/**
 * The audit trail of API requests: who consulted or changed what, from where, and with what result.
 * Rows are only added and completed, never removed here.
 */
import type { Db } from './db.js';
import { InvalidCursorError } from './errors.js';
import { clampLimit, iso, isoParam } from './rows.js';
import type { AccessEntry, AccessFilter, AccessInput, AccessPage } from './store.js';

type Timestamp = Date | string;

interface AccessRow {
  id: number | string;
  at: Timestamp;
  request_id: string;
  actor: string | null;
  role: string | null;
  method: string;
  route: string;
  params: Record<string, string> | null;
  query: Record<string, unknown> | null;
  client: string;
  status: number | null;
  duration_ms: number | null;
}

function toEntry(row: AccessRow): AccessEntry {
  return {
    id: String(row.id),
    at: iso(row.at),
    requestId: row.request_id,
    actor: row.actor,
    role: row.role,
    method: row.method,
    route: row.route,
    params: row.params ?? {},
    query: row.query ?? {},
    client: row.client,
    status: row.status,
    durationMs: row.duration_ms,
  };
}

/** The entry id a cursor points after; the id is a positive integer in base64url. */
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  // At most bigint's maximum: a larger id is an error in the database, not an empty page.
  if (!/^[1-9]\d{0,18}$/.test(id) || BigInt(id) > 9223372036854775807n) {
    throw new InvalidCursorError('not an audit cursor');
  }
  return id;
}

/** Implements the audit methods of `Store`. */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  /** See `Store.recordAccess`. */
  async recordAccess(entry: AccessInput): Promise<string> {
    const rows = await this.db.query<{ id: number | string }>(
      `INSERT INTO audit_log (request_id, actor, role, method, route, params, query, client)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8) RETURNING id`,
      [
        entry.requestId,
        entry.actor,
        entry.role,
        entry.method,
        entry.route,
        JSON.stringify(entry.params),
        JSON.stringify(entry.query),
        entry.client,
      ],
    );
    return String(rows[0]!.id);
  }

  /** See `Store.completeAccess`; completing an entry twice keeps the first result. */
  async completeAccess(id: string, status: number, durationMs: number): Promise<void> {
    await this.db.query(
      `UPDATE audit_log SET status = $2, duration_ms = $3 WHERE id = $1::bigint AND status IS NULL`,
      [id, status, durationMs],
    );
  }

  /**
   * See `Store.listAccess`: newest first by id (ids grow with time), `limit` 1..1000 (default
   * 100), keyset-paged by id.
   */
  async listAccess(filter: AccessFilter): Promise<AccessPage> {
    const limit = clampLimit(filter.limit, 100, 1000);
    const after = filter.cursor === undefined ? null : decodeCursor(filter.cursor);
    const rows = await this.db.query<AccessRow>(
      `SELECT id, at, request_id, actor, role, method, route, params, query, client, status, duration_ms
       FROM audit_log
       WHERE ($1::text IS NULL OR actor = $1)
         AND ($2::text IS NULL OR role = $2)
         AND ($3::text IS NULL OR method = $3)
         AND ($4::text IS NULL OR route = $4)
         AND ($5::int IS NULL OR status = $5)
         AND ($6::timestamptz IS NULL OR at >= $6::timestamptz)
         AND ($7::timestamptz IS NULL OR at <= $7::timestamptz)
         AND ($8::bigint IS NULL OR id < $8::bigint)
       ORDER BY id DESC
       LIMIT $9`,
      [
        filter.actor ?? null,
        filter.role ?? null,
        filter.method ?? null,
        filter.route ?? null,
        filter.status ?? null,
        isoParam(filter.since),
        isoParam(filter.until),
        after,
        limit + 1,
      ],
    );
    const page = rows.slice(0, limit).map(toEntry);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null;
    return { items: page, nextCursor };
  }
}
