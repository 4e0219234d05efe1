/**
 * Request validation with zod: strict objects (an unknown field is a mistake worth telling), query
 * parameter types that parse strings, and problems phrased for people (`query.limit: must be at most
 * 500`) instead of zod's defaults.
 */
import { z } from 'zod';
import { AppError } from './errors.js';

/** Where a value came from, as the first part of each problem. */
export type Location = 'params' | 'query' | 'body';

function joinPath(location: Location, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : `${out}.${String(part)}`),
    location,
  );
}

const UNITS: Record<string, string> = { string: ' characters', array: ' items', set: ' items' };

/** One problem line per issue (one per unknown field). */
export function formatIssues(issues: readonly z.core.$ZodIssue[], location: Location): string[] {
  return issues.flatMap((issue): string[] => {
    const where = joinPath(location, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => `${joinPath(location, [...issue.path, key])}: unknown field`);
      case 'too_big':
        return [`${where}: must be at most ${String(issue.maximum)}${UNITS[issue.origin] ?? ''}`];
      case 'too_small':
        if (issue.origin === 'string' && issue.minimum === 1) return [`${where}: must not be empty`];
        return [`${where}: must be at least ${String(issue.minimum)}${UNITS[issue.origin] ?? ''}`];
      case 'invalid_value':
        return [`${where}: must be one of ${issue.values.map(String).join(', ')}`];
      case 'invalid_type':
        if (/received undefined/.test(issue.message)) return [`${where}: is required`];
        if (location === 'query' && /received array/.test(issue.message))
          return [`${where}: must be given once`];
        return [`${where}: must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`];
      case 'invalid_union':
        return [`${where}: has the wrong type`];
      default:
        return [`${where}: ${issue.message}`];
    }
  });
}

/** Deeper than any body the API takes; a deeper one is refused before anything walks it. */
export const MAX_BODY_DEPTH = 32;

/**
 * Where `value` holds a NUL character, or where it nests deeper than {@link MAX_BODY_DEPTH}.
 * PostgreSQL stores no NUL in text or jsonb, so a NUL that got through would fail the query: a 500 for
 * something the client sent. The walk is iterative and stops at the depth limit, so a body of a few
 * KiB nested thousands deep cannot overflow the stack.
 */
export function nulProblems(value: unknown, where: string): string[] {
  const problems: string[] = [];
  const nulIn = (text: string, at: string) => {
    if (text.includes('\u0000')) problems.push(`${at}: must not contain NUL characters`);
  };
  const stack: Array<{ value: unknown; where: string; depth: number }> = [{ value, where, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') nulIn(item.value, item.where);
    else if (item.value && typeof item.value === 'object') {
      if (item.depth >= MAX_BODY_DEPTH) {
        problems.push(`${item.where}: must not nest more than ${MAX_BODY_DEPTH} levels deep`);
        continue;
      }
      const entries = Array.isArray(item.value)
        ? item.value.map((child, i) => [`${item.where}[${i}]`, child] as const)
        : Object.entries(item.value).map(([key, child]) => {
            nulIn(key, item.where);
            return [`${item.where}.${key}`, child] as const;
          });
      // Pushed in reverse, so problems come out in document order.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [at, child] = entries[i]!;
        stack.push({ value: child, where: at, depth: item.depth + 1 });
      }
    }
  }
  return problems;
}

/** Parses `value` or throws a 400 AppError listing every problem. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, location: Location): z.output<S> {
  const nul = nulProblems(value, location);
  if (nul.length > 0) throw AppError.badRequest(nul);
  const result = schema.safeParse(value);
  if (!result.success) throw AppError.badRequest(formatIssues(result.error.issues, location));
  return result.data;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * An ISO-8601 instant with Z or an offset: a time without a zone is the ambiguity this tool exists
 * to catch. Every field is checked for range (Date.parse rolls 30 February over into March).
 */
export function isInstant(text: string): boolean {
  const m = INSTANT.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second = 0, offsetHours = 0, offsetMinutes = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  // With its offset applied, the instant must stay within what PostgreSQL stores and ISO writes.
  const utcYear = new Date(text).getUTCFullYear();
  return (
    utcYear >= 1970 &&
    utcYear <= 9999 &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59
  );
}

const INSTANT_MESSAGE = 'must be an ISO-8601 instant with Z or an offset, e.g. 2026-11-20T12:00:00Z';

/** Builders of query parameter schemas: each takes the string(s) a query string gives. */
export const param = {
  /** A whole number in [min, max]. */
  int: (min: number, max: number) =>
    z
      .string()
      .regex(/^\d{1,9}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      .meta({ description: `A whole number from ${min} to ${max}.` }),
  /** An instant (see {@link isInstant}), as a Date. */
  instant: () =>
    z
      .string()
      .refine(isInstant, INSTANT_MESSAGE)
      .transform((text) => new Date(text))
      .meta({ description: 'An ISO-8601 instant with Z or an offset, e.g. 2026-11-20T12:00:00Z.' }),
  /** `true` or `false`. */
  bool: () => z.enum(['true', 'false']).transform((text) => text === 'true'),
  /** One or more of `values`, repeated (`rule=a&rule=b`) or comma-separated (`rule=a,b`). */
  list: <T extends string>(values: readonly [T, ...T[]]) =>
    z
      .union([z.string(), z.array(z.string()).max(50)])
      .transform(splitList)
      .pipe(z.array(z.enum(values)).min(1).max(50))
      .meta({
        description: `One or more of ${values.join(', ')}; repeat the parameter or separate with commas.`,
      }),
  /** One or more free texts (ids, bucket names), repeated or comma-separated. */
  texts: (maxLength = 200) =>
    z
      .union([z.string(), z.array(z.string()).max(50)])
      .transform(splitList)
      .pipe(z.array(z.string().min(1).max(maxLength)).min(1).max(50))
      .meta({ description: 'One or more values; repeat the parameter or separate with commas.' }),
  /** One text of 1..maxLength characters. */
  text: (maxLength = 200) => z.string().min(1).max(maxLength),
};

function splitList(value: string | string[]): string[] {
  return (Array.isArray(value) ? value : [value])
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A body field holding an instant, as a Date. */
export const instantField = (): z.ZodPipe<z.ZodString, z.ZodTransform<Date, string>> =>
  z
    .string()
    .refine(isInstant, INSTANT_MESSAGE)
    .transform((text) => new Date(text));
