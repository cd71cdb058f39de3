-- tower-passport: initial schema, MySQL/MariaDB. {p} is the table prefix.
-- Ids and hashes are VARBINARY, compared byte for byte (case and trailing spaces count).
CREATE TABLE {p}clients (
    id VARBINARY(255) PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash VARBINARY(255),
    grants TEXT NOT NULL,
    allowed_scopes TEXT,
    first_party BOOLEAN NOT NULL,
    revoked BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE {p}access_tokens (
    jti VARBINARY(255) PRIMARY KEY,
    client_id VARBINARY(255) NOT NULL,
    user_id VARBINARY(255),
    scopes TEXT NOT NULL,
    family_id VARBINARY(255),
    name TEXT,
    personal BOOLEAN NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX {p}access_tokens_family ON {p}access_tokens (family_id);
CREATE INDEX {p}access_tokens_user ON {p}access_tokens (user_id, personal);
CREATE TABLE {p}families (
    id VARBINARY(255) PRIMARY KEY,
    client_id VARBINARY(255) NOT NULL,
    user_id VARBINARY(255),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    current_id VARBINARY(255) NOT NULL,
    previous_id VARBINARY(255)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE {p}refresh_tokens (
    id VARBINARY(255) PRIMARY KEY,
    secret_hash VARBINARY(255) NOT NULL,
    family_id VARBINARY(255) NOT NULL,
    client_id VARBINARY(255) NOT NULL,
    user_id VARBINARY(255),
    scopes TEXT NOT NULL,
    access_jti VARBINARY(255) NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX {p}refresh_tokens_family ON {p}refresh_tokens (family_id);
CREATE TABLE {p}revocations (
    jti VARBINARY(255) PRIMARY KEY,
    expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE {p}settings (
    name VARBINARY(255) PRIMARY KEY,
    value TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
