-- CodeStore::take_code, the rule of `codes::take` (store/codes.rs) in one script, so that
-- of concurrent takes exactly one finds the code unused. ARGV[2] the code's hash (hex),
-- [3] now. A used code gets `reused_at` (if it has none) and is 'reused', even past its
-- expiry; an unused one is 'invalid' from its expiry on (nothing is written then); otherwise
-- it gets `used_at` and is 'fresh'. Returns {'invalid'}, or {'fresh' or 'reused', record,
-- used_at, reused_at, access_jti?, family_id?} as stored after the take.
local k = key('code', ARGV[2])
local now = ARGV[3]
local f = redis.call('HMGET', k, 'record', 'expires_at', 'used_at', 'reused_at')
if not f[1] then
  return { 'invalid' }
end
local status
if f[3] then
  if not f[4] then
    redis.call('HSET', k, 'reused_at', now)
  end
  status = 'reused'
elseif tonumber(f[2]) <= tonumber(now) then
  return { 'invalid' }
else
  redis.call('HSET', k, 'used_at', now)
  status = 'fresh'
end
local r = redis.call('HMGET', k, 'record', 'used_at', 'reused_at', 'access_jti', 'family_id')
return { status, r[1], r[2], r[3], r[4], r[5] }
