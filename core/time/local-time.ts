/**
 * Turning wall-clock times without an offset into instants, with real DST rules (luxon).
 * Shared by EXIF capture times and the register, so both resolve ambiguity the same way.
 */
import { DateTime } from 'luxon';

/** How a local time was resolved in its zone. */
export type LocalResolution = 'exact' | 'spring-gap' | 'autumn-repeat';

/**
 * Resolves a wall-clock time in an IANA zone to an instant.
 * - Spring gap (a local time that never existed, e.g. 02:30 on the last Sunday of March in
 *   Europe/Amsterdam): the clock of a camera that did not skip ahead yet still reads as if in
 *   winter time; luxon moves it forward by the gap (02:30 -> 03:30 +02:00), which is the same instant
 *   as 02:30 +01:00. We keep that and report `spring-gap`.
 * - Autumn repeat (02:30 happens twice): we take the EARLIER instant (+02:00). For a retention
 *   audit that is the cautious reading: the image is at most one hour younger than we say.
 * @returns null when the fields do not form a valid time.
 */
export function resolveLocalTime(
  parts: {
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
    millisecond?: number;
  },
  zone: string,
): { instant: Date; resolution: LocalResolution } | null {
  const local = DateTime.fromObject(parts, { zone });
  if (!local.isValid) return null;
  const sameWallClock = (dt: DateTime): boolean =>
    dt.year === parts.year &&
    dt.month === parts.month &&
    dt.day === parts.day &&
    dt.hour === parts.hour &&
    dt.minute === parts.minute;
  if (!sameWallClock(local)) return { instant: local.toJSDate(), resolution: 'spring-gap' };
  // luxon picks the later offset in a repeated hour; look one hour earlier for the first occurrence.
  const earlier = local.minus({ hours: 1 });
  if (earlier.offset !== local.offset) {
    const candidate = DateTime.fromMillis(local.toMillis() - (earlier.offset - local.offset) * 60_000, {
      zone,
    });
    if (sameWallClock(candidate) && candidate.toMillis() < local.toMillis()) {
      return { instant: candidate.toJSDate(), resolution: 'autumn-repeat' };
    }
  }
  return { instant: local.toJSDate(), resolution: 'exact' };
}

/** Formats an instant in a zone for reasons an officer reads: `2026-11-20 08:30:00 +01:00`. */
export function formatInZone(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
}
