-- advance.lua: record a new status of an agent and return what was stored before.
--
-- KEYS[1]  session hash of the agent
-- ARGV[1]  sequence number
-- ARGV[2]  capabilities (decimal)
-- ARGV[3]  TTL of the hash in ms (0 = no expiry)
-- ARGV[4 + 2(i-1)], ARGV[5 + 2(i-1)]  field name, field value (binary-safe)
--
-- Writes seq, caps, updated_at (ms since the Unix epoch, Redis clock) and the given fields.
-- Returns { known (1 when the hash existed), previous seq or nil }.
local known = redis.call('EXISTS', KEYS[1])
local prev = redis.call('HGET', KEYS[1], 'seq')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'caps', ARGV[2], 'updated_at', now)
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('PERSIST', KEYS[1])
end
return { known, prev }
