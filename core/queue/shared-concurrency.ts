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
 * it: lowered its limiter and let its reads in flight drain to the new share. So the reads in flight
 * never exceed the budget, unless Redis is unreachable or a paused process's lease lapses.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { within } from './connection.js';

/**
 * The share of `total` that the member at `rank` (0 = the first to join) of `members` gets: the
 * budget split evenly, the first joiners taking the remainder. With more members than budget, the
 * last joiners get 0, so a member's share never drops to 0 while it reads: later joiners queue
 * behind it, and when one leaves the ranks only move down.
 */
export function shareOf(total: number, members: number, rank: number): number {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total must be >= 1 (got ${total})`);
  if (rank < 0 || rank >= members) throw new RangeError(`rank ${rank} is not among ${members} members`);
  return Math.floor(total / members) + (rank < total % members ? 1 : 0);
}

/** This process's part of one source's concurrency. */
export interface ConcurrencyShare {
  /** The reads in flight this process may have now. */
  readonly current: number;
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
  /** Called with the new share whenever it changes (the caller sets its limiter). */
  onChange: (share: number) => void;
  /** This process's reads of the source in flight now (the limiter's active count). */
  inFlight: () => number;
  /** Lease renewal interval; a lease lapses after three missed beats. Default 1000 ms. */
  beatMs?: number;
  /**
   * Called when Redis cannot answer: on joining, this process then takes the whole budget (as the
   * request pace does); on a beat, it keeps the share it has.
   */
  onRedisError?: (reason: string) => void;
}

// Times come from Redis, not from each machine's clock, so workers on several machines agree; the
// join order from a counter, so two joins in one millisecond are still ordered.
// KEYS: the lease set (member -> expiry), the join counter, the acknowledgements (member -> the last
// join number it made room for). ARGV: mode ('join' | 'beat' | 'leave'), member or process id,
// lease ms, acknowledgement. Returns the member (a new one on 'join'), the live members with their
// acknowledgements.
const LEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #lapsed > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('HDEL', KEYS[3], unpack(lapsed))
end
local member = ARGV[2]
if ARGV[1] == 'leave' then
  redis.call('ZREM', KEYS[1], member)
  redis.call('HDEL', KEYS[3], member)
  return {member, {}}
end
if ARGV[1] == 'join' then
  member = string.format('%015d', redis.call('INCR', KEYS[2])) .. ':' .. member
end
redis.call('ZADD', KEYS[1], now + lease, member)
redis.call('HSET', KEYS[3], member, ARGV[4])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], lease * 2) end
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local answer = {}
for i, name in ipairs(members) do
  answer[2 * i - 1] = name
  answer[2 * i] = redis.call('HGET', KEYS[3], name) or '0'
end
return {member, answer}
`;

interface Member {
  name: string;
  /** Its join number: the order of joining. */
  joined: number;
  /** The last join number it made room for. */
  acked: number;
}

interface LeaseAnswer {
  member: string;
  /** Live members in join order. */
  members: Member[];
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
  let joining: Promise<void> | null = null;
  let beatTimer: NodeJS.Timeout | null = null;
  let leaveTimer: NodeJS.Timeout | null = null;

  const setShare = (share: number): void => {
    if (share === current || share < 1) return;
    current = share;
    opts.onChange(share);
  };

  const call = async (mode: 'join' | 'beat' | 'leave', name: string, ack = 0): Promise<LeaseAnswer> => {
    // Commands to a Redis that is down wait in ioredis's offline queue for ever: do not send them.
    // ('connect' is up, its ready check still running.)
    if (redis.status !== 'ready' && redis.status !== 'connect') throw new Error(`Redis is ${redis.status}`);
    const keys = [key, `${key}:joins`, `${key}:acks`];
    const answer = (await within(
      redis.eval(LEASE_SCRIPT, keys.length, ...keys, mode, name, String(leaseMs), String(ack)),
      leaseMs,
      'Redis',
    )) as [string, string[]];
    const [newMember, flat] = answer;
    const members: Member[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i]!;
      members.push({ name, joined: Number(name.slice(0, name.indexOf(':'))), acked: Number(flat[i + 1]) });
    }
    members.sort((a, b) => a.joined - b.joined);
    return { member: newMember, members };
  };

  const lastJoin = (answer: LeaseAnswer): number => Math.max(0, ...answer.members.map((m) => m.joined));

  const shareIn = (answer: LeaseAnswer): number => {
    const rank = answer.members.findIndex((m) => m.name === answer.member);
    return rank < 0 ? 0 : shareOf(opts.concurrency, answer.members.length, rank);
  };

  /** The last join the share in force accounts for, once the reads in flight fit in it. */
  let acked = 0;
  let accountedFor = 0;
  let acking = false;
  // How often a joiner looks whether it may read, and a process that made room whether its reads
  // in flight fit yet: a joiner then waits for the others' next beat and their drain, not two beats.
  const pollMs = Math.max(10, Math.floor(beatMs / 10));

  /** Acknowledges a new joiner as soon as the reads in flight fit in the lowered share. */
  const ackSoon = async (): Promise<void> => {
    if (acking) return;
    acking = true;
    try {
      while (beatTimer !== null && opts.inFlight() > current) await sleep(pollMs);
      if (beatTimer !== null) await beat();
    } finally {
      acking = false;
    }
  };

  const beat = async (): Promise<void> => {
    try {
      if (opts.inFlight() <= current) acked = accountedFor;
      // Not in the set when joining failed (Redis was down): join now, without waiting. A lease
      // that lapsed (a long pause) is added again under its old name, so it keeps its place.
      const answer = member === null ? await call('join', processId) : await call('beat', member, acked);
      if (beatTimer === null) return; // left meanwhile
      member = answer.member;
      // Never 0 once reading: later joiners rank behind (see shareOf).
      setShare(Math.max(1, shareIn(answer)));
      accountedFor = lastJoin(answer);
      if (accountedFor > acked) void ackSoon();
    } catch (error) {
      opts.onRedisError?.((error as Error).message);
    }
  };

  const enter = async (): Promise<void> => {
    try {
      let answer = await call('join', processId);
      member = answer.member;
      const me = answer.members.find((m) => m.name === member)?.joined ?? 0;
      // Wait for a share, and for every earlier member to have made room for us. Meanwhile this
      // process reads nothing of the source, so it makes room for any later joiner at once.
      while (shareIn(answer) < 1 || answer.members.some((m) => m.joined < me && m.acked < me)) {
        await sleep(pollMs);
        answer = await call('beat', member, lastJoin(answer));
      }
      setShare(shareIn(answer));
      acked = accountedFor = lastJoin(answer);
    } catch (error) {
      opts.onRedisError?.((error as Error).message);
      setShare(opts.concurrency);
    }
    beatTimer = setInterval(() => void beat(), beatMs);
    beatTimer.unref();
  };

  const exit = async (): Promise<void> => {
    if (beatTimer) clearInterval(beatTimer);
    beatTimer = null;
    const name = member;
    member = null;
    joining = null;
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
    async join() {
      users += 1;
      if (leaveTimer) {
        clearTimeout(leaveTimer);
        leaveTimer = null;
      }
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
    },
  };
}
