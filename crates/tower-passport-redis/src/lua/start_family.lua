-- TokenStore::start_family. ARGV[2..]: the family, then its first refresh token, then the access
-- token issued with it. Returns 'ok', 'duplicate-family' or 'duplicate-token'; nothing is
-- written unless it returns 'ok'.
local f = family_args(2)
local r = refresh_args(2 + FAMILY_ARGS)
local a = access_args(2 + FAMILY_ARGS + REFRESH_ARGS)
local fk = key('family', f.id)
if redis.call('EXISTS', fk) == 1 then
  return 'duplicate-family'
end
if not both_free(r, a) then
  return 'duplicate-token'
end
local now_ms = server_ms()
redis.call('HSET', fk, 'record', f.record, 'current', f.current, 'client_id', f.client_id)
set_optional(fk, 'user_id', f.user_id)
set_optional(fk, 'previous', f.previous)
set_optional(fk, 'revoked_at', f.revoked_at)
expire_with(fk, r.expires_at, now_ms)
insert_refresh(r, now_ms)
insert_access(a, now_ms)
return 'ok'
