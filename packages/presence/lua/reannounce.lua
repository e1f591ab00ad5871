-- reannounce.lua: re-write ownership after a possible data loss, without stealing.
--
-- KEYS[1]  owners hash (field = agent id, value = encoded owner)
-- ARGV[2i - 1], ARGV[2i]  agent id, encoded owner (pairs)
--
-- For each pair: set when absent, keep when equal; when another owner holds the agent the entry is
-- left alone and reported.
-- Returns a flat array of conflicts: agent id, encoded current owner, ...
local conflicts = {}
for i = 1, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  elseif cur ~= ARGV[i + 1] then
    conflicts[#conflicts + 1] = ARGV[i]
    conflicts[#conflicts + 1] = cur
  end
end
return conflicts
