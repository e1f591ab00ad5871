-- advance.lua: record a new status of an agent, keep its plain-HTTP session, and return what was
-- stored before.
--
-- KEYS[1]  session hash of the agent
-- KEYS[2]  connection epoch counter
-- KEYS[3]  last-seen sorted set (member = agent id, score = ms since the Unix epoch, Redis clock)
-- ARGV[1]  sequence number
-- ARGV[2]  capabilities (decimal)
-- ARGV[3]  TTL of the hash in ms (0 = no expiry)
-- ARGV[4]  what the message means for the agent's HTTP session:
--            ''          nothing (left as it is)
--            'ws'        it came over a WebSocket: an HTTP session ends (the WebSocket replaced it)
--            'http'      it came over plain HTTP: the session is kept, or opened under ARGV[5] when
--                        there is none; a sequence number below the stored one (the agent restarted)
--                        ends the session and opens a new one
--            'http_end'  agent_disconnect over plain HTTP: the session ends (none is opened)
-- ARGV[5]  connection id of a session opened by this call ('' unless ARGV[4] is 'http')
-- ARGV[6]  agent id (member of the last-seen set)
-- ARGV[7 + 2(i-1)], ARGV[8 + 2(i-1)]  field name, field value (binary-safe)
--
-- Writes seq, caps, updated_at (ms since the Unix epoch, Redis clock) and the given fields. A call
-- that opens a session also moves the agent's last-seen to now (ZADD GT: never backwards), so it is
-- in Redis before the session's opening can be emitted, let alone reach Postgres.
-- Returns { known (1 when the hash existed), previous seq or nil, previous caps or nil,
--           session connection id or nil, session epoch or nil, 1 when this call opened the session,
--           ended session connection id or nil, ended session epoch or nil }.

-- #include next_epoch

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = redis.call('EXISTS', KEYS[1])
local prev = redis.call('HGET', KEYS[1], 'seq')
local prev_caps = redis.call('HGET', KEYS[1], 'caps')
local conn = redis.call('HGET', KEYS[1], 'http_conn')
local epoch = redis.call('HGET', KEYS[1], 'http_epoch')
local mode = ARGV[4]
local opened = 0
local ended_conn, ended_epoch = false, false
local restarted = mode == 'http' and prev and tonumber(ARGV[1]) < tonumber(prev)
if conn and (mode == 'ws' or mode == 'http_end' or restarted) then
  ended_conn, ended_epoch = conn, epoch
  conn, epoch = false, false
  redis.call('HDEL', KEYS[1], 'http_conn', 'http_epoch')
end
if mode == 'http' and not conn then
  conn = ARGV[5]
  epoch = string.format('%d', next_epoch(KEYS[2]))
  opened = 1
  redis.call('HSET', KEYS[1], 'http_conn', conn, 'http_epoch', epoch)
  redis.call('ZADD', KEYS[3], 'GT', now, ARGV[6])
end

redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'caps', ARGV[2], 'updated_at', now)
for i = 7, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('PERSIST', KEYS[1])
end
return { known, prev, prev_caps, conn, epoch, opened, ended_conn, ended_epoch }
