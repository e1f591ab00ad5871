-- release.lua: compare-and-delete; ends an agent's ownership only if this owner still holds it.
--
-- KEYS[1]  owners hash (field = agent id, value = encoded owner)
-- ARGV[1]  agent id
-- ARGV[2]  encoded owner expected to hold the agent
--
-- Returns 1 when the entry was deleted, 0 when another owner (or nobody) holds the agent.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
