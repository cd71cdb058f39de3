-- tower-passport: whether a client skips the approval screen. MySQL/MariaDB.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
ALTER TABLE {p}clients ADD COLUMN skips_authorization BOOLEAN NOT NULL DEFAULT FALSE;
