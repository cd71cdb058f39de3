-- TokenStore::user_tokens. ARGV[2] user id, [3] now. Returns {{record, revoked_at, ...}, {record,
-- used_at, revoked_at, ...}}: the user's access tokens and unused refresh tokens still live at
-- `now`, found through the user's indexes, in no particular order (the caller groups them).
local user, now = ARGV[2], tonumber(ARGV[3])
local access, refresh = {}, {}
for _, found in ipairs(indexed(key('user-access', user), 'access', 'record', 'revoked_at', 'expires_at')) do
  local f = found[2]
  if not f[2] and tonumber(f[3]) > now then
    access[#access + 1] = f[1]
    access[#access + 1] = f[2]
  end
end
for _, found in ipairs(indexed(key('user-families', user), 'family', 'current', 'revoked_at')) do
  if not found[2][2] then
    for _, id in ipairs(redis.call('SMEMBERS', key('family-refresh', found[1]))) do
      local f = redis.call('HMGET', key('refresh', id), 'record', 'used_at', 'revoked_at', 'expires_at')
      if f[1] and not f[2] and not f[3] and tonumber(f[4]) > now then
        refresh[#refresh + 1] = f[1]
        refresh[#refresh + 1] = f[2]
        refresh[#refresh + 1] = f[3]
      end
    end
  end
end
return { access, refresh }
