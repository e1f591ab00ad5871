-- late-done.lua: removes entries of the late last-seen set that the heartbeat flush has written.
--
-- KEYS[1]  late last-seen sorted set (see touch.lua)
-- ARGV     member, score pairs: the entries the flush read and wrote
--
-- An entry goes only while its score is not above the one written: a late touch a gateway added
-- since the flush read the set stays for the next run. Returns the number of entries removed.
local removed = 0
for i = 1, #ARGV, 2 do
  local current = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if current and tonumber(current) <= tonumber(ARGV[i + 1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
