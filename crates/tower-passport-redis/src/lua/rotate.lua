-- TokenStore::rotate in one atomic step.
--
-- THE RULE IS `store::rotation::plan` (src/store/rotation.rs). This script cannot call it, so
-- it mirrors it: the same checks in the same order, each branch marked with the step number
-- and plan variant it mirrors. Change the rule there first, then here; the conformance suite
-- runs against this script too.
--
-- ARGV[2] presented id, [3] presented hash (hex), [4] now (seconds), [5] now in
-- milliseconds, [6] race window in milliseconds?, [7] grace window in milliseconds?, [8]
-- consume ('1'/'0'), [9] revoke the previous access token ('1'/'0'), [10..] the successor
-- refresh token, then the new access token. The windows are measured in milliseconds, from
-- the token's `used_at_ms`, or from the start of its `used_at` second when it was used
-- before milliseconds were kept.
-- Returns {outcome, family_id, jti, expires_at, ...}: outcome is 'rotated', 'grace', 'reuse',
-- 'already' (a lost race; nothing was written), 'invalid' or 'conflict' (the successor's id or
-- jti is taken; nothing was written), followed by the access tokens revoked.
local presented_id, presented_hash, now, now_millis = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local race, grace = opt(ARGV[6]), opt(ARGV[7])
local consume, revoke_previous = ARGV[8] == '1', ARGV[9] == '1'
local next_refresh = refresh_args(10)
local next_access = access_args(10 + REFRESH_ARGS)

local pk = key('refresh', presented_id)
local p = redis.call('HMGET', pk, 'secret_hash', 'family_id', 'expires_at', 'used_at', 'revoked_at', 'access_jti',
  'used_at_ms')
-- 1. Unknown token, or not its secret (constant time): Invalid.
if not p[1] or not same_digest(p[1], presented_hash) then
  return { 'invalid' }
end
-- 2. No family (it is read by the token's family id, so it is always the token's own), a
-- revoked family, a revoked token, an expired token: Invalid.
local family_id = p[2]
local fk = key('family', family_id)
local family = redis.call('HMGET', fk, 'current', 'previous', 'revoked_at')
if not family[1] or family[3] or p[5] or tonumber(p[3]) <= tonumber(now) then
  return { 'invalid' }
end

local now_ms = server_ms()

-- Stores the successor pair; false, writing nothing, if its id or jti is taken.
local function insert_next()
  if not both_free(next_refresh, next_access) then
    return false
  end
  insert_refresh(next_refresh, now_ms)
  insert_access(next_access, now_ms)
  return true
end

-- 3. Unused: Rotate. Store the successor pair, revoke the presented token's access token if
-- asked, mark the presented token used and make it `previous` when it is consumed, and make
-- the successor `current`.
if not p[4] then
  if not insert_next() then
    return { 'conflict' }
  end
  local out = { 'rotated', '' }
  if revoke_previous then
    revoke_access_into(out, p[6], now, now_ms)
  end
  if consume then
    redis.call('HSET', pk, 'used_at', now, 'used_at_ms', now_millis)
    redis.call('HSET', fk, 'previous', presented_id)
  end
  redis.call('HSET', fk, 'current', next_refresh.id)
  return out
end

local is_previous = family[2] == presented_id
local used_at_millis = tonumber(p[7]) or tonumber(p[4]) * 1000
local function within(window)
  return window and tonumber(now_millis) <= used_at_millis + tonumber(window)
end
-- 4. Used, the family's previous token, no later than used_at + race: AlreadyRotated,
-- storing nothing.
if is_previous and within(race) then
  return { 'already' }
end
-- 5. Used, the family's previous token, no later than used_at + grace: ReissueInGrace.
-- 6. Any other used token (also with neither window): RevokeFamily, storing nothing.
if not (is_previous and within(grace)) then
  return append({ 'reuse', family_id }, revoke_family(family_id, now, now_ms))
end
-- 5. ReissueInGrace: the response that carried `current` was probably lost. Store the
-- successor pair, mark `current` (the superseded token) used unless it was, revoke its access
-- token if asked, and make the successor `current`; `previous` stays.
if not insert_next() then
  return { 'conflict' }
end
local out = { 'grace', '' }
local ck = key('refresh', family[1])
local current = redis.call('HMGET', ck, 'record', 'used_at', 'access_jti')
if current[1] then
  if not current[2] then
    redis.call('HSET', ck, 'used_at', now, 'used_at_ms', now_millis)
  end
  if revoke_previous then
    revoke_access_into(out, current[3], now, now_ms)
  end
end
redis.call('HSET', fk, 'current', next_refresh.id)
return out
