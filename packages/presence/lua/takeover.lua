-- takeover.lua: count takeovers of one agent within a fixed window.
--
-- KEYS[1]  takeover counter of the agent
-- ARGV[1]  window in ms, starting at the first takeover counted
--
-- Returns the number of takeovers in the current window (1 for the first one).
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
