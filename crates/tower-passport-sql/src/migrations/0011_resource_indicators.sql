-- tower-passport: RFC 8707 resource indicators. The resources a client may obtain tokens
-- for (NULL: every one of the issuer's), and the resources a refresh token's or a code's
-- grant covers (NULL on rows written before: whatever the client may obtain).
-- Space-separated, as the scopes are. {p} is the table prefix. No semicolons in comments:
-- the runner splits statements at them.
ALTER TABLE {p}clients ADD COLUMN allowed_resources TEXT;
ALTER TABLE {p}refresh_tokens ADD COLUMN resources TEXT;
ALTER TABLE {p}authorization_codes ADD COLUMN resources TEXT;
