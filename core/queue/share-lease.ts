/**
 * The lease set behind shared-concurrency.ts: one Redis script that joins, renews and leaves
 * members of a source's set of reading processes, and answers with the live members in join order.
 */
import type { Redis } from 'ioredis';
import { within } from './connection.js';

// Times come from Redis, not from each machine's clock, so workers on several machines agree; the
// join order from a counter, so two joins in one millisecond are still ordered.
// KEYS: the lease set (member -> expiry), the join counter, the acknowledgements (member -> the last
// join number it made room for). ARGV: mode ('join' | 'beat' | 'leave'), member or process id,
// lease ms, acknowledgement. Returns the member (a new one on 'join'), the live members with their
// acknowledgements, and 1 when a beating member is no longer in the set (its lease lapsed, or the
// keys were lost): it is not added again under its old place, but must join anew, last. The join
// counter never expires, so a joiner after lost leases still ranks behind those that rejoin. A join
// takes the process's earlier member out of the set: one whose join Redis answered too late for the
// process to hear (it had given up and asked again) would hold a share nobody uses, and hold up every
// later joiner, whose admission waits for it, until its lease lapsed.
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
  for _, name in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if string.sub(name, 17) == member then
      redis.call('ZREM', KEYS[1], name)
      redis.call('HDEL', KEYS[3], name)
    end
  end
  member = string.format('%015d', redis.call('INCR', KEYS[2])) .. ':' .. member
elseif not redis.call('ZSCORE', KEYS[1], member) then
  return {member, {}, 1}
end
redis.call('ZADD', KEYS[1], now + lease, member)
redis.call('HSET', KEYS[3], member, ARGV[4])
redis.call('PEXPIRE', KEYS[1], lease * 2)
redis.call('PEXPIRE', KEYS[3], lease * 2)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local answer = {}
for i, name in ipairs(members) do
  answer[2 * i - 1] = name
  answer[2 * i] = redis.call('HGET', KEYS[3], name) or '0'
end
return {member, answer, 0}
`;

export interface Member {
  name: string;
  /** Its join number: the order of joining. */
  joined: number;
  /** The last join number it made room for. */
  acked: number;
}

/** A member's join number: the order of joining (its name starts with it). */
export const joinNumber = (name: string): number => Number(name.slice(0, name.indexOf(':')));

export interface LeaseAnswer {
  member: string;
  /** Live members in join order. */
  members: Member[];
  /** The beating member is no longer in the set: it must join again. */
  lapsed: boolean;
}

/** What is asked of the lease set: enter it (a new member, last), renew a lease, or leave. */
export type LeaseMode = 'join' | 'beat' | 'leave';

/**
 * Runs the lease script on the set `key` (with its `:joins` counter and `:acks` hash): as `name` (the
 * member, or the process id on 'join'), with leases of `leaseMs` and acknowledging join `ack`. Throws
 * when Redis is not connected (ioredis would hold the command for ever) or does not answer within a
 * lease.
 */
export async function callLease(
  redis: Redis,
  key: string,
  mode: LeaseMode,
  name: string,
  leaseMs: number,
  ack = 0,
): Promise<LeaseAnswer> {
  // Commands to a Redis that is down wait in ioredis's offline queue for ever: do not send them.
  // ('connect' is up, its ready check still running.)
  if (redis.status !== 'ready' && redis.status !== 'connect') throw new Error(`Redis is ${redis.status}`);
  const keys = [key, `${key}:joins`, `${key}:acks`];
  const answer = (await within(
    redis.eval(LEASE_SCRIPT, keys.length, ...keys, mode, name, String(leaseMs), String(ack)),
    leaseMs,
    'Redis',
  )) as [string, string[], number];
  const [newMember, flat, lapsed] = answer;
  const members: Member[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const member = flat[i]!;
    members.push({ name: member, joined: joinNumber(member), acked: Number(flat[i + 1]) });
  }
  members.sort((a, b) => a.joined - b.joined);
  return { member: newMember, members, lapsed: Number(lapsed) === 1 };
}
