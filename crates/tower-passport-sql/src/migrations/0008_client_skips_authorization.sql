-- tower-passport: whether a client skips the approval screen (Passport's skipsAuthorization).
-- Off for every existing client, first-party ones included. {p} is the table prefix.
-- No semicolons in comments: the runner splits statements at them.
ALTER TABLE {p}clients ADD COLUMN skips_authorization BOOLEAN NOT NULL DEFAULT FALSE;
