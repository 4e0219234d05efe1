/**
 * A source's request rate as one schedule in Redis (core/queue/shared-rate.ts): requests start at
 * least one interval apart, whichever process makes them, after a lull too, and the processes fall
 * back to their own schedule when Redis cannot answer.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { requestInterval, sharedRequestPace } from '../../../core/queue/shared-rate.js';
import type { RequestPace } from '../../../core/storage/s3-storage.js';
import { mostWithin } from '../../helpers/request-times.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Timers and the way back from Redis: a start may come this much earlier than its reserved moment. */
const JITTER_MS = 8;

/** Runs `count` requests through each pace at once; returns when each started, sorted (ms). */
async function startTimes(
  paces: RequestPace[],
  count: number,
  origin = performance.now(),
): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    paces.flatMap((pace) =>
      Array.from({ length: count }, async () => {
        await pace();
        times.push(performance.now() - origin);
      }),
    ),
  );
  return times.sort((a, b) => a - b);
}

/** The shortest time between two starts. */
const closest = (times: number[]) => Math.min(...times.slice(1).map((t, i) => t - times[i]!));

describe('a source’s request rate shared through Redis', function () {
  this.timeout(20_000);
  const prefix = `test-rate-${randomUUID().slice(0, 8)}`;
  let first: Redis;
  let second: Redis;
  /** A client that never reaches Redis; closed in `after` even when a test times out. */
  let down: Redis | undefined;

  before(async () => {
    // Two connections, as two worker processes would have.
    first = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    second = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    await Promise.all([first.ping(), second.ping()]);
  });
  after(async () => {
    const keys = await first.keys(`${prefix}:*`);
    if (keys.length > 0) await first.del(...keys);
    first.disconnect();
    second.disconnect();
    down?.disconnect();
  });

  it('spaces requests one interval apart: 1000 / requestsPerSecond ms', () => {
    expect(requestInterval(10)).to.equal(100);
    expect(requestInterval(2.5)).to.equal(400);
    expect(requestInterval(0.5)).to.equal(2000);
    expect(() => requestInterval(0)).to.throw(RangeError);
    expect(() => requestInterval(Number.POSITIVE_INFINITY)).to.throw(RangeError);
  });

  it('gives two processes one schedule: 30 requests at 10/s start 100 ms apart, about 2.9 s in all', async () => {
    const opts = { prefix, sourceId: 'edge-a', requestsPerSecond: 10 };
    const times = await startTimes([sharedRequestPace(first, opts), sharedRequestPace(second, opts)], 15);
    expect(times).to.have.length(30);
    // Each process with a schedule of its own would start two requests at a time.
    expect(closest(times)).to.be.at.least(100 - JITTER_MS);
    expect(times.at(-1)! - times[0]!).to.be.at.least(2900 - JITTER_MS);
    expect(mostWithin(times, 1000)).to.be.at.most(11);
  });

  it('lets no burst through after a lull: a request, 850 ms of nothing, then ten at once', async () => {
    const opts = { prefix, sourceId: 'edge-lull', requestsPerSecond: 5 };
    const paces = [sharedRequestPace(first, opts), sharedRequestPace(second, opts)];
    const origin = performance.now();
    const times = await startTimes([paces[0]!], 1, origin);
    await new Promise((r) => setTimeout(r, 850));
    times.push(...(await startTimes(paces, 5, origin)));
    // Fixed windows of one second let 9 of these through within 140 ms (the rest of the first
    // window and all of the next); a schedule keeps them 200 ms apart.
    expect(closest(times)).to.be.at.least(200 - JITTER_MS);
    expect(mostWithin(times, 1000)).to.be.at.most(6);
  });

  it('holds rates below one per second and between whole numbers', async () => {
    const slow = sharedRequestPace(first, { prefix, sourceId: 'edge-slow', requestsPerSecond: 2.5 });
    const times = await startTimes([slow], 4);
    expect(closest(times)).to.be.at.least(400 - JITTER_MS);
  });

  it('falls back to a schedule of its own when Redis cannot answer, instead of waiting for it', async () => {
    // Like the workers' connections: retrying for ever, commands queued until Redis is back.
    down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: null, retryStrategy: () => 200 });
    down.on('error', () => undefined);
    const pace = sharedRequestPace(down, { prefix, sourceId: 'edge-d', requestsPerSecond: 5 });
    const times = await startTimes([pace], 6);
    expect(closest(times)).to.be.at.least(200 - JITTER_MS);
    expect(times.at(-1)!).to.be.below(1000 + 500);
  });

  it('keeps each source’s schedule apart', async () => {
    const a = sharedRequestPace(first, { prefix, sourceId: 'edge-b', requestsPerSecond: 5 });
    const b = sharedRequestPace(second, { prefix, sourceId: 'edge-c', requestsPerSecond: 5 });
    const origin = performance.now();
    const [timesA, timesB] = await Promise.all([startTimes([a], 5, origin), startTimes([b], 5, origin)]);
    // Five each at 5/s take 0.8 s side by side; one schedule for both would take 1.8 s.
    expect(Math.max(timesA.at(-1)!, timesB.at(-1)!)).to.be.below(1300);
    expect(closest(timesA)).to.be.at.least(200 - JITTER_MS);
    expect(closest(timesB)).to.be.at.least(200 - JITTER_MS);
    expect(await first.exists(`${prefix}:rate:edge-b`, `${prefix}:rate:edge-c`)).to.equal(2);
  });
});
