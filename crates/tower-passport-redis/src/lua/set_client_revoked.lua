-- ClientStore::set_client_revoked. ARGV[2] client id, [3] '1' or '0'. Returns 1, or 0 if there is
-- no such client (and then writes nothing).
local k = key('client', ARGV[2])
if redis.call('HEXISTS', k, 'record') == 0 then
  return 0
end
redis.call('HSET', k, 'revoked', ARGV[3])
return 1
