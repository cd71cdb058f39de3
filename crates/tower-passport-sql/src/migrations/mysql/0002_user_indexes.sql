-- tower-passport: a user's families and refresh tokens are found by user (logout
-- everywhere, the authorized-clients list). MySQL/MariaDB. {p} is the table prefix.
CREATE INDEX {p}families_user ON {p}families (user_id, client_id);
CREATE INDEX {p}refresh_tokens_user ON {p}refresh_tokens (user_id);
