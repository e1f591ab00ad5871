-- claim.lua: make an owner the holder of an agent, return the previous holder and a new connection epoch.
--
-- KEYS[1]  owners hash (field = agent id, value = encoded owner)
-- KEYS[2]  connection epoch counter
-- KEYS[3]  last-seen sorted set (member = agent id, score = ms since the Unix epoch, Redis clock)
-- ARGV[1]  agent id
-- ARGV[2]  encoded owner
--
-- Returns { previous encoded owner or nil, epoch }. Claim and epoch are taken in one step, so the
-- order of epochs is the order of claims. The agent's last-seen moves to now (Redis TIME, ZADD GT:
-- never backwards) in the same step, so it is in Redis before the connection's opening can be
-- emitted, let alone reach Postgres: the sweeper never sees the new connection with an older one.

-- #include next_epoch

local prev = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[3], 'GT', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return { prev, next_epoch(KEYS[2]) }
