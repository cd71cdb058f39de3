-- tower-passport: when a refresh token was used, to the millisecond. MySQL/MariaDB.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
ALTER TABLE {p}refresh_tokens ADD COLUMN used_at_ms BIGINT;
