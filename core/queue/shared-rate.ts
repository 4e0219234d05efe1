/**
 * A source's `requestsPerSecond` as one schedule in Redis, shared by every worker process on every
 * machine, so adding workers never multiplies the load on an edge device behind a slow mobile link.
 *
 * GCRA ("virtual scheduling"): each request reserves the next free moment of the source's schedule,
 * one interval (1 / requestsPerSecond) after the one before, and waits until then. Requests start at
 * least one interval apart, so any second holds at most requestsPerSecond + 1 of them, after a lull
 * too. Fixed windows (rate-limiter-flexible's Redis limiter counts whole seconds) let the rest of one
 * window and the whole next one through back to back: up to twice the rate within one second.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { RequestPace } from '../storage/s3-storage.js';
import { within } from './connection.js';

// The time comes from Redis, so workers on several machines share one clock. KEYS[1]: the moment
// (ms, Redis clock) from which the next request may start. ARGV[1]: the interval in ms. Returns the
// wait in ms as text (Redis would cut a Lua number to an integer).
const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at < now then at = now end
redis.call('SET', KEYS[1], string.format('%.3f', at + interval), 'PX', math.ceil(at + interval - now) + 60000)
return string.format('%.3f', at - now)
`;

/** How long a reservation may take before the pace falls back to this process's own schedule. */
const REDIS_ANSWER_MS = 2000;

/** The interval between two requests' starts, in ms. */
export function requestInterval(requestsPerSecond: number): number {
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond))
    throw new RangeError(`requestsPerSecond must be > 0 (got ${requestsPerSecond})`);
  return 1000 / requestsPerSecond;
}

/** The same schedule in this process alone: the next moment a request may start (performance.now()). */
function localSchedule(intervalMs: number): () => number {
  let next = 0;
  return () => {
    const now = performance.now();
    const at = Math.max(next, now);
    next = at + intervalMs;
    return at - now;
  };
}

/**
 * The pace of one source's requests (resolves when the request may start), scheduled in Redis under
 * `<prefix>:rate:<sourceId>`. When Redis cannot answer, the pace falls back to a schedule of this
 * process alone rather than failing, or holding up, the scan's reads.
 */
export function sharedRequestPace(
  redis: Redis,
  opts: { prefix: string; sourceId: string; requestsPerSecond: number },
): RequestPace {
  const interval = requestInterval(opts.requestsPerSecond);
  const key = `${opts.prefix}:rate:${opts.sourceId}`;
  const local = localSchedule(interval);
  const reserve = async (): Promise<number> => {
    // A command to a Redis that is down would wait in ioredis's offline queue until it is back.
    if (redis.status !== 'ready') return local();
    try {
      const answer = await within(
        redis.eval(RESERVE_SCRIPT, 1, key, String(interval)),
        REDIS_ANSWER_MS,
        'Redis',
      );
      return Number(answer);
    } catch {
      return local();
    }
  };
  return async () => {
    const wait = await reserve();
    if (wait > 0) await sleep(wait);
  };
}
