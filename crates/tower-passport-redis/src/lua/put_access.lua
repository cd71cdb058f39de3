-- TokenStore::put_access_token. ARGV[2..9]: the record. Returns 1; 0 if the jti is taken; 2 if
-- the record names a family that is unknown or revoked. Nothing is written unless it returns 1.
local a = access_args(2)
if redis.call('EXISTS', key('access', a.jti)) == 1 then
  return 0
end
if a.family_id and not family_is_live(a.family_id) then
  return 2
end
insert_access(a, server_ms())
return 1
