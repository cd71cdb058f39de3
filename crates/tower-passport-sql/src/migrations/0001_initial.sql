-- tower-passport: initial schema. {p} is the table prefix.
CREATE TABLE {p}clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    grants TEXT NOT NULL,
    allowed_scopes TEXT,
    first_party BOOLEAN NOT NULL,
    revoked BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE {p}access_tokens (
    jti TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT,
    scopes TEXT NOT NULL,
    family_id TEXT,
    name TEXT,
    personal BOOLEAN NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX {p}access_tokens_family ON {p}access_tokens (family_id);
CREATE INDEX {p}access_tokens_user ON {p}access_tokens (user_id, personal);
CREATE TABLE {p}families (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    current_id TEXT NOT NULL,
    previous_id TEXT
);
CREATE TABLE {p}refresh_tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT,
    scopes TEXT NOT NULL,
    access_jti TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX {p}refresh_tokens_family ON {p}refresh_tokens (family_id);
CREATE TABLE {p}revocations (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE TABLE {p}settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
