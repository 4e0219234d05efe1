/** Durations of `every` schedules (`30s`, `30m`, `1h`, `1d`), as the config writes them. */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The form of an `every` duration: a whole number and a unit. */
export const EVERY_PATTERN = /^(\d+)\s*([smhd])$/;

/** `30m` -> 1 800 000 ms. @throws Error when `every` is not of {@link EVERY_PATTERN}'s form. */
export function everyToMs(every: string): number {
  const match = EVERY_PATTERN.exec(every);
  if (!match) throw new Error(`not a duration: ${every}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
