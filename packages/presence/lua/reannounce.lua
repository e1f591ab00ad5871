-- reannounce.lua: re-write ownership after a possible data loss, without stealing.
--
-- KEYS[1]  owners hash (field = agent id, value = encoded owner)
-- KEYS[2]  connection epoch counter
-- KEYS[3]  last-seen sorted set (member = agent id, score = ms since the Unix epoch, Redis clock)
-- ARGV[3i - 2], ARGV[3i - 1], ARGV[3i]  agent id, encoded owner, '1' when the connection needs an
--                                       epoch (it has none yet) else '0' (triples)
--
-- For each triple: set when absent, keep when equal; when another owner holds the agent the entry is
-- left alone and reported. An entry set or kept that needs an epoch gets the next one, and its
-- last-seen moves to now (ZADD GT) before that epoch's connection opening can be emitted.
-- Returns a flat array of results, three items each: position of the triple (1-based), then
-- 'conflict' and the encoded current owner, or 'epoch' and the new epoch.

-- #include next_epoch

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #ARGV, 3 do
  local pos = (i + 2) / 3
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur and cur ~= ARGV[i + 1] then
    out[#out + 1] = pos
    out[#out + 1] = 'conflict'
    out[#out + 1] = cur
  else
    if not cur then
      redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
    if ARGV[i + 2] == '1' then
      redis.call('ZADD', KEYS[3], 'GT', now, ARGV[i])
      out[#out + 1] = pos
      out[#out + 1] = 'epoch'
      out[#out + 1] = next_epoch(KEYS[2])
    end
  end
end
return out
