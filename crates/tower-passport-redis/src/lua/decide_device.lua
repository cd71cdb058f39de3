-- DeviceCodeStore::decide_device_code, the rule of `device::decide` (store/device.rs) in one
-- script: a request takes one decision, while it is pending and unexpired. ARGV[2] the user
-- code's hash (hex), [3] 'approved' or 'denied', [4] user id?, [5] now. Returns 1 if the
-- decision was recorded, else 0.
local device = redis.call('GET', key('device-user', ARGV[2]))
if not device then
  return 0
end
local k = key('device', device)
local f = redis.call('HMGET', k, 'decision', 'expires_at')
if f[1] ~= 'pending' or tonumber(f[2]) <= tonumber(ARGV[5]) then
  return 0
end
redis.call('HSET', k, 'decision', ARGV[3])
set_optional(k, 'user_id', opt(ARGV[4]))
return 1
