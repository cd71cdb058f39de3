-- CodeStore::put_code. ARGV[2] the code's hash (hex), [3] record JSON, [4] expires_at,
-- [5] keep_until (expires_at and the day a record is kept past it), [6] the day in seconds,
-- [7] used_at?, [8] reused_at?, [9] issued access jti?, [10] issued family?. Returns 1; 0 if
-- a code with this hash is stored already (nothing is written then).
--
-- The key goes at keep_until on the server's clock; if that has passed already (or lies
-- beyond the year 9999), a day from now instead: a code's key always expires.
local k = key('code', ARGV[2])
if redis.call('EXISTS', k) == 1 then
  return 0
end
redis.call('HSET', k, 'record', ARGV[3], 'expires_at', ARGV[4])
set_optional(k, 'used_at', opt(ARGV[7]))
set_optional(k, 'reused_at', opt(ARGV[8]))
set_optional(k, 'access_jti', opt(ARGV[9]))
set_optional(k, 'family_id', opt(ARGV[10]))
local at = deadline(ARGV[5], server_ms())
if at then
  redis.call('EXPIREAT', k, at)
else
  redis.call('EXPIRE', k, ARGV[6])
end
return 1
