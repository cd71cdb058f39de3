-- tower-passport: the user provider a client's users come from (Passport's --provider).
-- MySQL/MariaDB. {p} is the table prefix. No semicolons in comments: the runner splits
-- statements at them.
ALTER TABLE {p}clients ADD COLUMN provider VARBINARY(255);
