-- tower-passport: each user's "not before" instant (Unix milliseconds). MySQL/MariaDB.
-- {p} is the table prefix. No semicolons in comments: the runner splits statements at them.
CREATE TABLE {p}user_not_before (
    provider VARBINARY(255) NOT NULL,
    user_id VARBINARY(255) NOT NULL,
    not_before BIGINT NOT NULL,
    PRIMARY KEY (provider, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
