import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AttemptKey, AttemptOutcome, SharedCounters, WindowHit, WindowSpec } from './counters.js';
import { bucketMs } from './counters.js';
import type { RedisConnection } from './redis.js';

/**
 * A Lua script run by its SHA-1 (EVALSHA), sent in full only when Redis does not know it yet (after a restart or
 * SCRIPT FLUSH). Redis runs a script alone, start to end: that is what makes each operation atomic across nodes.
 */
class Script {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: Redis, keys: string[], args: Array<string | number>): Promise<number[]> {
    try {
      return (await client.evalsha(this.sha, keys.length, ...keys, ...args)) as number[];
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await client.eval(this.lua, keys.length, ...keys, ...args)) as number[];
    }
  }
}

// KEYS[1]: the window's hash, one field per bucket index. ARGV: current bucket, buckets per window, limit, TTL (ms).
// Answers {allowed, count, bucket, hits, bucket, hits, …}.
const HIT_WINDOW = new Script(`
local current = tonumber(ARGV[1])
local oldest = current - tonumber(ARGV[2]) + 1
local fields = redis.call('HGETALL', KEYS[1])
local count, stale, out = 0, {}, {}
local mine = 0
for i = 1, #fields, 2 do
  local bucket, hits = tonumber(fields[i]), tonumber(fields[i + 1])
  if bucket < oldest then
    stale[#stale + 1] = fields[i]
  else
    count = count + hits
    if bucket == current then mine = hits else out[#out + 1] = bucket; out[#out + 1] = hits end
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
local allowed = 0
if count < tonumber(ARGV[3]) then
  mine = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  count = count + 1
  allowed = 1
end
if mine > 0 then out[#out + 1] = current; out[#out + 1] = mine end
return {allowed, count, unpack(out)}
`);

// KEYS: attempt hashes {n, last}. ARGV[1]: now; then per key: free, base, cap, forget. Answers {allowed, wait, n…}.
const BEGIN_ATTEMPT = new Script(`
local now = tonumber(ARGV[1])
local wait, counts = 0, {}
for i = 1, #KEYS do
  local o = 2 + (i - 1) * 4
  local free, base, cap, forget = tonumber(ARGV[o]), tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3])
  local state = redis.call('HMGET', KEYS[i], 'n', 'last')
  local n, last = tonumber(state[1]) or 0, tonumber(state[2]) or 0
  if now - last >= forget then n = 0 end
  counts[i] = n
  if n >= free then
    local delay = math.min(base * math.pow(2, math.min(n - free, 40)), cap)
    wait = math.max(wait, last + delay - now)
  end
end
if wait > 0 then return {0, wait, unpack(counts)} end
for i = 1, #KEYS do
  counts[i] = counts[i] + 1
  redis.call('HSET', KEYS[i], 'n', counts[i], 'last', ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[5 + (i - 1) * 4])
end
return {1, 0, unpack(counts)}
`);

// KEYS: attempt hashes. ARGV[i]: 'reset' or 'one' for KEYS[i].
const FORGIVE_ATTEMPT = new Script(`
for i = 1, #KEYS do
  local n = tonumber(redis.call('HGET', KEYS[i], 'n') or '0')
  if ARGV[i] == 'reset' or n <= 1 then redis.call('DEL', KEYS[i]) else redis.call('HINCRBY', KEYS[i], 'n', -1) end
end
return {}
`);

// KEYS: attempt hashes. ARGV[1]: now; ARGV[1 + i]: forget (ms) of KEYS[i]. Answers the live counts.
const ATTEMPT_COUNTS = new Script(`
local now, out = tonumber(ARGV[1]), {}
for i = 1, #KEYS do
  local state = redis.call('HMGET', KEYS[i], 'n', 'last')
  local n, last = tonumber(state[1]) or 0, tonumber(state[2]) or 0
  if now - last >= tonumber(ARGV[1 + i]) then n = 0 end
  out[i] = n
end
return out
`);

/**
 * Counters in Redis, shared by every node. Keys live under the deployment prefix: `<prefix>rl:w:<key>` (windows),
 * `<prefix>rl:a:<key>` (attempts), `<prefix>rl:f:<key>` (flags). Redis TTLs only collect garbage; whether something
 * has expired is decided against the caller's `now`.
 */
export class RedisCounters implements SharedCounters {
  constructor(private readonly redis: RedisConnection) {}

  async hitWindow(key: string, limit: number, window: WindowSpec, now: number): Promise<WindowHit> {
    const size = bucketMs(window);
    const current = Math.floor(now / size);
    const ttl = Math.ceil(window.windowMs + size);
    const [allowed, count, ...flat] = await HIT_WINDOW.run(this.redis.client, [this.redis.key('rl', 'w', key)], [current, window.buckets, limit, ttl]);
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) buckets.push([flat[i]!, flat[i + 1]!]);
    buckets.sort((a, b) => a[0] - b[0]);
    return { allowed: allowed === 1, count: count ?? 0, buckets };
  }

  async beginAttempt(keys: AttemptKey[], now: number): Promise<AttemptOutcome> {
    if (keys.length === 0) return { allowed: true, waitMs: 0, counts: [] };
    const args: number[] = [now];
    for (const { policy } of keys) args.push(policy.free, policy.baseMs, policy.capMs, policy.forgetMs);
    const [allowed, waitMs, ...counts] = await BEGIN_ATTEMPT.run(this.redis.client, keys.map((k) => this.attemptKey(k.key)), args);
    return { allowed: allowed === 1, waitMs: Math.max(0, waitMs ?? 0), counts };
  }

  async forgiveAttempt(keys: Array<{ key: string; mode: 'reset' | 'one' }>): Promise<void> {
    if (keys.length === 0) return;
    await FORGIVE_ATTEMPT.run(this.redis.client, keys.map((k) => this.attemptKey(k.key)), keys.map((k) => k.mode));
  }

  async attemptCounts(keys: AttemptKey[], now: number): Promise<number[]> {
    if (keys.length === 0) return [];
    return ATTEMPT_COUNTS.run(this.redis.client, keys.map((k) => this.attemptKey(k.key)), [now, ...keys.map((k) => k.policy.forgetMs)]);
  }

  async setFlag(key: string, ttlMs: number, now: number): Promise<void> {
    await this.redis.client.set(this.redis.key('rl', 'f', key), String(now + ttlMs), 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async hasFlag(key: string, now: number): Promise<boolean> {
    const until = await this.redis.client.get(this.redis.key('rl', 'f', key));
    return until !== null && Number(until) > now;
  }

  private attemptKey(key: string): string {
    return this.redis.key('rl', 'a', key);
  }
}
