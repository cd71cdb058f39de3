-- tower-passport: the DPoP key (RFC 7638 thumbprint) a public client's refresh token is
-- bound to (RFC 9449 section 5). NULL for an unbound token.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
ALTER TABLE {p}refresh_tokens ADD COLUMN dpop_jkt VARCHAR(128);
