-- TokenStore::personal_access_tokens. ARGV[2] user id. Returns {record, revoked_at, ...} of the
-- user's personal access tokens that still exist, in no particular order.
local out = {}
for _, jti in ipairs(redis.call('SMEMBERS', key('pats', ARGV[2]))) do
  local f = redis.call('HMGET', key('access', jti), 'record', 'revoked_at')
  if f[1] then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
  end
end
return out
