-- DeviceCodeStore::put_device_code. ARGV[2] the device code's hash (hex), [3] the user code's
-- hash (hex), [4] client id, [5] scopes (space-delimited), [6] issued_at, [7] expires_at,
-- [8] interval, [9] a day in seconds, [10] decision, [11] user id?, [12] last poll (ms)?,
-- [13] used_at?. Returns 1; 0 if either hash is stored already (nothing
-- is written then). Both keys go at expires_at on the server's clock (or a day from now if
-- that has passed or lies beyond the year 9999).
local k = key('device', ARGV[2])
local u = key('device-user', ARGV[3])
if redis.call('EXISTS', k) == 1 or redis.call('EXISTS', u) == 1 then
  return 0
end
redis.call('HSET', k, 'user_code', ARGV[3], 'client_id', ARGV[4], 'scopes', ARGV[5], 'issued_at', ARGV[6],
  'expires_at', ARGV[7], 'interval', ARGV[8], 'decision', ARGV[10])
set_optional(k, 'user_id', opt(ARGV[11]))
set_optional(k, 'last_polled_ms', opt(ARGV[12]))
set_optional(k, 'used_at', opt(ARGV[13]))
redis.call('SET', u, ARGV[2])
local at = deadline(ARGV[7], server_ms())
for _, each in ipairs({ k, u }) do
  if at then
    redis.call('EXPIREAT', each, at)
  else
    redis.call('EXPIRE', each, ARGV[9])
  end
end
return 1
