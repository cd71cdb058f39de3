-- FailureStore::record_failure. ARGV[2] key (a hash the throttle derived), [3] now, [4] one
-- failure forgotten per this many seconds. Mirrors Failures::after: what is left after
-- forgetting one per period since the last failure (none if the clock went back), plus one.
-- The key lives until every failure is forgotten. Returns {count, last}.
local k = key('failures', ARGV[2])
local now = tonumber(ARGV[3])
local every = math.max(tonumber(ARGV[4]), 1)
local f = redis.call('HMGET', k, 'count', 'last')
local count = 1
if f[1] and f[2] then
  local last = tonumber(f[2])
  local forgotten = 0
  if now > last then
    forgotten = math.floor((now - last) / every)
  end
  local remaining = tonumber(f[1]) - forgotten
  if remaining > 0 then
    count = remaining + 1
  end
end
redis.call('HSET', k, 'count', count, 'last', ARGV[3])
redis.call('EXPIRE', k, count * every)
return { count, ARGV[3] }
