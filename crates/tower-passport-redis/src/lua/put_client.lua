-- ClientStore::put_client. ARGV[2] client id, [3] record (JSON), [4] revoked ('1' or '0'),
-- [5] owner (optional: '' or '=' then the id). Replaces the client whole and keeps the
-- owner index `owner-clients:<owner>` (a set of client ids) in step with it.
local k = key('client', ARGV[2])
local old_owner = redis.call('HGET', k, 'owner')
local owner = opt(ARGV[5])
if old_owner and old_owner ~= owner then
  redis.call('SREM', key('owner-clients', old_owner), ARGV[2])
end
redis.call('HSET', k, 'record', ARGV[3], 'revoked', ARGV[4])
if owner then
  redis.call('HSET', k, 'owner', owner)
  redis.call('SADD', key('owner-clients', owner), ARGV[2])
else
  redis.call('HDEL', k, 'owner')
end
return 1
