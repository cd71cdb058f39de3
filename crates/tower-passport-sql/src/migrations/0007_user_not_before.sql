-- tower-passport: each user's "not before" instant (Unix milliseconds): first-party cookies
-- sealed before it are refused (a sign-out, or every token of the user revoked).
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
CREATE TABLE {p}user_not_before (
    provider TEXT NOT NULL,
    user_id TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    PRIMARY KEY (provider, user_id)
);
