-- release.lua: compare-and-delete; ends agents' ownership only where the given owner still holds it.
--
-- KEYS[1]  owners hash (field = agent id, value = encoded owner)
-- ARGV     pairs: agent id, encoded owner expected to hold that agent (one pair or many)
--
-- Returns how many entries were deleted; a pair whose agent another owner (or nobody) holds changes
-- nothing.
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
