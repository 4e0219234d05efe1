import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { rateWindow, sharedRequestPace } from '../../../core/queue/shared-rate.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('a source’s request rate shared through Redis', () => {
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

  it('never allows more than requestsPerSecond in a window, rounding down', () => {
    expect(rateWindow(10)).to.deep.equal({ points: 10, seconds: 1 });
    expect(rateWindow(2.5)).to.deep.equal({ points: 2, seconds: 1 });
    expect(rateWindow(0.5)).to.deep.equal({ points: 1, seconds: 2 });
    expect(rateWindow(0.3)).to.deep.equal({ points: 1, seconds: 4 });
    expect(() => rateWindow(0)).to.throw(RangeError);
  });

  it('gives two processes one budget: 30 requests at 10/s take three windows, not two', async () => {
    const opts = { prefix, sourceId: 'edge-a', requestsPerSecond: 10 };
    const paces = [sharedRequestPace(first, opts), sharedRequestPace(second, opts)];
    const passed: number[] = [];
    const start = Date.now();
    await Promise.all(
      paces.flatMap((pace) =>
        Array.from({ length: 15 }, async () => {
          await pace();
          passed.push(Date.now() - start);
        }),
      ),
    );
    expect(passed).to.have.length(30);
    // Ten pass in the first window, ten after one second and ten after two. Each process with a
    // budget of its own would let all 30 through within about one second.
    passed.sort((a, b) => a - b);
    expect(passed[9]!).to.be.below(1000);
    expect(passed[10]!).to.be.at.least(900);
    expect(passed[29]!).to.be.at.least(1900);
  });

  it('falls back to a budget of its own when Redis cannot answer, instead of waiting for it', async () => {
    // Like the workers' connections: retrying for ever, commands queued until Redis is back.
    down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: null, retryStrategy: () => 200 });
    down.on('error', () => undefined);
    const pace = sharedRequestPace(down, { prefix, sourceId: 'edge-d', requestsPerSecond: 3 });
    const start = Date.now();
    const passed = await Promise.all(
      Array.from({ length: 6 }, async () => {
        await pace();
        return Date.now() - start;
      }),
    );
    passed.sort((a, b) => a - b);
    // Three in the first window of the in-memory budget, three in the next.
    expect(passed[2]!).to.be.below(900);
    expect(passed[3]!).to.be.at.least(900);
  });

  it('keeps each source’s budget apart', async () => {
    const a = sharedRequestPace(first, { prefix, sourceId: 'edge-b', requestsPerSecond: 5 });
    const b = sharedRequestPace(second, { prefix, sourceId: 'edge-c', requestsPerSecond: 5 });
    await Promise.all([...Array.from({ length: 5 }, () => a()), ...Array.from({ length: 5 }, () => b())]);
    // Each source counted its own five requests, in a key of its own (read in one round trip with
    // the keys' time to live, so a window that ended meanwhile shows as such, not as a wrong count).
    const counted = await first
      .multi()
      .get(`${prefix}:rate:edge-b`)
      .pttl(`${prefix}:rate:edge-b`)
      .get(`${prefix}:rate:edge-c`)
      .pttl(`${prefix}:rate:edge-c`)
      .exec();
    const [countB, ttlB, countC, ttlC] = counted!.map(([, value]) => value);
    if ((ttlB as number) > 0 && (ttlC as number) > 0) {
      expect([countB, countC]).to.deep.equal(['5', '5']);
    } else {
      // The window expired before the read (a stalled machine): each key then holds at most its own five.
      expect([countB ?? '0', countC ?? '0'].map(Number).every((n) => n <= 5)).to.equal(true);
    }
  });
});
