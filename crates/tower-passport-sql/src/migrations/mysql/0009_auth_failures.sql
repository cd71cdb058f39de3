-- tower-passport: failed authentication attempts, counted by key for the issuer's throttle.
-- MySQL/MariaDB. {p} is the table prefix. No semicolons in comments: the runner splits
-- statements at them. The key is a SHA-256 (hex), never a password.
CREATE TABLE {p}auth_failures (
    key_hash VARBINARY(255) PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    forget_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX {p}auth_failures_forget ON {p}auth_failures (forget_at);
