/**
 * A source's `concurrency` as one budget shared by every worker process that reads the source, as
 * its `requestsPerSecond` is (shared-rate.ts): adding workers must not multiply the reads in flight
 * against an edge device behind a slow mobile link.
 *
 * Not a semaphore in Redis taken per request: that would put a Redis round trip on every GET, and a
 * polling wait whenever the budget is full, which during a scan is always. Instead each process
 * that is reading the source holds a lease in a sorted set and renews it every beat; from the live
 * leases, in the order the processes joined, each computes its own share and sets its in-process
 * limiter to it. Redis is asked once per beat per source, whatever the request rate.
 *
 * A process that joins does not read until every process that joined before it has acknowledged
 * it: lowered its limiter and let its requests in flight drain to the new share. So the requests in
 * flight never exceed the budget, unless Redis is unreachable. A process whose lease lapsed (a long
 * pause, a Redis that lost its keys) stops reading as soon as it learns so and joins again, last.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { callLease, joinNumber, type LeaseAnswer, type LeaseMode } from './share-lease.js';

/**
 * The share of `total` that the member at `rank` (0 = the first to join) of `members` gets: the
 * budget split evenly, the first joiners taking the remainder. With more members than budget, the
 * last joiners get 0, so a member's share does not drop to 0 while it reads: later joiners queue
 * behind it, and when one leaves the ranks only move down (a member that lapsed joins again last).
 */
