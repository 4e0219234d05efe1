/**
 * Reads the capture time of a register row. The back office exports ISO 8601, sometimes with an
 * offset and sometimes as bare local time; local time is read in the contract's zone with real DST
 * rules, because an hour off decides whether a register row matches an image two seconds away.
 */
import { DateTime, IANAZone } from 'luxon';
import { resolveLocalTime } from '../time/local-time.js';

/** A register capture time: the instant it names, and the second one when the local time repeats. */
export interface RegisterTime {
  instant: Date;
  /** The later instant of a local time that occurs twice (autumn DST change); null otherwise. */
  later: Date | null;
  /** Something an officer should know about how the time was read; null when nothing. */
  note: string | null;
}

const DATE_AND_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const WITH_OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Parses `2026-11-20T08:30:00`, `2026-11-20 08:30:00.250`, `2026-11-20T08:30:00+01:00` or `...Z`.
 * A date without a time is refused: midnight would be a guess.
 *
 * Local times are read in `timezone` by core/time's resolveLocalTime, the same function that reads
 * EXIF times, so both sides of a match resolve DST alike:
 * - In the autumn, when clocks go back, a local time like 02:30 occurs twice. The earlier instant
 *   (still summer time, +02:00 in Amsterdam) is taken as `instant`. The later one (+01:00) is
 *   returned in `later` so the matcher can try both: a register row is evidence for either.
 * - In the spring, when clocks go forward, a local time like 02:30 does not exist. luxon shifts it
 *   forward by the size of the gap (02:30 becomes 03:30 +02:00), which is the same instant as
 *   02:30 read with the winter offset (+01:00): what a camera whose clock missed the change meant.
 *   A note says so, since such a time suggests a clock without DST rules.
 * @returns the time, or a message (without the value) saying what is wrong.
 * @throws Error when `timezone` is not an IANA zone (a configuration error, not a row problem).
 */
export function parseRegisterTime(text: string, timezone: string): RegisterTime | { error: string } {
  if (!IANAZone.isValidZone(timezone)) throw new Error(`unknown time zone "${timezone}"`);
  const value = text.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (!DATE_AND_TIME.test(value)) {
    return {
      error: 'must be an ISO 8601 date and time, e.g. 2026-11-20T08:30:00 or 2026-11-20T08:30:00+01:00',
    };
  }
  if (WITH_OFFSET.test(value)) {
    const parsed = DateTime.fromISO(value, { setZone: true });
    if (!parsed.isValid)
      return { error: `is not a valid ISO 8601 time (${parsed.invalidExplanation ?? 'invalid'})` };
    return { instant: parsed.toJSDate(), later: null, note: null };
  }
  // Read as UTC only to get the wall-clock fields; the zone is applied by resolveLocalTime.
  const wall = DateTime.fromISO(value, { zone: 'utc' });
  if (!wall.isValid)
    return { error: `is not a valid ISO 8601 time (${wall.invalidExplanation ?? 'invalid'})` };
  const parts = wall.toObject();
  const resolved = resolveLocalTime(parts, timezone);
  if (resolved === null) return { error: `is not a valid time in ${timezone}` };
  if (resolved.resolution === 'spring-gap') {
    const shown = DateTime.fromJSDate(resolved.instant, { zone: timezone }).toFormat(
      "yyyy-MM-dd'T'HH:mm:ssZZ",
    );
    return {
      instant: resolved.instant,
      later: null,
      note: `local time does not exist in ${timezone} (clocks jump forward); read as ${shown}`,
    };
  }
  // luxon's own reading of a repeated hour is the later instant.
  const later =
    resolved.resolution === 'autumn-repeat'
      ? DateTime.fromObject(parts, { zone: timezone }).toJSDate()
      : null;
  return { instant: resolved.instant, later, note: null };
}
