-- DeviceCodeStore::poll_device_code, the rule of `device::poll` (store/device.rs) in one
-- script, so that of concurrent polls of an approved request exactly one redeems it.
-- ARGV[2] the device code's hash (hex), [3] the polling client's id, [4] now (ms), [5] now
-- (s), [6] the grace (ms), [7] the slow-down step (s). Another client's poll, a redeemed or
-- an expired request change nothing. Otherwise the poll is recorded; one sooner than the
-- interval (less the grace) after the previous one grows the interval and is 'slow_down';
-- an on-time one answers the decision, and an approval is redeemed (used_at). Returns
-- {status} or {'approved', user_code, client_id, scopes, issued_at, expires_at, interval,
-- last_polled_ms, decision, user_id, used_at}.
local k = key('device', ARGV[2])
local f = redis.call('HMGET', k, 'client_id', 'expires_at', 'interval', 'last_polled_ms', 'decision', 'used_at')
if not f[1] or f[1] ~= ARGV[3] then
  return { 'invalid' }
end
if f[6] then
  return { 'used' }
end
local now_ms = tonumber(ARGV[4])
if tonumber(f[2]) <= tonumber(ARGV[5]) then
  return { 'expired' }
end
local interval = tonumber(f[3])
redis.call('HSET', k, 'last_polled_ms', ARGV[4])
if f[4] and now_ms < tonumber(f[4]) + interval * 1000 - tonumber(ARGV[6]) then
  redis.call('HSET', k, 'interval', tostring(interval + tonumber(ARGV[7])))
  return { 'slow_down' }
end
if f[5] == 'pending' then
  return { 'pending' }
end
if f[5] == 'denied' then
  return { 'denied' }
end
redis.call('HSET', k, 'used_at', ARGV[5])
local r = redis.call('HMGET', k, 'user_code', 'client_id', 'scopes', 'issued_at', 'expires_at', 'interval',
  'last_polled_ms', 'decision', 'user_id', 'used_at')
return { 'approved', r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10] }
