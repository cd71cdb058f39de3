-- tower-passport: what the authorization code grant needs of a client. {p} is the table prefix.
-- Numbered 3 because version 2 is taken by another change in flight: the runner applies
-- each missing version in order, whichever lands first. No semicolons in comments.
ALTER TABLE {p}clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE {p}clients ADD COLUMN owner_id TEXT;
ALTER TABLE {p}clients ADD COLUMN require_pkce BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX {p}clients_owner ON {p}clients (owner_id);
