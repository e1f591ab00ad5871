-- next_epoch.lua: pasted into the scripts that issue connection epochs (see luaSource in src/lua-script.ts).
-- Next connection epoch: strictly increasing while the counter lives. A missing counter (first use,
-- or lost with Redis data) starts at the Redis clock in microseconds, so epochs issued after a data
-- loss stay above those issued before it (unless the Redis clock went back, or more than one epoch
-- per microsecond was issued on average since the counter started).
local function next_epoch(key)
  if redis.call('EXISTS', key) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', key, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  return redis.call('INCR', key)
end
