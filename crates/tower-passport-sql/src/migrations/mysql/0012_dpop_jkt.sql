-- tower-passport (MySQL/MariaDB): the DPoP key (RFC 7638 thumbprint) a public client's refresh token is
-- bound to (RFC 9449 section 5), and the one an authorization code must be exchanged
-- with (dpop_jkt, section 10). NULL when unbound.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
ALTER TABLE {p}refresh_tokens ADD COLUMN dpop_jkt VARCHAR(128);
ALTER TABLE {p}authorization_codes ADD COLUMN dpop_jkt VARCHAR(128);
