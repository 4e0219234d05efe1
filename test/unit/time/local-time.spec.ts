import { expect } from 'chai';
import { DateTime } from 'luxon';
import { formatWallClock, resolveLocalTime, zoneOffsetMinutes } from '../../../core/time/local-time.js';

/**
 * The cached zone maths against luxon itself, minute by minute across the days where the clocks
 * change: the caches (per wall-clock hour, per UTC hour) must never answer what luxon would not.
 */
// Amsterdam (the contract's zone), a 30-minute DST shift (Lord Howe), a two-hour one (Troll), a zone
// moving from :30 to :45 (Kathmandu, 1986), a negative :30 zone with DST, and the southern hemisphere.
const ZONES: { zone: string; year: number }[] = [
  { zone: 'Europe/Amsterdam', year: 2026 },
  { zone: 'Australia/Lord_Howe', year: 2026 },
  { zone: 'Antarctica/Troll', year: 2026 },
  { zone: 'Asia/Kathmandu', year: 1985 },
  { zone: 'America/St_Johns', year: 2026 },
  { zone: 'Australia/Sydney', year: 2026 },
];

/** Every minute from `from` for `hours` hours, as UTC instants. */
function minutes(from: string, hours: number): Date[] {
  const start = Date.parse(from);
  return Array.from({ length: hours * 60 }, (_, i) => new Date(start + i * 60_000 + 7_000));
}

/** The days before each of the zone's transitions in `year` (or on its last day), found from luxon's offsets. */
function transitionDays(zone: string, year: number): string[] {
  const days: string[] = [];
  const start = DateTime.fromObject({ year, month: 1, day: 1 }, { zone: 'utc' });
  let previous = start.setZone(zone).offset;
  for (let day = 1; day <= 366; day += 1) {
    const at = start.plus({ days: day });
    const offset = at.setZone(zone).offset;
    if (offset !== previous) days.push(at.minus({ days: 1 }).toISO()!);
    previous = offset;
  }
  return days;
}

describe('zone maths, cached, against luxon', () => {
  for (const { zone, year } of ZONES) {
    it(`formats every minute around ${zone}'s transitions as luxon does`, () => {
      const days = transitionDays(zone, year);
      expect(days.length, `${zone} changes its clocks in ${year}`).to.be.greaterThan(0);
      for (const day of days) {
        for (const instant of minutes(day, 48)) {
          const expected = DateTime.fromJSDate(instant, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
          expect(formatWallClock(instant, zone), instant.toISOString()).to.equal(expected);
          expect(zoneOffsetMinutes(instant, zone)).to.equal(DateTime.fromJSDate(instant, { zone }).offset);
        }
      }
    });

    it(`resolves every wall-clock minute around ${zone}'s transitions to a time with that wall clock`, () => {
      const days = transitionDays(zone, year);
      expect(days.length, `${zone} changes its clocks in ${year}`).to.be.greaterThan(0);
      for (const day of days) {
        // Wall clocks read off a plain calendar, so the minutes of a spring gap are asked for too.
        const calendar = DateTime.fromISO(day, { zone: 'utc' }).startOf('day');
        for (let m = 0; m < 48 * 60; m += 1) {
          const wall = calendar.plus({ minutes: m });
          const parts = {
            year: wall.year,
            month: wall.month,
            day: wall.day,
            hour: wall.hour,
            minute: wall.minute,
            second: 42,
          };
          const resolved = resolveLocalTime(parts, zone)!;
          const back = DateTime.fromJSDate(resolved.instant, { zone });
          const label = `${zone} ${JSON.stringify(parts)} -> ${resolved.instant.toISOString()}`;
          if (resolved.resolution === 'spring-gap') {
            // Read at the offset in force before the gap (half a day earlier, months from any other change).
            const wallAsUtc = wall.set({ second: 42 }).toMillis();
            const before = DateTime.fromMillis(wallAsUtc - 12 * 3_600_000, { zone }).offset;
            expect(resolved.instant.getTime(), label).to.equal(wallAsUtc - before * 60_000);
            continue;
          }
          expect([back.year, back.month, back.day, back.hour, back.minute, back.second], label).to.deep.equal(
            [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second],
          );
          if (resolved.resolution === 'autumn-repeat') {
            // The earlier of the two instants with this wall clock.
            const later = DateTime.fromObject(parts, { zone });
            expect(resolved.instant.getTime(), label).to.be.lessThan(later.toMillis());
          } else {
            const later = DateTime.fromObject(parts, { zone });
            expect(resolved.instant.getTime(), label).to.equal(later.toMillis());
            // No earlier instant shows this wall clock: a repeat taken for an exact time would.
            for (const minutesBack of [30, 60, 120]) {
              const earlier = later.minus({ minutes: minutesBack });
              expect(
                earlier.toFormat('yyyy-MM-dd HH:mm:ss'),
                `${label}: the same wall clock ${minutesBack} minutes earlier`,
              ).to.not.equal(later.toFormat('yyyy-MM-dd HH:mm:ss'));
            }
          }
        }
      }
    });
  }

  it('writes milliseconds only when asked', () => {
    const instant = new Date('2026-11-20T07:30:00.250Z');
    expect(formatWallClock(instant, 'Europe/Amsterdam')).to.equal('2026-11-20 08:30:00 +01:00');
    expect(formatWallClock(instant, 'Europe/Amsterdam', true)).to.equal('2026-11-20 08:30:00.250 +01:00');
  });

  it('falls back to luxon for a historical offset with seconds (local mean time)', () => {
    const instant = new Date('1930-06-01T12:00:00Z');
    const expected = DateTime.fromJSDate(instant, { zone: 'Europe/Amsterdam' }).toFormat(
      'yyyy-MM-dd HH:mm:ss ZZ',
    );
    expect(formatWallClock(instant, 'Europe/Amsterdam')).to.equal(expected);
  });
});
