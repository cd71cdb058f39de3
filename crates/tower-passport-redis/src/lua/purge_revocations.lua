-- PurgeStore::purge, one SCAN batch of revocation-list entries (KEYS). ARGV[2] before. Removes
-- each entry whose token expired before `before`. Returns how many.
local before = tonumber(ARGV[2])
local removed = 0
for _, k in ipairs(KEYS) do
  local exp = redis.call('GET', k)
  if exp and tonumber(exp) < before then
    redis.call('DEL', k)
    removed = removed + 1
  end
end
return removed
