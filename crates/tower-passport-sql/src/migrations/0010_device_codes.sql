-- tower-passport: device authorization requests (RFC 8628), kept as the SHA-256 (hex) of the
-- device code and of the normalised user code, never the codes. {p} is the table prefix. No
-- semicolons in comments: the runner splits statements at them. decision is pending,
-- approved (user_id set) or denied. Purge removes a request once it expired.
CREATE TABLE {p}device_codes (
    device_hash TEXT PRIMARY KEY,
    user_code_hash TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    poll_interval BIGINT NOT NULL,
    last_polled_at_ms BIGINT,
    decision TEXT NOT NULL,
    user_id TEXT,
    used_at BIGINT
);
CREATE UNIQUE INDEX {p}device_codes_user_code ON {p}device_codes (user_code_hash);
CREATE INDEX {p}device_codes_expiry ON {p}device_codes (expires_at);
