/**
 * How rules write times, durations and limits in their reasons, so every finding reads the same way.
 * Pure.
 */
import { formatWallClock } from '../time/local-time.js';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;

/**
 * An instant in the contract's zone, with its offset and zone name so an officer never has to guess:
 * `2026-11-20 08:30:00 +01:00 (Europe/Amsterdam)`. Milliseconds appear only when there are any.
 */
export function formatTime(instant: Date, zone: string): string {
  return `${formatWallClock(instant, zone, instant.getUTCMilliseconds() !== 0)} (${zone})`;
}

/** A number with at most two decimals and no trailing zeros (`72.5`, `48`, `0.01`). */
export function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** A duration in hours for a reason (`72.5 h`). */
export function formatHoursOf(ms: number): string {
  return `${formatNumber(ms / MS_PER_HOUR)} h`;
}

/** A limit plus its grace, as the finding's threshold (`48 h`, `28 d + 15 min grace`). */
export function formatLimit(amount: number, unit: 'h' | 'd', graceMinutes: number): string {
  const limit = `${formatNumber(amount)} ${unit}`;
  return graceMinutes > 0 ? `${limit} + ${formatNumber(graceMinutes)} min grace` : limit;
}

/** Milliseconds of a limit in hours plus grace minutes. */
export function limitMs(hours: number, graceMinutes: number): number {
  return hours * MS_PER_HOUR + graceMinutes * MS_PER_MINUTE;
}

/** Milliseconds of a number of minutes. */
export function minutesMs(minutes: number): number {
  return minutes * MS_PER_MINUTE;
}

/** A short duration for a reason: minutes below an hour (`7.5 min`), hours above (`2.25 h`). */
export function formatDuration(ms: number): string {
  return ms < MS_PER_HOUR ? `${formatNumber(ms / MS_PER_MINUTE)} min` : formatHoursOf(ms);
}
