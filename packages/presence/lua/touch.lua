-- touch.lua: record last-seen for a chunk of agents, scored on the Redis clock.
--
-- KEYS[1]      last-seen sorted set (member = agent id, score = ms since the Unix epoch, Redis clock)
-- KEYS[2]      late last-seen sorted set (same members and scores, only for late touches, see below)
-- KEYS[2 + i]  session hash of the i-th agent (one per agent, in ARGV order)
-- ARGV[1]      session hash TTL in ms, refreshed when a seq is written and the hash's last refresh
--              by this script (field ttl_at, Redis clock) is an eighth of the TTL old or unknown
--              (0 = leave the TTL alone): a live session keeps at least 7/8 of its TTL ahead while
--              its heartbeats skip a PEXPIRE each
-- ARGV[2]      late age in ms: a touch at least this old is also added to the late set
-- ARGV[3 + 4(i-1)] ... ARGV[6 + 4(i-1)]
--              agent id, age in ms (how long ago the gateway saw the agent, >= 0),
--              sequence number or '' when the touch carried none,
--              sequence number the hash must hold for it to be written, or '' (no check)
--
-- score = TIME - age: every writer's timestamps come from this one clock, whatever the gateway's
-- wall clock says. ZADD GT: a score never moves backwards (a late retry cannot rewind a newer one);
-- the chunk's scores go in one ZADD per 1,000 agents. A score lands `age` behind TIME, possibly
-- behind the heartbeat flush's watermark and its re-read window (a gateway whose flushes were held
-- up): the late set lists such touches, and the flush writes and removes them whatever its watermark.
-- The seq is written only into an existing session hash (a hash holding only a seq would look like
-- known state) and only forwards (SessionStore.advance is the authoritative writer of seq).
-- A checked seq is written only when the hash holds exactly the expected seq; if it then holds no
-- plain-HTTP session (ended meanwhile) the check is reported 'ended', otherwise it passes. A hash
-- holding another seq, or none, fails the check as 'stale' and is left alone.
-- Returns the failed checks as a flat list: i, 'ended' | 'stale'.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local late_age = tonumber(ARGV[2])
local refresh_after = math.floor(ttl / 8)
local n = #KEYS - 2
local failed = {}

-- Appends a score and member to `list` (ZADD GT arguments); writes them to `key` once 1,000 are
-- there and returns the list to go on with (a new one then).
local function add(list, key, score, member)
  list[#list + 1] = score
  list[#list + 1] = member
  if #list > 2000 then
    redis.call('ZADD', key, unpack(list))
    return { 'GT' }
  end
  return list
end

local scores = { 'GT' }
local late = { 'GT' }
for i = 1, n do
  local base = 3 + (i - 1) * 4
  local age = tonumber(ARGV[base + 1])
  scores = add(scores, KEYS[1], now - age, ARGV[base])
  if age >= late_age then late = add(late, KEYS[2], now - age, ARGV[base]) end
  local seq = ARGV[base + 2]
  if seq ~= '' then
    local want = ARGV[base + 3]
    local got
    if want == '' then
      got = redis.call('HMGET', KEYS[2 + i], 'seq', 'ttl_at')
    else
      got = redis.call('HMGET', KEYS[2 + i], 'seq', 'ttl_at', 'http_conn')
    end
    local cur, ttl_at, conn = got[1], got[2], got[3]
    local write = cur and tonumber(cur) < tonumber(seq)
    if want ~= '' then
      if not cur or tonumber(cur) ~= tonumber(want) then
        failed[#failed + 1] = i
        failed[#failed + 1] = 'stale'
        write = false
      elseif not conn then
        failed[#failed + 1] = i
        failed[#failed + 1] = 'ended'
      end
    end
    if write then
      if ttl > 0 and (not ttl_at or now - tonumber(ttl_at) >= refresh_after) then
        redis.call('HSET', KEYS[2 + i], 'seq', seq, 'ttl_at', now)
        redis.call('PEXPIRE', KEYS[2 + i], ttl)
      else
        redis.call('HSET', KEYS[2 + i], 'seq', seq)
      end
    end
  end
end
if #scores > 1 then
  redis.call('ZADD', KEYS[1], unpack(scores))
end
if #late > 1 then
  redis.call('ZADD', KEYS[2], unpack(late))
end
return failed
