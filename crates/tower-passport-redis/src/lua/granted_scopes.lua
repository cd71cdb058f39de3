-- TokenStore::granted_scopes. ARGV[2] user id, [3] client id, [4] now. Returns {live, scope, ...}:
-- live '1' when the user holds a token of the client live at `now` (a personal access token
-- too), else '0'; then the union of the scopes of its live non-personal access tokens and
-- unused refresh tokens, each once, in no particular order. The tokens are read here, through
-- the user's indexes; only the union leaves the server, however many tokens hold it.
local user, client, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local live, seen, granted = '0', {}, {}
local function grant(record)
  for _, scope in ipairs(cjson.decode(record).scopes or {}) do
    if not seen[scope] then
      seen[scope] = true
      granted[#granted + 1] = scope
    end
  end
end
local access = indexed(key('user-access', user), 'access', 'record', 'revoked_at', 'expires_at', 'client_id',
  'pat_user')
for _, found in ipairs(access) do
  local f = found[2]
  if f[4] == client and not f[2] and tonumber(f[3]) > now then
    live = '1'
    if not f[5] then
      grant(f[1])
    end
  end
end
for _, found in ipairs(indexed(key('user-families', user), 'family', 'current', 'revoked_at', 'client_id')) do
  local f = found[2]
  if f[3] == client and not f[2] then
    for _, id in ipairs(redis.call('SMEMBERS', key('family-refresh', found[1]))) do
      local r = redis.call('HMGET', key('refresh', id), 'record', 'used_at', 'revoked_at', 'expires_at')
      if r[1] and not r[2] and not r[3] and tonumber(r[4]) > now then
        live = '1'
        grant(r[1])
      end
    end
  end
end
table.insert(granted, 1, live)
return granted
