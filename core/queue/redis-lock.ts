/**
 * A lock on one Redis, the pattern Redis documents for a single instance: SET with NX and PX under a
 * random token, released only by its holder (compare and delete in one script), expiring by itself
 * if the holder dies. Not Redlock: the auditor runs on one Redis (or one primary), and what the lock
 * guards here (a few scheduler updates) tolerates the rare overlap a failover can cause.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface RedisLockOptions {
  /** How long the lock lives if its holder never releases it (a crash). */
  ttlMs: number;
  /** How long to wait for a lock another process holds; 0 (the default) gives up at once. */
  waitMs?: number;
  /** How often to try again while waiting. Default 100 ms. */
  pollMs?: number;
}

/**
 * Runs `fn` holding the lock `key` and returns `{ value }` with what it returned; returns null, and
 * runs nothing, when another holder kept the lock for all of `waitMs`. The lock is released when
 * `fn` settles, unless it expired meanwhile and is someone else's by then.
 */
export async function withRedisLock<T>(
  redis: Redis,
  key: string,
  opts: RedisLockOptions,
  fn: () => Promise<T>,
): Promise<{ value: T } | null> {
  const token = randomUUID();
  const deadline = Date.now() + (opts.waitMs ?? 0);
  while ((await redis.set(key, token, 'PX', opts.ttlMs, 'NX')) !== 'OK') {
    if (Date.now() >= deadline) return null;
    await sleep(opts.pollMs ?? 100);
  }
  try {
    return { value: await fn() };
  } finally {
    await redis.eval(RELEASE, 1, key, token);
  }
}
