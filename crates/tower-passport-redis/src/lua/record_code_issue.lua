-- CodeStore::record_code_issue. ARGV[2] the code's hash (hex), [3] the issued access jti,
-- [4] the issued family?. Records what the exchange issued and answers, in the same step,
-- whether the code was presented again since it was taken: 1 if it was (`reused_at` is
-- set), 0 if not, and 0 for an unknown code (nothing is written then).
local k = key('code', ARGV[2])
if redis.call('EXISTS', k) == 0 then
  return 0
end
redis.call('HSET', k, 'access_jti', ARGV[3])
local family = opt(ARGV[4])
if family then
  redis.call('HSET', k, 'family_id', family)
else
  redis.call('HDEL', k, 'family_id')
end
return redis.call('HEXISTS', k, 'reused_at')
