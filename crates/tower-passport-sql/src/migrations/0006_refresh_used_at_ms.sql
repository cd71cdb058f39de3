-- tower-passport: when a refresh token was used, to the millisecond, so that the refresh
-- race and grace windows are measured in milliseconds. Rows used before this step keep
-- used_at (seconds) only, and their windows start at the beginning of that second.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
ALTER TABLE {p}refresh_tokens ADD COLUMN used_at_ms BIGINT;
