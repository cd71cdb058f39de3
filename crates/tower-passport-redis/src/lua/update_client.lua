-- ClientStore::update_client, as a compare-and-set: the caller read the record, applied the
-- update (ClientUpdate::apply) and sends the result. ARGV[2] client id, [3] the record it
-- read, [4] the new record, [5] the new revoked flag (optional: '' keeps it).
-- Returns {'0'} if there is no such client, {'1', revoked} once written, or {'2'} if the record
-- changed since it was read (nothing written: read again and retry).
local k = key('client', ARGV[2])
local record = redis.call('HGET', k, 'record')
if not record then
  return {'0'}
end
if record ~= ARGV[3] then
  return {'2'}
end
redis.call('HSET', k, 'record', ARGV[4])
local revoked = opt(ARGV[5])
if revoked then
  redis.call('HSET', k, 'revoked', revoked)
end
return {'1', redis.call('HGET', k, 'revoked')}
