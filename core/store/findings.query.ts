/**
 * The SQL of `listFindings`: filters, sorts and the keyset cursor. Every value is a `$n` parameter;
 * only fixed fragments chosen from the tables below are spliced into the text.
 */
import { DateTime } from 'luxon';
import type { Db } from './db.js';
import { InvalidCursorError } from './errors.js';
import { clampLimit, FINDING_COLUMNS, isoParam, toFinding, type FindingRow } from './rows.js';
import type { FindingFilter, FindingPage, ScanDeltaKind } from './store.js';

export type FindingSort = NonNullable<FindingFilter['sort']>;
export type SortOrder = NonNullable<FindingFilter['order']>;

/** Page size when the filter gives none, and the most one page holds. */
export const DEFAULT_FINDING_PAGE = 100;
export const MAX_FINDING_PAGE = 1000;

const utcText = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Per sort: the key expression (as the indexes of 001_initial.sql spell it, so they are used), its
 * exact text for the cursor (microseconds and shortest-exact floats survive the round trip), the
 * type to read it back as, and what a well-formed value looks like.
 */
const SORTS: Record<FindingSort, { expr: string; text: string; type: string; valid: RegExp }> = {
  severity: { expr: 'f.severity_rank', text: 'f.severity_rank::text', type: 'smallint', valid: /^[0-4]$/ },
  firstSeen: {
    expr: 'f.first_seen',
    text: utcText('f.first_seen'),
    type: 'timestamptz',
    valid: /^\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
  },
  lastSeen: {
    expr: 'f.last_seen',
    text: utcText('f.last_seen'),
    type: 'timestamptz',
    valid: /^\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
  },
  ageHours: {
    // Findings without an age sort as the youngest: a NULL key would break the row comparison.
    expr: `COALESCE(f.age_hours, '-Infinity'::double precision)`,
    text: `COALESCE(f.age_hours, '-Infinity'::double precision)::text`,
    type: 'double precision',
    valid: /^(-?Infinity|-?\d+(\.\d+)?(e[+-]?\d+)?)$/,
  },
};

interface CursorBody {
  s: FindingSort;
  o: SortOrder;
  v: string;
  id: string;
}

/** An opaque cursor: base64url of the sort, the order, the last row's sort value and its id. */
export function encodeCursor(body: CursorBody): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/**
 * The position a cursor points after; throws {@link InvalidCursorError} for anything not issued by
 * {@link encodeCursor} for this same sort and order.
 */
export function decodeCursor(cursor: string, sort: FindingSort, order: SortOrder): { v: string; id: string } {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor');
  }
  const c = body as Partial<CursorBody> | null;
  if (!c || typeof c !== 'object' || typeof c.v !== 'string' || typeof c.id !== 'string') {
    throw new InvalidCursorError('not a cursor');
  }
  if (c.s !== sort || c.o !== order) {
    throw new InvalidCursorError(`issued for sort ${String(c.s)} ${String(c.o)}, not ${sort} ${order}`);
  }
  if (!SORTS[sort].valid.test(c.v) || !inRange(sort, c.v)) throw new InvalidCursorError('bad position');
  // Ids are the database's own (text); one with a NUL could not be sent to it.
  if (c.id.length === 0 || c.id.length > 200 || c.id.includes('\u0000')) {
    throw new InvalidCursorError('bad position');
  }
  return { v: c.v, id: c.id };
}

/**
 * A well-formed value can still be out of the database's range: refuse it here, since the database
 * would answer with an error rather than an empty page. Timestamps: a real date and time (luxon
 * refuses 30 February, where Date.parse rolls it into March) from 1970 to 9999. Numbers: finite, and
 * not so small they round to zero (`1e-400`), which PostgreSQL refuses as out of range.
 */
function inRange(sort: FindingSort, value: string): boolean {
  if (sort === 'firstSeen' || sort === 'lastSeen') {
    const time = DateTime.fromISO(value, { zone: 'utc' });
    return time.isValid && time.year >= 1970 && time.year <= 9999;
  }
  if (sort === 'ageHours') {
    if (/Infinity$/.test(value)) return true;
    const number = Number(value);
    return Number.isFinite(number) && (number !== 0 || /^-?0+(\.0+)?(e[+-]?\d+)?$/.test(value));
  }
  return true;
}

