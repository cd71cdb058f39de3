-- TokenStore::revoke_family. ARGV[2] family id, [3] now. Returns {jti, expires_at, ...}.
return revoke_family(ARGV[2], ARGV[3], server_ms())
