-- TokenStore::put_access_token. ARGV[2..7]: the record. Returns 1, or 0 if the jti is taken.
local a = access_args(2)
if redis.call('EXISTS', key('access', a.jti)) == 1 then
  return 0
end
insert_access(a, server_ms())
return 1
