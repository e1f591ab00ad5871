-- remove-if-unchanged.lua: the second half of two-phase expiry; removes last-seen entries the
-- sweeper acted on, but only those nobody touched since it read them.
--
-- KEYS[1]  last-seen sorted set (member = agent id, score = last-seen ms, Redis clock)
-- ARGV[2i - 1], ARGV[2i]  agent id, the score the sweeper read (pairs)
--
-- An entry whose score moved (a heartbeat or a re-announce after the read) stays: it is not expired
-- any more, and removing it would lose that heartbeat. A missing entry is left missing.
-- Returns the number of entries removed.
local removed = 0
for i = 1, #ARGV, 2 do
  local cur = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if cur and tonumber(cur) == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
