/** Counting over times at which requests started or arrived (ms), for the rate tests. */

/** The most of `times` (sorted, ms) within any window of `ms`. */
export function mostWithin(times: number[], ms: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i += 1) {
    while (times[i]! - times[j]! >= ms) j += 1;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
