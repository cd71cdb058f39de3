-- TokenStore::revoke_user_tokens, in one atomic step. ARGV[2] user id, [3] client id?, [4] now.
-- Revokes every live family of the user (of that client), as revoke_family does, then every
-- access token of the user (of that client) expiring after `now` less EXPIRY_MARGIN. Returns {{family_id, ...},
-- {jti, expires_at, ...}}: the families and the access tokens it revoked.
local user, client, now = ARGV[2], opt(ARGV[3]), ARGV[4]
local at = tonumber(now)
local now_ms = server_ms()
local families, revoked = {}, {}
local function of_client(client_id)
  return not client or client_id == client
end
for _, found in ipairs(indexed(key('user-families', user), 'family', 'current', 'revoked_at', 'client_id')) do
  local family_id, f = found[1], found[2]
  if not f[2] and of_client(f[3]) then
    families[#families + 1] = family_id
    append(revoked, revoke_family(family_id, now, now_ms))
  end
end
for _, found in ipairs(indexed(key('user-access', user), 'access', 'expires_at', 'client_id')) do
  local jti, f = found[1], found[2]
  if of_client(f[2]) and tonumber(f[1]) > at - EXPIRY_MARGIN then
    revoke_access_into(revoked, jti, now, now_ms)
  end
end
return { families, revoked }
