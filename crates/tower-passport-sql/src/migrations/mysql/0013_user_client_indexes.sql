-- tower-passport: a user's live tokens of one client are found by user and client (the
-- approval screen's granted scopes, on every authorization request), skipping the revoked
-- and used ones in the index. The refresh tokens' index by user alone is a prefix of the
-- new one, so it goes. MySQL/MariaDB. {p} is the table prefix. No semicolons in comments:
-- the runner splits statements at them.
CREATE INDEX {p}access_tokens_user_client ON {p}access_tokens (user_id, client_id, revoked_at, expires_at);
CREATE INDEX {p}refresh_tokens_user_client ON {p}refresh_tokens (user_id, client_id, revoked_at, used_at, expires_at);
DROP INDEX {p}refresh_tokens_user ON {p}refresh_tokens;
