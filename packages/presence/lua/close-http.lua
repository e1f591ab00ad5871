-- close-http.lua: compare-and-delete of an agent's plain-HTTP session.
--
-- KEYS[1]  session hash of the agent
-- ARGV[1]  connection id of the session expected to be open
--
-- Ends the session only if it is still the one named (a newer session is left alone); the rest of
-- the agent's state stays.
-- Returns the epoch of the ended session, or nil when another session (or none) is open.
if redis.call('HGET', KEYS[1], 'http_conn') ~= ARGV[1] then
  return false
end
local epoch = redis.call('HGET', KEYS[1], 'http_epoch')
redis.call('HDEL', KEYS[1], 'http_conn', 'http_epoch')
return epoch
