-- PurgeStore::purge, one SCAN batch of families (KEYS), after the token records were purged.
-- ARGV[2] purge revoked ('1'/'0'), [3] before. Removes a family that has no refresh token
-- left, or that was revoked before `before` (when purging revoked), with its user index entry.
-- Returns how many.
local revoked, before = ARGV[2] == '1', tonumber(ARGV[3])
local skip = #prefix + #'family:'
local removed = 0
for _, k in ipairs(KEYS) do
  local f = redis.call('HMGET', k, 'current', 'revoked_at', 'user_id')
  if f[1] then
    local tokens = key('family-refresh', string.sub(k, skip + 1))
    local has_tokens = false
    for _, id in ipairs(redis.call('SMEMBERS', tokens)) do
      if redis.call('EXISTS', key('refresh', id)) == 1 then
        has_tokens = true
      else
        redis.call('SREM', tokens, id)
      end
    end
    if not has_tokens or (revoked and f[2] and tonumber(f[2]) < before) then
      redis.call('DEL', k)
      if f[3] then
        redis.call('ZREM', key('user-families', f[3]), string.sub(k, skip + 1))
      end
      removed = removed + 1
    end
  end
end
return removed
