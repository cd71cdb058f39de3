-- RevocationStore::set_user_not_before. ARGV[2] the user's id under `not-before`, [3] the
-- instant (Unix ms). A later instant already stored stays.
local k = key('not-before', ARGV[2])
local stored = redis.call('GET', k)
if (not stored) or tonumber(stored) < tonumber(ARGV[3]) then
  redis.call('SET', k, ARGV[3])
end
return 1
