-- SettingsStore::put_setting_if_absent. ARGV[2] name, [3] value. Returns the stored value.
local k = key('setting', ARGV[2])
local stored = redis.call('GET', k)
if stored then
  return stored
end
redis.call('SET', k, ARGV[3])
return ARGV[3]
