/**
 * Turning wall-clock times without an offset into instants, with real DST rules (luxon).
 * Shared by EXIF capture times and the register, so both resolve ambiguity the same way.
 */
import { DateTime } from 'luxon';

/** A wall-clock time, as a camera or a register writes it (month 1-12). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond?: number;
}

/** How a local time was resolved in its zone. */
export type LocalResolution = 'exact' | 'spring-gap' | 'autumn-repeat';

/** The resolution itself, with luxon; see resolveLocalTime. */
function resolveUncached(
  parts: WallClock,
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

/** Per zone and wall-clock minute: (wall clock read as UTC) minus the instant, and how it resolved. */
const minuteCache = new Map<string, { shiftMs: number; resolution: LocalResolution }>();
const CACHE_LIMIT = 50_000;

/**
 * Resolves a wall-clock time in an IANA zone to an instant.
 * - Spring gap (a local time that never existed, e.g. 02:30 on the last Sunday of March in
 *   Europe/Amsterdam): read as the clock of a camera that had not yet skipped ahead, i.e. 02:30 at
 *   the winter offset (luxon moves it to 03:30 +02:00, the same instant); reported `spring-gap`.
 * - Autumn repeat (02:30 happens twice): the EARLIER instant (+02:00). For a retention audit that
 *   is the cautious reading: the image is at most one hour younger than we say.
 * Zone rules change on whole minutes, so the shift is computed once per zone and wall-clock minute
 * (luxon's zone maths was the largest single cost of a scan) and applied to the seconds.
 * @returns null when the fields do not form a valid time.
 */
export function resolveLocalTime(
  parts: WallClock,
  zone: string,
): { instant: Date; resolution: LocalResolution } | null {
  const wallMinute = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  const check = new Date(wallMinute);
  // Date.UTC rolls 30 February over into March: such a time does not exist in any zone.
  if (
    check.getUTCMonth() !== parts.month - 1 ||
    check.getUTCDate() !== parts.day ||
    parts.hour > 23 ||
    parts.minute > 59 ||
    parts.second > 59
  ) {
    return null;
  }
  const key = `${zone}|${wallMinute}`;
  let entry = minuteCache.get(key);
  if (!entry) {
    const resolved = resolveUncached({ ...parts, second: 0, millisecond: 0 }, zone);
    if (!resolved) return null;
    entry = { shiftMs: wallMinute - resolved.instant.getTime(), resolution: resolved.resolution };
    if (minuteCache.size >= CACHE_LIMIT) minuteCache.clear();
    minuteCache.set(key, entry);
  }
  const wall = wallMinute + parts.second * 1000 + (parts.millisecond ?? 0);
  return { instant: new Date(wall - entry.shiftMs), resolution: entry.resolution };
}

/** Formats an instant in a zone for reasons an officer reads: `2026-11-20 08:30:00 +01:00`. */
export function formatInZone(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
}
