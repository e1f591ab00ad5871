-- open-http.lua: open a plain-HTTP session for an agent that polls on after its session ended.
--
-- KEYS[1]  session hash of the agent
-- KEYS[2]  connection epoch counter
-- KEYS[3]  last-seen sorted set (member = agent id, score = ms since the Unix epoch, Redis clock)
-- ARGV[1]  connection id of the session to open
-- ARGV[2]  sequence number the hash must hold (the agent's last poll)
-- ARGV[3]  agent id (member of the last-seen set)
--
-- Opens the session only when the hash holds that seq and no session is open (compare-and-set: a
-- session opened meanwhile, or a newer message of the agent, wins), and moves the agent's last-seen
-- to now (ZADD GT: never backwards), as advance.lua does when it opens one.
-- Returns the epoch of the opened session, or nil when nothing was opened.

-- #include next_epoch

local cur = redis.call('HGET', KEYS[1], 'seq')
if not cur or tonumber(cur) ~= tonumber(ARGV[2]) or redis.call('HEXISTS', KEYS[1], 'http_conn') == 1 then
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = string.format('%d', next_epoch(KEYS[2]))
redis.call('HSET', KEYS[1], 'http_conn', ARGV[1], 'http_epoch', epoch)
redis.call('ZADD', KEYS[3], 'GT', now, ARGV[3])
return epoch
