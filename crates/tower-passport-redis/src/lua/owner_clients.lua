-- ClientStore::clients_owned_by. ARGV[2] owner. Returns {record, revoked, ...} of the clients
-- in `owner-clients:<owner>` that still name that owner, in no particular order.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', key('owner-clients', ARGV[2]))) do
  local f = redis.call('HMGET', key('client', id), 'record', 'revoked', 'owner')
  if f[1] and f[3] == ARGV[2] then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
  end
end
return out
