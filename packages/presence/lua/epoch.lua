-- epoch.lua: read the data epoch of this Redis, creating it when missing.
--
-- KEYS[1]  epoch key
-- ARGV[1]  candidate epoch, stored when the key is missing
--
-- Returns { epoch, 1 when this call created it else 0 }.
local cur = redis.call('GET', KEYS[1])
if cur then
  return { cur, 0 }
end
redis.call('SET', KEYS[1], ARGV[1])
return { ARGV[1], 1 }
