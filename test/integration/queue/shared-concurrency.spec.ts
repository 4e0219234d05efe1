/**
 * A source's concurrency split between worker processes through a real Redis: each "process" here is
 * a share on a Redis connection of its own, with a short beat so the test runs in seconds.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { shareOf, sharedConcurrency, type ConcurrencyShare } from '../../../core/queue/shared-concurrency.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BEAT_MS = 100;

/** Starts joining `share`; `joined()` tells whether the join has resolved yet. */
function startJoining(share: ConcurrencyShare): { joined: () => boolean; done: Promise<void> } {
  let joined = false;
  const done = share.join().then(() => {
    joined = true;
  });
  return { joined: () => joined, done };
}

/**
 * Polls `check` every beat until it holds, or fails after `beats` beats with `what`. A process that
 * waits for another's beat sees it in Redis a moment before that other process has read the answer.
 */
async function eventually(check: () => boolean, what: string, beats = 20): Promise<void> {
  for (let i = 0; i < beats; i += 1) {
    if (check()) return;
    await sleep(BEAT_MS);
  }
  expect(check(), what).to.equal(true);
}

describe('a source’s concurrency shared through Redis', () => {
  const prefix = `test-share-${randomUUID().slice(0, 8)}`;
  const connections: Redis[] = [];
  const shares: ConcurrencyShare[] = [];

  /**
   * A "worker process": its own connection (to the test's Redis unless `redis` is given) and share,
   * with what it was told its share is.
   */
  async function worker(
    sourceId: string,
    concurrency: number,
    opts: { inFlight?: () => number; redis?: Redis } = {},
  ) {
    const redis = opts.redis ?? new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(redis);
    if (!opts.redis) await redis.ping();
    const told: number[] = [];
    const errors: string[] = [];
    const share = sharedConcurrency(redis, {
      prefix,
      sourceId,
      concurrency,
      beatMs: BEAT_MS,
      onChange: (n) => told.push(n),
      inFlight: opts.inFlight ?? (() => 0),
      onRedisError: (reason) => errors.push(reason),
    });
    shares.push(share);
    return { redis, share, told, errors };
  }

  afterEach(async () => {
    await Promise.all(shares.splice(0).map((s) => s.close()));
    for (const redis of connections.splice(0)) redis.disconnect();
  });
  after(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('splits a budget evenly, the first joiners taking the remainder, and 0 only for late joiners', () => {
    expect([0, 1].map((rank) => shareOf(5, 2, rank))).to.deep.equal([3, 2]);
    expect([0, 1, 2].map((rank) => shareOf(8, 3, rank))).to.deep.equal([3, 3, 2]);
    expect([0, 1, 2].map((rank) => shareOf(2, 3, rank))).to.deep.equal([1, 1, 0]);
    expect(shareOf(7, 1, 0)).to.equal(7);
    for (let members = 1; members <= 10; members += 1) {
      const shares = Array.from({ length: members }, (_, rank) => shareOf(6, members, rank));
      expect(
        shares.reduce((a, b) => a + b, 0),
        `6 over ${members}`,
      ).to.equal(6);
    }
    expect(() => shareOf(0, 1, 0)).to.throw(RangeError);
    expect(() => shareOf(4, 2, 2)).to.throw(RangeError);
  });

  it('gives a process alone the whole budget at once', async () => {
    const a = await worker('edge-alone', 4);
    const started = Date.now();
    await a.share.join();
    expect(Date.now() - started).to.be.below(BEAT_MS);
    expect(a.share.current).to.equal(4);
    expect(a.errors).to.deep.equal([]);
  });

  it('lets a second process read only once the first has made room, and gives it back when it leaves', async () => {
    const a = await worker('edge-two', 5);
    const b = await worker('edge-two', 5);
    await a.share.join();
    expect(a.share.current).to.equal(5);
    await b.share.join();
    // By the time b may read, a has lowered its limiter (a's beat is answered), never more than 5.
    await eventually(() => a.share.current === 3, 'a lowered its share', 1);
    expect(a.told).to.deep.equal([3]);
    expect(b.share.current).to.equal(2);
    b.share.leave();
    await eventually(() => a.share.current === 5, 'a takes the whole budget back');
    expect(a.told).to.deep.equal([3, 5]);
    expect(a.errors.concat(b.errors)).to.deep.equal([]);
  });

  it('lets a second process read only once the first’s reads in flight fit in its lowered share', async () => {
    let aReading = 5;
    const a = await worker('edge-drain', 5, { inFlight: () => aReading });
    const b = await worker('edge-drain', 5);
    await a.share.join();
    const bJoining = startJoining(b.share);
    await eventually(() => a.share.current === 3, 'a lowers its share');
    await sleep(5 * BEAT_MS);
    expect(bJoining.joined(), 'b waits while a has 5 reads in flight').to.equal(false);
    aReading = 4;
    await sleep(3 * BEAT_MS);
    expect(bJoining.joined(), 'b waits while a has 4 reads in flight').to.equal(false);
    aReading = 3;
    await bJoining.done;
    expect(b.share.current).to.equal(2);
  });

  it('keeps a share while another job of the same process still reads, and a beat after the last', async () => {
    const a = await worker('edge-jobs', 4);
    const b = await worker('edge-jobs', 4);
    await a.share.join();
    await a.share.join();
    a.share.leave();
    await b.share.join();
    await eventually(() => a.share.current === 2, 'a lowered its share', 1);
    expect(b.share.current).to.equal(2);
    a.share.leave();
    // Within the beat after its last job, a job that joins again keeps its place and share.
    await a.share.join();
    await sleep(3 * BEAT_MS);
    expect([a.share.current, b.share.current]).to.deep.equal([2, 2]);
  });

  it('makes a process beyond the budget wait until a reader leaves', async () => {
    const a = await worker('edge-one', 1);
    const b = await worker('edge-one', 1);
    await a.share.join();
    const bJoining = startJoining(b.share);
    await sleep(5 * BEAT_MS);
    expect(bJoining.joined(), 'b waits while a reads').to.equal(false);
    a.share.leave();
    await bJoining.done;
    expect(b.share.current).to.equal(1);
  });

  it('gives a crashed process’s share to the others once its lease lapses', async () => {
    const a = await worker('edge-crash', 2);
    const b = await worker('edge-crash', 2);
    await a.share.join();
    await b.share.join();
    await eventually(() => a.share.current === 1, 'a lowered its share', 1);
    expect(b.share.current).to.equal(1);
    // a's connection dies: it can no longer renew (it keeps its share, as Redis does not answer).
    a.redis.disconnect();
    await eventually(() => b.share.current === 2, 'b takes the whole budget after three missed beats');
    expect(a.errors.length).to.be.greaterThan(0);
  });

  /**
   * Checks every beat, for `beats` beats, that the shares of the processes that may read fit in
   * `budget` (a process still joining reads nothing, whatever its share says).
   */
  async function staysWithin(budget: number, beats: number, ...readers: (() => number)[]): Promise<void> {
    for (let i = 0; i < beats; i += 1) {
      const shares = readers.map((share) => share());
      expect(
        shares.reduce((n, share) => n + share, 0),
        `shares ${shares.join(' + ')} at beat ${i}`,
      ).to.be.at.most(budget);
      await sleep(BEAT_MS);
    }
  }

  it('stops a process whose lease lapsed from reading until it is admitted again, last', async () => {
    const a = await worker('edge-lapse', 1, { inFlight: () => a.share.current });
    const b = await worker('edge-lapse', 1);
    await a.share.join();
    const bJoining = startJoining(b.share);
    // a's link to Redis drops for longer than its lease (or the process pauses): b takes over.
    a.redis.disconnect();
    await bJoining.done;
    await a.redis.connect();
    // a learns at its next beat that its lease is gone: it reads nothing until b makes room.
    await eventually(() => a.share.current === 0, 'a stops reading');
    let aReadable = false;
    void a.share.readable().then(() => (aReadable = true));
    await staysWithin(
      1,
      10,
      () => a.share.current,
      () => b.share.current,
    );
    expect([aReadable, b.share.current]).to.deep.equal([false, 1]);
    b.share.leave();
    await eventually(() => aReadable && a.share.current === 1, 'a reads again once b has left');
  });

  it('admits a later joiner only once the requests a rejoined process sent before its lapse fit in its share', async () => {
    let aInFlight = 2;
    let bInFlight = 0;
    const a = await worker('edge-rejoin', 3, { inFlight: () => aInFlight });
    const b = await worker('edge-rejoin', 3, { inFlight: () => bInFlight });
    const d = await worker('edge-rejoin', 3);
    await a.share.join();
    // a's link drops past its lease: b takes the whole budget and reads with it.
    a.redis.disconnect();
    await b.share.join();
    bInFlight = 3;
    await a.redis.connect();
    // a joins again, behind b, with 2 of its requests from before still in flight; d joins behind a.
    await eventually(() => a.share.current === 0, 'a waits to be admitted again');
    const dJoining = startJoining(d.share);
    await sleep(3 * BEAT_MS);
    // b comes down to its share of three (1): it makes room for a and d.
    bInFlight = 1;
    await eventually(() => a.share.current === 1, 'a is admitted');
    // b 1 + a 2 + d 1 would be 4 of 3: d waits while a's old requests do not fit in a's share.
    await sleep(5 * BEAT_MS);
    expect(dJoining.joined(), 'd waits for a to come down to its share').to.equal(false);
    aInFlight = 1;
    await eventually(() => dJoining.joined() && d.share.current === 1, 'd reads once a has come down');
  });

  it('keeps a joiner behind the process reading after Redis lost the keys (a restart without persistence)', async () => {
    const a = await worker('edge-lost', 1, { inFlight: () => a.share.current });
    const b = await worker('edge-lost', 1);
    await a.share.join();
    const keys = [
      `${prefix}:share:edge-lost`,
      `${prefix}:share:edge-lost:joins`,
      `${prefix}:share:edge-lost:acks`,
    ];
    await a.redis.del(...keys);
    const bJoining = startJoining(b.share);
    // Within a beat, a finds its lease gone and joins again; whoever joined first reads, the other waits.
    await sleep(2 * BEAT_MS);
    const bShare = () => (bJoining.joined() ? b.share.current : 0);
    await staysWithin(1, 10, () => a.share.current, bShare);
    expect(a.share.current + bShare()).to.equal(1);
    expect(bJoining.joined() ? b.share.current : a.share.current).to.equal(1);
  });

  it('does not give a waiting process the whole budget for a blip of its Redis link', async () => {
    const a = await worker('edge-blip', 1, { inFlight: () => a.share.current });
    const b = await worker('edge-blip', 1);
    await a.share.join();
    const bJoining = startJoining(b.share);
    await sleep(3 * BEAT_MS);
    b.redis.disconnect();
    await sleep(BEAT_MS / 2);
    await b.redis.connect();
    await staysWithin(
      1,
      10,
      () => a.share.current,
      () => (bJoining.joined() ? b.share.current : 0),
    );
    expect(bJoining.joined(), 'b still waits while a reads').to.equal(false);
  });

  /** Makes Redis answer no client's writes (its scripts included) for `ms`, connections kept open. */
  async function pauseRedisWrites(ms: number): Promise<void> {
    const admin = new Redis(REDIS_URL);
    connections.push(admin);
    await admin.client('PAUSE', ms, 'WRITE');
  }

  it('keeps its share while Redis does not answer, and lets requests asked for meanwhile go', async () => {
    const a = await worker('edge-silent', 2);
    await a.share.join();
    // For 2 s Redis answers no beat, its connection still ready: each beat gives up after a lease.
    await pauseRedisWrites(2000);
    await sleep(3 * BEAT_MS);
    let released = false;
    void a.share.readable().then(() => (released = true));
    await sleep(6 * BEAT_MS);
    expect([released, a.share.current], 'while Redis is silent').to.deep.equal([true, 2]);
    // The next test starts with a Redis that answers.
    await sleep(2000 - 9 * BEAT_MS);
  });

  it('enters anew when asked to join while it is leaving, instead of taking the stay that ends', async () => {
    const a = await worker('edge-leaving', 1, { inFlight: () => 0 });
    const b = await worker('edge-leaving', 1);
    await a.share.join();
    // a's lease is lost: b takes the budget, and a waits behind it to be admitted again.
    await a.redis.del(`${prefix}:share:edge-leaving`);
    await b.share.join();
    await eventually(() => a.share.current === 0, 'a waits to be admitted again');
    // a's last user leaves; a beat later a starts leaving the set. Redis holds its answers then, so
    // the leaving takes a while, and a new user of a comes meanwhile.
    a.share.leave();
    await sleep(BEAT_MS - 40);
    await pauseRedisWrites(400);
    await sleep(100);
    const joined = startJoining(a.share);
    b.share.leave();
    await joined.done;
    let released = false;
    void a.share.readable().then(() => (released = true));
    await eventually(() => released && a.share.current === 1, 'a reads once b has left');
    expect(await a.redis.zcard(`${prefix}:share:edge-leaving`)).to.equal(1);
  });

  it('never holds two places in the set when Redis answers a join too late for the process to hear', async () => {
    const a = await worker('edge-late', 2);
    const setKey = `${prefix}:share:edge-late`;
    // Redis holds every write for 800 ms: a's join gives up after a lease (300 ms, asked twice at
    // most) and a's next beat joins again, while Redis still holds the first joins. All run once Redis
    // answers again.
    await pauseRedisWrites(800);
    const joining = a.share.join();
    const sizes: number[] = [];
    const watcher = new Redis(REDIS_URL);
    connections.push(watcher);
    for (const end = Date.now() + 1200; Date.now() < end;) {
      sizes.push(await watcher.zcard(setKey));
      await sleep(10);
    }
    await joining;
    expect(a.errors.length, 'the join gave up').to.be.above(0);
    expect(Math.max(...sizes), 'places a holds at once').to.equal(1);
    expect(await watcher.zcard(setKey)).to.equal(1);
  });

  it('falls back to the whole budget when Redis cannot answer on joining', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const { share, errors } = await worker('edge-down', 3, { redis: down });
    await share.join();
    expect(share.current).to.equal(3);
    expect(errors[0]).to.match(/Redis/);
  });
});
