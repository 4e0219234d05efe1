/**
 * Reads the municipality's register of processed violations: a CSV exported from its back office.
 * The only file I/O of core/register; validation is in register-entry.ts, matching in
 * register-match.ts.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { IANAZone } from 'luxon';
import {
  formatRegisterProblem,
  parseRegisterRow,
  type RegisterEntry,
  type RegisterProblem,
  type RegisterRow,
} from './register-entry.js';

/** What {@link readRegister} found: the usable rows, and every row problem by line and field. */
export interface RegisterReadResult {
  entries: RegisterEntry[];
  /** One sentence per problem, naming line and field: `register line 12, captureTime: ...`. */
  problems: string[];
}

const COLUMNS = ['source', 'captureTime', 'key', 'plate'] as const;
type Column = (typeof COLUMNS)[number];

/** Excel in a Dutch locale exports `;`-separated CSV, other tools `,`: the header line decides. */
function detectDelimiter(text: string): ',' | ';' {
  const header = text.split(/\r\n|\n|\r/, 1)[0] ?? '';
  return header.includes(';') && !header.includes(',') ? ';' : ',';
}

/** Maps column names (case and surrounding spaces ignored) to their index in a record. */
function columnIndexes(path: string, header: string[]): Map<Column, number> {
  const indexes = new Map<Column, number>();
  header.forEach((name, index) => {
    const column = COLUMNS.find((wanted) => wanted.toLowerCase() === name.trim().toLowerCase());
    if (column !== undefined && !indexes.has(column)) indexes.set(column, index);
  });
  const missing: string[] = [];
  if (!indexes.has('source')) missing.push('source');
  if (!indexes.has('captureTime')) missing.push('captureTime');
  if (!indexes.has('key') && !indexes.has('plate')) missing.push('key and/or plate');
  if (missing.length > 0) {
    const found = header.map((name) => name.trim()).filter((name) => name !== '');
    throw new Error(
      `register ${path}: missing column(s) ${missing.join(', ')}; the header must name source, captureTime ` +
        `and key and/or plate (found: ${found.length > 0 ? found.join(', ') : 'no columns'})`,
    );
  }
  return indexes;
}

/**
 * Reads and validates a register CSV. Columns: `source`, `captureTime` (ISO 8601; without offset it
 * is local time in `timezone`), and `key` and/or `plate` (in clear, or the lower-case SHA-256 hex of
 * the normalised plate). Other columns are ignored and never kept. A bad row is reported in
 * `problems` and skipped, or kept without the bad field when it can still match; it never fails
 * the whole read.
 *
 * Synchronous on purpose: the scan reads a register once per process (and again when it changes),
 * and a register of a few hundred thousand rows parses in well under a second. Clear plates live
 * only in the file text and the parsed records while this function runs; each is hashed with
 * `plateKey` when its row is validated, and no message ever contains one.
 * @param plateKey the configured plate hash key (`Config.plateHashKey`), if any.
 * @returns usable entries, and problems as `register line 12, captureTime: ...` sentences.
 * @throws Error when the file cannot be read, is empty, or its header lacks the needed columns.
 */
export function readRegister(path: string, timezone: string, plateKey?: string): RegisterReadResult {
  if (!IANAZone.isValidZone(timezone)) throw new Error(`register ${path}: unknown time zone "${timezone}"`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`register ${path}: cannot read file (${code})`, { cause: error });
  }
  const problems: RegisterProblem[] = [];
  const records = parse(text, {
    delimiter: detectDelimiter(text),
    bom: true,
    info: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    // Lenient quoting and no trimming inside the parser: a stray quote must cost one row, not
    // swallow the rest of the file as one unterminated field.
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      const line = typeof error?.lines === 'number' ? error.lines : 0;
      problems.push({
        line,
        field: 'row',
        message: `is not valid CSV and is skipped (${error?.code ?? 'error'})`,
      });
      return undefined;
    },
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>;

  const entries: RegisterEntry[] = [];
  let indexes: Map<Column, number> | null = null;
  for (const { record, info } of records) {
    if (record.every((field) => field.trim() === '')) continue;
    if (indexes === null) {
      indexes = columnIndexes(path, record);
      continue;
    }
    const columns = indexes;
    const pick = (column: Column): string | undefined => {
      const index = columns.get(column);
      return index === undefined ? undefined : record[index];
    };
    const row: RegisterRow = {
      source: pick('source'),
      captureTime: pick('captureTime'),
      key: pick('key'),
      plate: pick('plate'),
    };
    // info.lines is the line the record ends on; a quoted field with line breaks started earlier.
    const breaks = record.reduce((count, field) => count + (field.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
    const parsed = parseRegisterRow(row, info.lines - breaks, timezone, plateKey);
    if (parsed.entry !== null) entries.push(parsed.entry);
    problems.push(...parsed.problems);
  }
  if (indexes === null)
    throw new Error(`register ${path}: the file is empty; it needs at least a header line`);
  problems.sort((a, b) => a.line - b.line);
  return { entries, problems: problems.map(formatRegisterProblem) };
}
