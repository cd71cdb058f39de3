-- tower-passport: what the authorization code grant needs of a client. {p} is the table prefix.
-- No semicolons in comments: the runner splits statements at them.
ALTER TABLE {p}clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE {p}clients ADD COLUMN owner_id TEXT;
ALTER TABLE {p}clients ADD COLUMN require_pkce BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX {p}clients_owner ON {p}clients (owner_id);