/** Collects parameter values and hands out their `$n` placeholders. */
class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function anyOf(where: string[], params: Params, column: string, values: readonly string[] | undefined): void {
  // An empty list means "no filter", as an absent query parameter would.
  if (values && values.length > 0) where.push(`${column} = ANY(${params.add(values)}::text[])`);
}

/** The condition tying findings to a scan: seen in it, or one part of its delta. */
function scanCondition(params: Params, scanId: string, delta: ScanDeltaKind | undefined): string {
  const id = params.add(scanId);
  const seen = `EXISTS (SELECT 1 FROM finding_scans fs WHERE fs.finding_id = f.id AND fs.scan_id = ${id})`;
  switch (delta) {
    case undefined:
      return seen;
    case 'new':
      return `f.first_scan_id = ${id}`;
    case 'still-open':
      return `${seen} AND f.first_scan_id <> ${id}`;
    case 'remediated':
      return `f.remediated_scan_id = ${id}`;
    default:
      throw new RangeError(`unknown delta ${String(delta)}`);
  }
}

/**
 * One page of findings matching `filter` (see {@link FindingFilter}), ordered by the sort key then id
 * in the same direction (default: severity, descending, so critical first; order defaults to desc
 * for every sort). `nextCursor` is null on the last page.
 */
export async function listFindings(db: Db, filter: FindingFilter): Promise<FindingPage> {
  const sortName: FindingSort = filter.sort ?? 'severity';
  const order: SortOrder = filter.order ?? 'desc';
  const sort = SORTS[sortName];
  if (!sort) throw new RangeError(`unknown sort ${String(sortName)}`);
  if (order !== 'asc' && order !== 'desc') throw new RangeError(`unknown order ${String(order)}`);
  const limit = clampLimit(filter.limit, DEFAULT_FINDING_PAGE, MAX_FINDING_PAGE);

  const params = new Params();
  const where: string[] = [];
  anyOf(where, params, 'f.rule', filter.rule);
  anyOf(where, params, 'f.severity', filter.severity);
  anyOf(where, params, 'f.source', filter.source);
  anyOf(where, params, 'f.bucket', filter.bucket);
  anyOf(where, params, 'f.status', filter.status);
  if (filter.since) where.push(`f.last_seen >= ${params.add(isoParam(filter.since))}::timestamptz`);
  if (filter.until) where.push(`f.first_seen <= ${params.add(isoParam(filter.until))}::timestamptz`);
  if (filter.keyContains) {
    // Keys are collated "C", under which lower() folds ASCII only; the default collation folds É too.
    where.push(`strpos(lower(f.key COLLATE "default"), lower(${params.add(filter.keyContains)}::text)) > 0`);
  }
  if (filter.delta !== undefined && filter.scanId === undefined) {
    throw new RangeError('a delta filter needs a scanId');
  }
  if (filter.scanId !== undefined) where.push(scanCondition(params, filter.scanId, filter.delta));
  if (filter.suppressed !== undefined) {
    where.push(filter.suppressed ? 'f.suppressed_by IS NOT NULL' : 'f.suppressed_by IS NULL');
  }
  if (filter.cursor) {
    const after = decodeCursor(filter.cursor, sortName, order);
    const op = order === 'desc' ? '<' : '>';
    where.push(
      `(${sort.expr}, f.id) ${op} (${params.add(after.v)}::${sort.type}, ${params.add(after.id)}::text)`,
    );
  }

  const dir = order === 'desc' ? 'DESC' : 'ASC';
  // One row more than the page tells whether another page follows without a count.
  const rows = await db.query<FindingRow & { sort_value: string }>(
    `SELECT ${FINDING_COLUMNS}, ${sort.text} AS sort_value
     FROM findings f
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${sort.expr} ${dir}, f.id ${dir}
     LIMIT ${params.add(limit + 1)}`,
    params.values,
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor({ s: sortName, o: order, v: last.sort_value, id: last.id })
      : null;
  return { items: page.map(toFinding), nextCursor };
}
