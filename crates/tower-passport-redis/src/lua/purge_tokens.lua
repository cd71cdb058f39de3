-- PurgeStore::purge, one SCAN batch of access- or refresh-token records (KEYS). ARGV[2] the kind
-- ('access' or 'refresh'), [3] purge revoked ('1'/'0'), [4] purge expired ('1'/'0'),
-- [5] before. Removes each record revoked, or expired, before `before` (deciding on what is
-- stored now, not on what SCAN saw), and its index entries (a refresh token's user index entry
-- is its family's, which goes with the family). Returns how many it removed.
local kind = ARGV[2]
local revoked, expired, before = ARGV[3] == '1', ARGV[4] == '1', tonumber(ARGV[5])
local index = kind == 'access' and 'family-access' or 'family-refresh'
local skip = #prefix + #kind + 1
local removed = 0
for _, k in ipairs(KEYS) do
  local f = redis.call('HMGET', k, 'expires_at', 'revoked_at', 'family_id', 'pat_user', 'user_id')
  if f[1] then
    local old_revocation = revoked and f[2] and tonumber(f[2]) < before
    local gone = expired and tonumber(f[1]) < before
    if old_revocation or gone then
      local id = string.sub(k, skip + 1)
      redis.call('DEL', k)
      if f[3] then
        redis.call('SREM', key(index, f[3]), id)
      end
      if f[4] then
        redis.call('SREM', key('pats', f[4]), id)
      end
      if f[5] and kind == 'access' then
        redis.call('ZREM', key('user-access', f[5]), id)
      end
      removed = removed + 1
    end
  end
end
return removed
