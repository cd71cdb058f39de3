-- DeviceCodeStore::pending_device_code, the read. ARGV[2] the user code's hash (hex). Returns
-- {} for none, or {device hash, user_code, client_id, scopes, issued_at, expires_at, interval,
-- last_polled_ms, decision, user_id, used_at} (absent fields false).
local device = redis.call('GET', key('device-user', ARGV[2]))
if not device then
  return {}
end
local f = redis.call('HMGET', key('device', device), 'user_code', 'client_id', 'scopes', 'issued_at',
  'expires_at', 'interval', 'last_polled_ms', 'decision', 'user_id', 'used_at')
if not f[1] then
  return {}
end
return { device, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10] }
