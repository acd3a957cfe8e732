/**
 * The one round trip before a limited call: a Lua script (atomic in Redis, so two instances
 * cannot both take a key's last request) that checks the key's budgets, then its requests and
 * tokens in the last minute (per-second buckets, as ratelimit/minute-window.ts does locally),
 * and counts the request only when all pass. It always answers with the key's spent totals,
 * which the caller keeps to judge budgets by itself while Redis is away.
 *
 * KEYS: requests buckets, tokens buckets, spent today, spent this month
 * ARGV: now ms, rpm, tpm, tokens_per_day, usd_per_day, tokens_per_month, usd_per_month (-1: none)
 * Reply: { verdict, wait ms, day tokens, day usd, month tokens, month usd }
 *   verdict 0 admitted, 1 over rpm, 2 over tpm, 3 past a budget
 */
export const ADMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local sec = math.floor(now / 1000)
local rpm, tpm = tonumber(ARGV[2]), tonumber(ARGV[3])
local dT = tonumber(redis.call('HGET', KEYS[3], 't') or '0')
local dC = tonumber(redis.call('HGET', KEYS[3], 'c') or '0')
local mT = tonumber(redis.call('HGET', KEYS[4], 't') or '0')
local mC = tonumber(redis.call('HGET', KEYS[4], 'c') or '0')
local function reply(verdict, wait)
  return { verdict, wait, tostring(dT), tostring(dC), tostring(mT), tostring(mC) }
end
local b = { tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]) }
if (b[1] >= 0 and dT >= b[1]) or (b[2] >= 0 and dC >= b[2]) or (b[3] >= 0 and mT >= b[3]) or (b[4] >= 0 and mC >= b[4]) then
  return reply(3, 0)
end
local function window(key)
  local h = redis.call('HGETALL', key)
  local sum, oldest = 0, sec
  for i = 1, #h, 2 do
    local s = tonumber(h[i])
    if sec - s >= 60 then redis.call('HDEL', key, h[i])
    else
      sum = sum + tonumber(h[i + 1])
      if s < oldest then oldest = s end
    end
  end
  return sum, (oldest + 60) * 1000 - now
end
if rpm >= 0 then
  local n, wait = window(KEYS[1])
  if n >= rpm then return reply(1, wait) end
end
if tpm >= 0 then
  local n, wait = window(KEYS[2])
  if n >= tpm then return reply(2, wait) end
end
if rpm >= 0 then
  redis.call('HINCRBY', KEYS[1], sec, 1)
  redis.call('PEXPIRE', KEYS[1], 61000)
end
return reply(0, 0)
`;

/**
 * A stream slot: a sorted set of leases (member → expiry ms). Leases of an instance that died
 * expire; a live instance renews its own (redis-limits.ts).
 * KEYS: the slots; ARGV: now ms, max, member, lease ms. Reply: 1 taken, 0 full.
 */
export const STREAM_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
`;
