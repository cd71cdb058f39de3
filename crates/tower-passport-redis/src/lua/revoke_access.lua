-- TokenStore::revoke_access_token. ARGV[2] jti, [3] now. Returns {record, revoked_at} of the
-- record after the revocation (both nil if there is none).
local jti, now = ARGV[2], ARGV[3]
revoke_access(jti, now, server_ms())
return redis.call('HMGET', key('access', jti), 'record', 'revoked_at')
