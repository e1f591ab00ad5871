-- claim.lua: make an owner the holder of an agent and return the previous holder.
--
-- KEYS[1]  owners hash (field = agent id, value = encoded owner)
-- ARGV[1]  agent id
-- ARGV[2]  encoded owner
--
-- Returns the previous encoded owner, or nil when the agent had none.
local prev = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return prev
