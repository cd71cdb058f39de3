-- Helpers shared by every script; the script's own body follows this prelude.
--
-- ARGV[1] is always the key prefix. Numbers travel as decimal strings: they are converted
-- (tonumber) only to be compared, and what is stored or given to EXPIREAT is the string the
-- caller sent, so timestamps are never rounded or printed in exponent form. Record timestamps
-- ("now", "expires_at") are the caller's clock; TTL decisions use the server's clock (TIME).

local prefix = ARGV[1]

local function key(kind, id)
  return prefix .. kind .. ':' .. id
end

-- An optional argument: '' is none, otherwise '=' followed by the value.
local function opt(arg)
  if arg == '' then
    return false
  end
  return string.sub(arg, 2)
end

-- The server's clock in milliseconds.
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- How long past its expiry an access token still counts as live to a family or user
-- revocation, and how long its record and revocation entry outlive it: a guard admits a
-- token up to its leeway past `exp`. Equal to tower_passport_issuer::store::EXPIRY_MARGIN
-- (a test in scripts.rs holds them together).
local EXPIRY_MARGIN = 300

-- 9999-12-31T23:59:59Z. A later expiry is kept until purge rather than given to EXPIREAT.
local LATEST = 253402300799

-- The second at which a key for something expiring at `exp` goes, or false if the key stays
-- until purge: `exp` has passed on the server's clock, or is beyond LATEST.
local function deadline(exp, now_ms)
  local at = tonumber(exp)
  if at and at * 1000 > now_ms and at <= LATEST then
    return exp
  end
  return false
end

-- Gives a key just written the lifetime of the thing it holds.
local function expire_with(k, exp, now_ms)
  local at = deadline(exp, now_ms)
  if at then
    redis.call('EXPIREAT', k, at)
  else
    redis.call('PERSIST', k)
  end
end

-- Keeps an existing key alive at least as long as a thing expiring at `exp`. A key without a
-- TTL already stays until purge.
local function outlive(k, exp, now_ms)
  local at = deadline(exp, now_ms)
  if not at then
    redis.call('PERSIST', k)
    return
  end
  local ttl = redis.call('PTTL', k)
  if ttl >= 0 and now_ms + ttl < tonumber(at) * 1000 then
    redis.call('EXPIREAT', k, at)
  end
end

-- Gives an index key that was just created (`fresh`) the lifetime of its member expiring at
-- `exp`, or keeps an existing one alive at least that long.
local function keep_index(k, fresh, exp, now_ms)
  if fresh then
    expire_with(k, exp, now_ms)
  else
    outlive(k, exp, now_ms)
  end
end

-- Adds `member` to the set `k`, which lives as long as its longest-lived member.
local function add_member(k, member, exp, now_ms)
  local fresh = redis.call('EXISTS', k) == 0
  redis.call('SADD', k, member)
  keep_index(k, fresh, exp, now_ms)
end

-- Adds `member` to the sorted set `k`, scored by its expiry `exp` (a later score it has is
-- kept), drops the members that expired on the server's clock, and keeps `k` alive as long as
-- its longest-lived member. A user's indexes are such sets, so they never outgrow what is live.
local function add_expiring(k, member, exp, now_ms)
  local fresh = redis.call('EXISTS', k) == 0
  local score = redis.call('ZSCORE', k, member)
  if not score or tonumber(score) < tonumber(exp) then
    redis.call('ZADD', k, exp, member)
  end
  redis.call('ZREMRANGEBYSCORE', k, '-inf', '(' .. math.floor(now_ms / 1000))
  keep_index(k, fresh, exp, now_ms)
end

