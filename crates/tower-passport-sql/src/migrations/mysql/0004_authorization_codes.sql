-- tower-passport: authorization codes, kept as the SHA-256 of the code (hex), never the
-- code. MySQL/MariaDB. {p} is the table prefix. No semicolons in comments: the runner
-- splits statements at them. A record stays a day past its expiry (purge removes it after
-- that), so that a late second presentation is still seen as reuse.
CREATE TABLE {p}authorization_codes (
    hash VARBINARY(255) PRIMARY KEY,
    client_id VARBINARY(255) NOT NULL,
    user_id VARBINARY(255) NOT NULL,
    redirect_uri TEXT,
    scopes TEXT NOT NULL,
    code_challenge TEXT,
    nonce TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    reused_at BIGINT,
    issued_access_jti VARBINARY(255),
    issued_family_id VARBINARY(255)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX {p}authorization_codes_expiry ON {p}authorization_codes (expires_at);
