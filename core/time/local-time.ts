/**
 * Turning wall-clock times without an offset into instants, with real DST rules (luxon).
 * Shared by EXIF capture times and the register, so both resolve ambiguity the same way.
 */
import { DateTime, IANAZone } from 'luxon';

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
  // luxon picks the later offset in a repeated wall-clock time. The offset a day earlier says how far
  // the clocks went back (an hour in most zones, two in Antarctica/Troll, 30 minutes on Lord Howe);
  // moved back by that much, the same wall clock shows only when it is the first occurrence.
  const before = local.minus({ hours: 24 });
  if (before.offset > local.offset) {
    const candidate = DateTime.fromMillis(local.toMillis() - (before.offset - local.offset) * 60_000, {
      zone,
    });
    if (sameWallClock(candidate) && candidate.toMillis() < local.toMillis()) {
      return { instant: candidate.toJSDate(), resolution: 'autumn-repeat' };
    }
  }
  return { instant: local.toJSDate(), resolution: 'exact' };
}

/** A cached shift: (wall clock read as UTC) minus the instant, and how it resolved. */
interface Shift {
  shiftMs: number;
  resolution: LocalResolution;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const CACHE_LIMIT = 50_000;

/**
 * Per zone and wall-clock hour: the shift when the whole hour has one (the usual case), or null when
 * a transition falls inside it (then minutes are resolved one by one).
 */
const hourCache = new Map<string, Shift | null>();
/** Per zone and wall-clock minute, for hours with a transition. */
const minuteCache = new Map<string, Shift>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

function minuteShift(parts: WallClock, zone: string, wallMinute: number): Shift | null {
  const key = `${zone}|${wallMinute}`;
  const cached = minuteCache.get(key);
  if (cached) return cached;
  const resolved = resolveUncached({ ...parts, second: 0, millisecond: 0 }, zone);
  if (!resolved) return null;
  return remember(minuteCache, key, {
    shiftMs: wallMinute - resolved.instant.getTime(),
    resolution: resolved.resolution,
  });
}

/**
 * The shift of a whole wall-clock hour: its first and last minute resolved alike means no transition
 * lies between them (tz rules never change twice within an hour and back).
 */
function hourShift(parts: WallClock, zone: string, wallHour: number): Shift | null {
  const key = `${zone}|${wallHour}`;
  if (hourCache.has(key)) return hourCache.get(key)!;
  const first = minuteShift({ ...parts, minute: 0 }, zone, wallHour);
  const last = minuteShift({ ...parts, minute: 59 }, zone, wallHour + 59 * MINUTE_MS);
  const whole =
    first !== null &&
    last !== null &&
    first.resolution === 'exact' &&
    last.resolution === 'exact' &&
    first.shiftMs === last.shiftMs
      ? first
      : null;
  return remember(hourCache, key, whole);
}

/**
 * Resolves a wall-clock time in an IANA zone to an instant.
 * - Spring gap (a local time that never existed, e.g. 02:30 on the last Sunday of March in
 *   Europe/Amsterdam): read as the clock of a camera that had not yet skipped ahead, i.e. 02:30 at
 *   the winter offset (luxon moves it to 03:30 +02:00, the same instant); reported `spring-gap`.
 * - Autumn repeat (02:30 happens twice): the EARLIER instant (+02:00). For a retention audit that
 *   is the cautious reading: the image is at most one hour younger than we say.
 * luxon's zone maths was the largest single cost of a scan, so the shift is computed once per zone
 * and wall-clock hour (per minute in an hour with a transition: zone rules change on whole minutes)
 * and applied to the minutes and seconds.
 * @returns null when the fields do not form a valid time.
 */
export function resolveLocalTime(
  parts: WallClock,
  zone: string,
): { instant: Date; resolution: LocalResolution } | null {
  const wallMinute = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  const check = new Date(wallMinute);
  // Date.UTC rolls 30 February over into March: such a time does not exist in any zone. It also
  // reads years 0-99 as 1900-1999, which would share cache entries with those: no camera writes them.
  if (
    parts.year < 100 ||
    check.getUTCMonth() !== parts.month - 1 ||
    check.getUTCDate() !== parts.day ||
    parts.hour > 23 ||
    parts.minute > 59 ||
    parts.second > 59
  ) {
    return null;
  }
  const wallHour = wallMinute - parts.minute * MINUTE_MS;
  const shift = hourShift(parts, zone, wallHour) ?? minuteShift(parts, zone, wallMinute);
  if (!shift) return null;
  const wall = wallMinute + parts.second * 1000 + (parts.millisecond ?? 0);
  return { instant: new Date(wall - shift.shiftMs), resolution: shift.resolution };
}

/** Per zone and UTC hour: the zone's offset in minutes when it holds for the whole hour, else null. */
const offsetCache = new Map<string, number | null>();

/**
 * The zone's offset from UTC at an instant, in minutes (luxon's rules), cached per UTC hour when the
 * offset is the same at both ends of the hour: formatting a time for a reason must not cost luxon's
 * Intl round trip for every finding.
 */
export function zoneOffsetMinutes(instant: Date, zone: string): number {
  const ms = instant.getTime();
  const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
  const key = `${zone}|${hour}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    const ianaZone = IANAZone.create(zone);
    const first = ianaZone.offset(hour);
    offset = remember(offsetCache, key, first === ianaZone.offset(hour + HOUR_MS - 1) ? first : null);
  }
  return offset ?? IANAZone.create(zone).offset(ms);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * An instant as the zone's wall clock: `2026-11-20 08:30:00 +01:00`, with `.SSS` after the seconds
 * when `withMillis`. Offsets of whole minutes are written by hand from the cached offset; the odd
 * historical offset with seconds (local mean time) goes through luxon.
 */
export function formatWallClock(instant: Date, zone: string, withMillis = false): string {
  const offset = zoneOffsetMinutes(instant, zone);
  const pattern = withMillis ? 'yyyy-MM-dd HH:mm:ss.SSS ZZ' : 'yyyy-MM-dd HH:mm:ss ZZ';
  // An unknown zone has a NaN offset and goes to luxon too, which writes it as invalid.
  if (!Number.isInteger(offset)) {
    return DateTime.fromJSDate(instant, { zone }).toFormat(pattern);
  }
  const wall = new Date(instant.getTime() + offset * MINUTE_MS);
  const year = wall.getUTCFullYear();
  if (year < 1 || year > 9999) return DateTime.fromJSDate(instant, { zone }).toFormat(pattern);
  const date = `${pad(year, 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  const millis = withMillis ? `.${pad(wall.getUTCMilliseconds(), 3)}` : '';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${date} ${time}${millis} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
