-- tower-passport: what the authorization code grant needs of a client. MySQL/MariaDB.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
-- A TEXT column takes no DEFAULT on every MySQL version. Existing rows get the implicit
-- default of a NOT NULL TEXT column, the empty string, as the other engines' DEFAULT ''.
ALTER TABLE {p}clients ADD COLUMN redirect_uris TEXT NOT NULL;
ALTER TABLE {p}clients ADD COLUMN owner_id VARBINARY(255);
ALTER TABLE {p}clients ADD COLUMN require_pkce BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX {p}clients_owner ON {p}clients (owner_id);