-- The members of the sorted-set index `k` whose `kind` record still exists, as {id, fields}
-- with the record's `fields` (the first one always present in such a record); members whose
-- record is gone are dropped from the index.
local function indexed(k, kind, ...)
  local found = {}
  for _, id in ipairs(redis.call('ZRANGE', k, 0, -1)) do
    local f = redis.call('HMGET', key(kind, id), ...)
    if f[1] then
      found[#found + 1] = { id, f }
    else
      redis.call('ZREM', k, id)
    end
  end
  return found
end

-- Keeps a family (if there is one) alive as long as a token of it expiring at `exp`.
local function keep_family(family_id, exp, now_ms)
  local k = key('family', family_id)
  if redis.call('EXISTS', k) == 1 then
    outlive(k, exp, now_ms)
  end
end

-- Constant-time equality of two hex digests: every byte is XORed into the accumulator, with
-- no early exit. Only the length, which is public (64), can end the comparison early.
local function same_digest(a, b)
  if #a ~= #b then
    return false
  end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end

-- An access-token record at ARGV[i..]: jti, record JSON, expires_at, family_id?, pat_user?,
-- revoked_at?, client_id, user_id?. `pat_user` is the user of a personal access token.
local ACCESS_ARGS = 8
local function access_args(i)
  return {
    jti = ARGV[i],
    record = ARGV[i + 1],
    expires_at = ARGV[i + 2],
    family_id = opt(ARGV[i + 3]),
    pat_user = opt(ARGV[i + 4]),
    revoked_at = opt(ARGV[i + 5]),
    client_id = ARGV[i + 6],
    user_id = opt(ARGV[i + 7]),
  }
end

-- A refresh-token record at ARGV[i..]: id, record JSON, secret_hash (hex), family_id,
-- access_jti, expires_at, used_at?, revoked_at?, used_at_ms?.
local REFRESH_ARGS = 9
local function refresh_args(i)
  return {
    id = ARGV[i],
    record = ARGV[i + 1],
    secret_hash = ARGV[i + 2],
    family_id = ARGV[i + 3],
    access_jti = ARGV[i + 4],
    expires_at = ARGV[i + 5],
    used_at = opt(ARGV[i + 6]),
    revoked_at = opt(ARGV[i + 7]),
    used_at_ms = opt(ARGV[i + 8]),
  }
end

-- A family at ARGV[i..]: id, record JSON, current, previous?, revoked_at?, client_id, user_id?.
local FAMILY_ARGS = 7
local function family_args(i)
  return {
    id = ARGV[i],
    record = ARGV[i + 1],
    current = ARGV[i + 2],
    previous = opt(ARGV[i + 3]),
    revoked_at = opt(ARGV[i + 4]),
    client_id = ARGV[i + 5],
    user_id = opt(ARGV[i + 6]),
  }
end

local function set_optional(k, field, value)
  if value then
    redis.call('HSET', k, field, value)
  end
end

local function insert_access(a, now_ms)
  local k = key('access', a.jti)
  redis.call('HSET', k, 'record', a.record, 'expires_at', a.expires_at, 'client_id', a.client_id)
  set_optional(k, 'family_id', a.family_id)
  set_optional(k, 'pat_user', a.pat_user)
  set_optional(k, 'revoked_at', a.revoked_at)
  set_optional(k, 'user_id', a.user_id)
  -- Kept past its expiry for the margin, so that a revocation inside a guard's leeway finds it.
  local kept = tonumber(a.expires_at) + EXPIRY_MARGIN
  expire_with(k, kept, now_ms)
  if a.family_id then
    add_member(key('family-access', a.family_id), a.jti, kept, now_ms)
    keep_family(a.family_id, kept, now_ms)
  end
  if a.pat_user then
    add_member(key('pats', a.pat_user), a.jti, a.expires_at, now_ms)
  end
  if a.user_id then
    add_expiring(key('user-access', a.user_id), a.jti, kept, now_ms)
  end
end

-- Stores a refresh token; its family must have been written first (its user is read there).
local function insert_refresh(r, now_ms)
  local k = key('refresh', r.id)
  redis.call('HSET', k, 'record', r.record, 'secret_hash', r.secret_hash, 'family_id', r.family_id,
    'access_jti', r.access_jti, 'expires_at', r.expires_at)
  set_optional(k, 'used_at', r.used_at)
  set_optional(k, 'used_at_ms', r.used_at_ms)
  set_optional(k, 'revoked_at', r.revoked_at)
  expire_with(k, r.expires_at, now_ms)
  add_member(key('family-refresh', r.family_id), r.id, r.expires_at, now_ms)
  keep_family(r.family_id, r.expires_at, now_ms)
  local user = redis.call('HGET', key('family', r.family_id), 'user_id')
  if user then
    add_expiring(key('user-families', user), r.family_id, r.expires_at, now_ms)
  end
end

-- Whether `family_id` names a family that exists and is not revoked.
local function family_is_live(family_id)
  local f = redis.call('HMGET', key('family', family_id), 'current', 'revoked_at')
  return f[1] and not f[2]
end

-- Whether neither the refresh-token id nor the jti is taken.
local function both_free(r, a)
  return redis.call('EXISTS', key('refresh', r.id)) == 0 and redis.call('EXISTS', key('access', a.jti)) == 0
end

-- Revokes a live access-token record at `at` and puts its jti on the revocation list until
-- its expiry. Returns the expiry, or false if there is no record or it was already revoked.
local function revoke_access(jti, at, now_ms)
  local k = key('access', jti)
  local f = redis.call('HMGET', k, 'expires_at', 'revoked_at')
  if not f[1] or f[2] then
    return false
  end
  redis.call('HSET', k, 'revoked_at', at)
  local entry = key('revoked', jti)
  redis.call('SET', entry, f[1])
  expire_with(entry, tonumber(f[1]) + EXPIRY_MARGIN, now_ms)
  return f[1]
end

-- revoke_access, adding {jti, expires_at} to `out` if it revoked the token.
local function revoke_access_into(out, jti, at, now_ms)
  local exp = revoke_access(jti, at, now_ms)
  if exp then
    out[#out + 1] = jti
    out[#out + 1] = exp
  end
end

-- Revokes a family at `at`: the family, its refresh tokens (keeping an earlier revocation
-- time) and its access tokens expiring after `at` less EXPIRY_MARGIN. Returns {jti,
-- expires_at, ...} of the access tokens it revoked; empty if the family is unknown or
-- already revoked.
local function revoke_family(family_id, at, now_ms)
  local revoked = {}
  local fk = key('family', family_id)
  local f = redis.call('HMGET', fk, 'current', 'revoked_at')
  if not f[1] or f[2] then
    return revoked
  end
  redis.call('HSET', fk, 'revoked_at', at)
  local tokens = key('family-refresh', family_id)
  for _, id in ipairs(redis.call('SMEMBERS', tokens)) do
    local rk = key('refresh', id)
    if redis.call('EXISTS', rk) == 1 then
      redis.call('HSETNX', rk, 'revoked_at', at)
    else
      redis.call('SREM', tokens, id)
    end
  end
  local now = tonumber(at)
  for _, jti in ipairs(redis.call('SMEMBERS', key('family-access', family_id))) do
    local expires_at = redis.call('HGET', key('access', jti), 'expires_at')
    if expires_at and tonumber(expires_at) > now - EXPIRY_MARGIN then
      revoke_access_into(revoked, jti, at, now_ms)
    end
  end
  return revoked
end

-- Appends the elements of `tail` to `list`.
local function append(list, tail)
  for _, v in ipairs(tail) do
    list[#list + 1] = v
  end
  return list
end

-- The script.
