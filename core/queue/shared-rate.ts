/**
 * The only code that imports `rate-limiter-flexible`: a source's `requestsPerSecond` as one budget
 * in Redis, shared by every worker process on every machine, so adding workers never multiplies the
 * load on an edge device behind a slow mobile link.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestPace } from '../storage/s3-storage.js';

/**
 * A fixed window of whole seconds and whole requests that never exceeds `requestsPerSecond`:
 * 10/s is 10 per second, 2.5/s is 2 per second, 0.3/s is 1 per 4 seconds (Redis keys expire in
 * whole seconds).
 */
export function rateWindow(requestsPerSecond: number): { points: number; seconds: number } {
  if (!(requestsPerSecond > 0))
    throw new RangeError(`requestsPerSecond must be > 0 (got ${requestsPerSecond})`);
  const seconds = requestsPerSecond >= 1 ? 1 : Math.ceil(1 / requestsPerSecond);
  return { points: Math.max(1, Math.floor(requestsPerSecond * seconds)), seconds };
}

/**
 * The pace of one source's requests (resolves when one more fits the budget), counted in Redis
 * under `<prefix>:rate:<sourceId>`. When Redis cannot answer, the pace falls back to a budget of
 * this process alone (rate-limiter-flexible's insurance limiter) rather than failing the scan's
 * reads.
 */
export function sharedRequestPace(
  redis: Redis,
  opts: { prefix: string; sourceId: string; requestsPerSecond: number },
): RequestPace {
  const { points, seconds } = rateWindow(opts.requestsPerSecond);
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${opts.prefix}:rate`,
    points,
    duration: seconds,
    // Without this a command waits in ioredis's offline queue until Redis is back (the workers'
    // connections retry for ever), and every read of the source with it.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points, duration: seconds }),
  });
  return async () => {
    for (;;) {
      try {
        await limiter.consume(opts.sourceId, 1);
        return;
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        // Spread the waiters a little, so they do not all retry at the window's first millisecond.
        await sleep(rejection.msBeforeNext + Math.floor(Math.random() * 20));
      }
    }
  };
}
