-- tower-passport: failed authentication attempts, counted by key for the issuer's throttle.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
-- The key is a SHA-256 (hex) the throttle derives from an account, a client or an address,
-- never a password. A row may go once every failure is forgotten (forget_at), and every
-- recorded failure deletes such rows.
CREATE TABLE {p}auth_failures (
    key_hash TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    forget_at BIGINT NOT NULL
);
CREATE INDEX {p}auth_failures_forget ON {p}auth_failures (forget_at);