export function shareOf(total: number, members: number, rank: number): number {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total must be >= 1 (got ${total})`);
  if (rank < 0 || rank >= members) throw new RangeError(`rank ${rank} is not among ${members} members`);
  return Math.floor(total / members) + (rank < total % members ? 1 : 0);
}

/** This process's part of one source's concurrency. */
export interface ConcurrencyShare {
  /** The requests in flight this process may have now; 0 while it waits for a share. */
  readonly current: number;
  /** Resolves once this process may make a request (`current` is at least 1). */
  readable(): Promise<void>;
  /**
   * Counts one more user of the source in this process (the scan's limiter counts each read, queued
   * or in flight). The first joins the lease set and resolves once this process has a share of at
   * least one and the processes already reading have made room for it.
   */
  join(): Promise<void>;
  /** Counts one user less; the last leaves the set after a beat, unless another joins first. */
  leave(): void;
  /** Leaves at once and stops beating. */
  close(): Promise<void>;
}

export interface SharedConcurrencyOptions {
  prefix: string;
  sourceId: string;
  /** The source's `concurrency`: reads in flight across every process. */
  concurrency: number;
  /**
   * Called with the new share whenever it changes (the caller sets its limiter). May be 0: the
   * caller then makes no request until `readable()` resolves.
   */
  onChange: (share: number) => void;
  /** This process's requests to the source in flight now (not those waiting for `readable()`). */
  inFlight: () => number;
  /** Lease renewal interval; a lease lapses after three missed beats. Default 1000 ms. */
  beatMs?: number;
  /**
   * Called when Redis cannot answer: on joining, once it has not answered for a lease's time, this
   * process then takes the whole budget (as the request pace falls back to its own); on a beat, it
   * keeps the share it has.
   */
  onRedisError?: (reason: string) => void;
}

/**
 * The share of one source's `concurrency` for this process, kept in Redis under
 * `<prefix>:share:<sourceId>`. When Redis cannot answer, the process falls back to the whole budget
 * (as the request pace falls back to its own), rather than stopping the scan's reads.
 */
export function sharedConcurrency(redis: Redis, opts: SharedConcurrencyOptions): ConcurrencyShare {
  const key = `${opts.prefix}:share:${opts.sourceId}`;
  const beatMs = opts.beatMs ?? 1000;
  const leaseMs = beatMs * 3;
  const processId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let current = opts.concurrency;
  let users = 0;
  let member: string | null = null;
  /** Between entering (the first join) and exit. */
  let active = false;
  let joining: Promise<void> | null = null;
  /** An admission after the lease was lost, in the background; meanwhile the share is 0. */
  let rejoining: Promise<void> | null = null;
  let beatTimer: NodeJS.Timeout | null = null;
  let leaveTimer: NodeJS.Timeout | null = null;
  let waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  /** When the last beat ended (performance.now()), answered or not. */
  let lastBeat = performance.now();
  /** Counts the times this process entered: work of an earlier stay in the set is dropped. */
  let epoch = 0;
  /**
   * No beat has run for two beats while the process was in the set: its event loop stood still (a
   * pause, a frozen VM), so its lease may have lapsed and another process may hold its share. It
   * makes no request until a beat has asked Redis.
   */
  const stalled = (): boolean => active && performance.now() - lastBeat > 2 * beatMs;

  /** Lets the requests waiting for a share go, if this process may make them. */
  const release = (): void => {
    if (current < 1 || stalled()) return;
    const woken = waiters;
    waiters = [];
    for (const waiter of woken) waiter.resolve();
  };

  const setShare = (share: number): void => {
    if (share === current) return;
    current = share;
    opts.onChange(share);
    release();
  };

  const call = (mode: LeaseMode, name: string, ack = 0): Promise<LeaseAnswer> =>
    callLease(redis, key, mode, name, leaseMs, ack);

  const lastJoin = (answer: LeaseAnswer): number => Math.max(0, ...answer.members.map((m) => m.joined));

  const shareIn = (answer: LeaseAnswer): number => {
    const rank = answer.members.findIndex((m) => m.name === answer.member);
    return rank < 0 ? 0 : shareOf(opts.concurrency, answer.members.length, rank);
  };

  /** A share of at least one, and every member that joined earlier has made room for this one. */
  const mayRead = (answer: LeaseAnswer): boolean => {
    const me = joinNumber(answer.member);
    return shareIn(answer) >= 1 && !answer.members.some((m) => m.joined < me && m.acked < me);
  };

  /** The last join the share in force accounts for, once the requests in flight fit in it. */
  let acked = 0;
  let accountedFor = 0;
  let acking = false;
  // How often a joiner looks whether it may read, and a process that made room whether its requests
  // in flight fit yet: a joiner then waits for the others' next beat and their drain, not two beats.
  const pollMs = Math.max(10, Math.floor(beatMs / 10));

  /** Asks again every poll while Redis does not answer, for up to a lease: a blip is not an outage. */
  const patiently = async (ask: () => Promise<LeaseAnswer>): Promise<LeaseAnswer> => {
    const deadline = Date.now() + leaseMs;
    for (;;) {
      try {
        return await ask();
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        await sleep(pollMs);
      }
    }
  };

  /**
   * Waits, as the member of `answer` (joined just now), until this process may read: meanwhile it
   * makes no request of the source, so it makes room for any later joiner at once. A lease lost
   * meanwhile is taken again, last. Sets the share it may read with.
   */
  const admit = async (answer: LeaseAnswer): Promise<void> => {
    const stay = epoch;
    member = answer.member;
    // Later joiners are acknowledged once this process's requests from before (a lapsed lease's)
    // have drained: it may read nothing meanwhile, but those are still in flight.
    let made = 0;
    while (!mayRead(answer)) {
      await sleep(pollMs);
      if (!active || epoch !== stay) return;
      if (opts.inFlight() === 0) made = lastJoin(answer);
      answer = await patiently(() => call('beat', member!, made));
      if (answer.lapsed) answer = await patiently(() => call('join', processId));
      member = answer.member;
    }
    // The joins since (`made` counts those it made room for while it waited) are acknowledged once
    // this process's requests in flight, some maybe from before a lapse, fit in its share.
    const share = shareIn(answer);
    accountedFor = lastJoin(answer);
    acked = opts.inFlight() <= share ? accountedFor : made;
    setShare(share);
    if (accountedFor > acked) void ackSoon();
  };

  /** Redis did not answer for a lease's time: read with the whole budget rather than not at all. */
  const outage = (error: unknown): void => {
    opts.onRedisError?.((error as Error).message);
    setShare(opts.concurrency);
  };

  /** Acknowledges a new joiner as soon as the requests in flight fit in the lowered share. */
  const ackSoon = async (): Promise<void> => {
    if (acking) return;
    acking = true;
    try {
      while (active && opts.inFlight() > current) await sleep(pollMs);
      // A beat already on its way may carry the acknowledgement from before the drain: send another.
      await beating;
      if (active) await beat();
    } finally {
      acking = false;
    }
  };

  /** The beat in progress: a beat the interval starts and one a stalled request asks for never overlap. */
  let beating: Promise<void> | null = null;
  const beat = (): Promise<void> => {
    beating ??= beatOnce().finally(() => {
      // At the end, not the start: a beat begun after a pause has not yet told whether the lease
      // lapsed, and one that Redis left unanswered for a lease still keeps the share.
      lastBeat = performance.now();
      beating = null;
      release();
    });
    return beating;
  };

  const beatOnce = async (): Promise<void> => {
    if (rejoining) return;
    const stay = epoch;
    try {
      if (opts.inFlight() <= current) acked = accountedFor;
      let answer = member === null ? null : await call('beat', member, acked);
      // Not in the set: joining failed while Redis was down (this process took the whole budget),
      // or the lease lapsed (a pause longer than a lease) or was lost with Redis's keys. Another
      // process may hold this one's share by now: join again, last, and read only once admitted.
      const rejoin = answer === null || answer.lapsed;
      if (rejoin) answer = await call('join', processId);
      if (!active || epoch !== stay) {
        // The process left (and maybe entered again) meanwhile: a member joined here is nobody's.
        if (rejoin) await call('leave', answer!.member).catch(() => undefined);
        return;
      }
      if (rejoin) {
        if (!mayRead(answer!)) setShare(0);
        rejoining = admit(answer!)
          .catch(outage)
          .finally(() => {
            rejoining = null;
          });
        return;
      }
      setShare(shareIn(answer!));
      accountedFor = lastJoin(answer!);
      if (accountedFor > acked) void ackSoon();
    } catch (error) {
      // Keep the share in force: the others keep theirs too, and a lease lost meanwhile is found
      // out at the next beat that Redis answers.
      opts.onRedisError?.((error as Error).message);
    }
  };

  const enter = async (): Promise<void> => {
    active = true;
    epoch += 1;
    try {
      await admit(await patiently(() => call('join', processId)));
    } catch (error) {
      outage(error);
    }
    lastBeat = performance.now();
    beatTimer = setInterval(() => void beat(), beatMs);
    beatTimer.unref();
  };

  /** The exit in progress: a join meanwhile waits for it, then enters anew. */
  let exiting: Promise<void> | null = null;
  const exit = (): Promise<void> => {
    exiting ??= exitOnce().finally(() => {
      exiting = null;
    });
    return exiting;
  };

  const exitOnce = async (): Promise<void> => {
    active = false;
    // At once: a join from now on must enter again, not take the stay that is ending for its own.
    joining = null;
    if (beatTimer) clearInterval(beatTimer);
    beatTimer = null;
    await rejoining;
    const name = member;
    member = null;
    if (name === null) return;
    try {
      await call('leave', name);
    } catch {
      // The lease lapses by itself within three beats.
    }
  };

  return {
    get current() {
      return current;
    },
    readable() {
      if (current >= 1 && !stalled()) return Promise.resolve();
      if (stalled()) void beat();
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async join() {
      users += 1;
      if (leaveTimer) {
        clearTimeout(leaveTimer);
        leaveTimer = null;
      }
      while (exiting) await exiting;
      joining ??= enter();
      await joining;
    },
    leave() {
      users = Math.max(0, users - 1);
      if (users > 0 || leaveTimer) return;
      // Stay a beat, so a pause between pages, or the next shard this process is handed, does not
      // queue it behind the others again.
      leaveTimer = setTimeout(() => {
        leaveTimer = null;
        if (users === 0) void exit();
      }, beatMs);
      leaveTimer.unref();
    },
    async close() {
      if (leaveTimer) clearTimeout(leaveTimer);
      leaveTimer = null;
      users = 0;
      await joining?.catch(() => undefined);
      await exit();
      // Requests still waiting for a share will not get one from this process any more.
      const stranded = waiters;
      waiters = [];
      for (const waiter of stranded) waiter.reject(new Error(`the share of ${opts.sourceId} was closed`));
    },
  };
}
