//! Every SQL statement the stores run, once for every engine where the engines agree.
//! `{p}` stands for the table prefix and `{lock}` for the engine's row-lock clause
//! (PostgreSQL and MySQL: ` FOR UPDATE`, SQLite: nothing, because its transaction took the
//! write lock when it began). [`Queries`] renders them once per store; the prefix has been
//! checked to be a plain identifier by then.
//!
//! Three rules keep one text valid on SQLite, PostgreSQL and MySQL/MariaDB:
//!
//! - Placeholders are numbered in the order they appear, each used once (a value needed
//!   twice is bound twice), so MySQL's `?` can stand for them ([`Syntax::MySql`]
//!   renders `$1`, `$2`, … as `?`).
//! - No `RETURNING` (MySQL has none, MariaDB none on `UPDATE`): what an update must
//!   report is read first, by a locking read in the same transaction.
//! - An insert that must not overwrite has no conflict clause: the unique violation is the
//!   answer. Where the engines' upserts differ (`ON CONFLICT` against `ON DUPLICATE KEY
//!   UPDATE`), a `_MYSQL` twin holds MySQL's.

// ---- migrations ---------------------------------------------------------------------

pub(crate) const CREATE_MIGRATIONS: &str =
    "CREATE TABLE IF NOT EXISTS {p}migrations (version BIGINT PRIMARY KEY, \
     description TEXT NOT NULL, success BOOLEAN NOT NULL, applied_at BIGINT NOT NULL)";
pub(crate) const MIGRATION_STATE: &str = "SELECT success FROM {p}migrations WHERE version = $1";
/// Records a step, in the step's own transaction. (Rows with `success` false were left by
/// versions that marked a step as started in a commit of its own, or by a MySQL step that
/// died; they are reported.)
pub(crate) const MIGRATION_APPLIED: &str =
    "INSERT INTO {p}migrations (version, description, success, applied_at) VALUES ($1, $2, TRUE, $3)";
/// Marks a step as started, in a commit of its own, before an engine whose DDL is not
/// transactional (MySQL) runs it.
pub(crate) const MIGRATION_STARTED: &str =
    "INSERT INTO {p}migrations (version, description, success, applied_at) VALUES ($1, $2, FALSE, $3)";
/// Marks a started step finished: `$1` now, `$2` version.
pub(crate) const MIGRATION_FINISHED: &str =
    "UPDATE {p}migrations SET success = TRUE, applied_at = $1 WHERE version = $2";

// ---- clients ------------------------------------------------------------------------

pub(crate) const PUT_CLIENT: &str = "INSERT INTO {p}clients (id, name, secret_hash, grants, allowed_scopes, \
     first_party, revoked, created_at, redirect_uris, owner_id, require_pkce, provider, skips_authorization, \
     allowed_resources) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO UPDATE SET \
     name = excluded.name, secret_hash = excluded.secret_hash, grants = excluded.grants, \
     allowed_scopes = excluded.allowed_scopes, first_party = excluded.first_party, revoked = excluded.revoked, \
     created_at = excluded.created_at, redirect_uris = excluded.redirect_uris, owner_id = excluded.owner_id, \
     require_pkce = excluded.require_pkce, provider = excluded.provider, \
     skips_authorization = excluded.skips_authorization, allowed_resources = excluded.allowed_resources";
/// [`PUT_CLIENT`] in MySQL's upsert (`VALUES(column)` is the row that was to be inserted).
pub(crate) const PUT_CLIENT_MYSQL: &str = "INSERT INTO {p}clients (id, name, secret_hash, grants, \
     allowed_scopes, first_party, revoked, created_at, redirect_uris, owner_id, require_pkce, provider, \
     skips_authorization, allowed_resources) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
     ON DUPLICATE KEY UPDATE name = VALUES(name), secret_hash = VALUES(secret_hash), \
     grants = VALUES(grants), allowed_scopes = VALUES(allowed_scopes), first_party = VALUES(first_party), \
     revoked = VALUES(revoked), created_at = VALUES(created_at), redirect_uris = VALUES(redirect_uris), \
     owner_id = VALUES(owner_id), require_pkce = VALUES(require_pkce), provider = VALUES(provider), \
     skips_authorization = VALUES(skips_authorization), allowed_resources = VALUES(allowed_resources)";
/// The columns by name, not `*`: a SQLite connection that loaded the schema before a
/// migration added columns would otherwise prepare `*` as the old columns, and sqlx would
/// keep that column list after SQLite re-prepares the statement (a named column that is
/// missing makes SQLite reload the schema and prepare again instead).
pub(crate) const CLIENT: &str =
    "SELECT id, name, secret_hash, grants, allowed_scopes, first_party, revoked, \
     created_at, redirect_uris, owner_id, require_pkce, provider, skips_authorization, allowed_resources FROM {p}clients WHERE id = $1";
pub(crate) const SET_CLIENT_REVOKED: &str = "UPDATE {p}clients SET revoked = $1 WHERE id = $2";
/// A client, locked for an update (its columns by name, as [`CLIENT`]).
pub(crate) const LOCK_CLIENT: &str =
    "SELECT id, name, secret_hash, grants, allowed_scopes, first_party, revoked, \
     created_at, redirect_uris, owner_id, require_pkce, provider, skips_authorization, allowed_resources FROM {p}clients WHERE id = $1{lock}";
/// The columns a [`ClientUpdate`](tower_passport_issuer::store::ClientUpdate) may change.
pub(crate) const UPDATE_CLIENT: &str =
    "UPDATE {p}clients SET name = $1, redirect_uris = $2, secret_hash = $3, revoked = $4, \
     skips_authorization = $5 WHERE id = $6";
/// Every client, oldest first.
pub(crate) const ALL_CLIENTS: &str =
    "SELECT id, name, secret_hash, grants, allowed_scopes, first_party, revoked, \
     created_at, redirect_uris, owner_id, require_pkce, provider, skips_authorization, allowed_resources FROM {p}clients \
     ORDER BY created_at ASC, id ASC";
/// An owner's clients, oldest first (the `{p}clients_owner` index).
pub(crate) const CLIENTS_OF_OWNER: &str =
    "SELECT id, name, secret_hash, grants, allowed_scopes, first_party, revoked, \
     created_at, redirect_uris, owner_id, require_pkce, provider, skips_authorization, allowed_resources FROM {p}clients WHERE owner_id = $1 \
     ORDER BY created_at ASC, id ASC";

// ---- access tokens and the revocation list ------------------------------------------

/// A taken `jti` is a unique violation.
pub(crate) const INSERT_ACCESS: &str =
    "INSERT INTO {p}access_tokens (jti, client_id, user_id, scopes, family_id, \
     name, personal, issued_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub(crate) const ACCESS_TOKEN: &str = "SELECT * FROM {p}access_tokens WHERE jti = $1";
pub(crate) const PERSONAL_TOKENS: &str =
    "SELECT * FROM {p}access_tokens WHERE user_id = $1 AND personal = TRUE ORDER BY issued_at DESC, jti ASC";
/// A live access token's expiry, locked for [`REVOKE_ACCESS`].
pub(crate) const LOCK_LIVE_ACCESS: &str =
    "SELECT expires_at FROM {p}access_tokens WHERE jti = $1 AND revoked_at IS NULL{lock}";
/// Revokes one access token (found live by [`LOCK_LIVE_ACCESS`]): `$1` now, `$2` jti.
pub(crate) const REVOKE_ACCESS: &str = "UPDATE {p}access_tokens SET revoked_at = $1 WHERE jti = $2";
/// A jti listed already stays as it is.
pub(crate) const INSERT_REVOCATION: &str =
    "INSERT INTO {p}revocations (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
pub(crate) const INSERT_REVOCATION_MYSQL: &str =
    "INSERT INTO {p}revocations (jti, expires_at) VALUES ($1, $2) ON DUPLICATE KEY UPDATE jti = jti";
pub(crate) const IS_REVOKED: &str = "SELECT expires_at FROM {p}revocations WHERE jti = $1";

// ---- refresh tokens and families ----------------------------------------------------

/// A taken id is a unique violation.
pub(crate) const INSERT_FAMILY: &str =
    "INSERT INTO {p}families (id, client_id, user_id, created_at, revoked_at, \
     current_id, previous_id) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// A taken id is a unique violation.
pub(crate) const INSERT_REFRESH: &str =
    "INSERT INTO {p}refresh_tokens (id, secret_hash, family_id, client_id, \
     user_id, scopes, access_jti, issued_at, expires_at, used_at, revoked_at, used_at_ms, dpop_jkt, resources) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
/// A refresh token; its columns by name, as for [`CLIENT`] (`used_at_ms` came later).
pub(crate) const REFRESH_TOKEN: &str = "SELECT id, secret_hash, family_id, client_id, user_id, scopes, \
     access_jti, issued_at, expires_at, used_at, used_at_ms, revoked_at, dpop_jkt, resources FROM {p}refresh_tokens WHERE id = $1";
pub(crate) const FAMILY: &str = "SELECT * FROM {p}families WHERE id = $1";
/// A token's family id, read before locking: it never changes.
pub(crate) const FAMILY_OF_TOKEN: &str = "SELECT family_id FROM {p}refresh_tokens WHERE id = $1";
pub(crate) const LOCK_FAMILY: &str = "SELECT * FROM {p}families WHERE id = $1{lock}";
/// A refresh token, locked (its columns by name, as [`REFRESH_TOKEN`]).
pub(crate) const LOCK_REFRESH: &str = "SELECT id, secret_hash, family_id, client_id, user_id, scopes, \
     access_jti, issued_at, expires_at, used_at, used_at_ms, revoked_at, dpop_jkt, resources FROM {p}refresh_tokens \
     WHERE id = $1{lock}";
pub(crate) const LOCK_FAMILY_REVOKED: &str = "SELECT revoked_at FROM {p}families WHERE id = $1{lock}";
/// `$1` now, `$2` now in milliseconds, `$3` id.
pub(crate) const MARK_USED: &str = "UPDATE {p}refresh_tokens SET used_at = $1, used_at_ms = $2 WHERE id = $3";
/// The access token of a refresh token [`SUPERSEDE`] is about to mark, locked.
pub(crate) const LOCK_ACCESS_OF_REFRESH: &str =
    "SELECT access_jti FROM {p}refresh_tokens WHERE id = $1{lock}";
/// Marks a superseded token used, keeping an earlier use; `$1` now in milliseconds, `$2`
/// now, `$3` id. `used_at_ms` is set first: MySQL's `SET` reads the columns it
/// assigned already, the others' reads the row as it was, and either way `used_at` is
/// still the old one here.
pub(crate) const SUPERSEDE: &str = "UPDATE {p}refresh_tokens SET \
     used_at_ms = CASE WHEN used_at IS NULL THEN $1 ELSE used_at_ms END, used_at = COALESCE(used_at, $2) \
     WHERE id = $3";
pub(crate) const MOVE_FAMILY: &str = "UPDATE {p}families SET current_id = $1, previous_id = $2 WHERE id = $3";
pub(crate) const REVOKE_FAMILY: &str =
    "UPDATE {p}families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
pub(crate) const REVOKE_FAMILY_REFRESH: &str =
    "UPDATE {p}refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL";
/// A family's (`$1`) access tokens expiring after `$2` (now less the issuer's
/// `store::EXPIRY_MARGIN`), locked for [`REVOKE_FAMILY_ACCESS`].
pub(crate) const LOCK_FAMILY_ACCESS: &str = "SELECT jti, expires_at FROM {p}access_tokens \
     WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY jti{lock}";
/// Revokes what [`LOCK_FAMILY_ACCESS`] found: `$1` now, `$2` family, `$3` its cutoff.
pub(crate) const REVOKE_FAMILY_ACCESS: &str = "UPDATE {p}access_tokens SET revoked_at = $1 \
     WHERE family_id = $2 AND revoked_at IS NULL AND expires_at > $3";

// ---- a user's tokens: $1 user, then the client (NULL: every client, bound twice) or now -

/// The user's access tokens live at `$2`.
pub(crate) const LIVE_USER_ACCESS: &str =
    "SELECT * FROM {p}access_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2";
/// The user's unused refresh tokens live at `$2` (the columns by name, as [`REFRESH_TOKEN`]).
pub(crate) const LIVE_USER_REFRESH: &str = "SELECT id, secret_hash, family_id, client_id, user_id, \
     scopes, access_jti, issued_at, expires_at, used_at, used_at_ms, revoked_at, dpop_jkt, resources FROM {p}refresh_tokens \
     WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
/// The user's (`$1`) live access tokens at `$2` of client `$3`.
pub(crate) const LIVE_USER_CLIENT_ACCESS: &str = "SELECT * FROM {p}access_tokens \
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND client_id = $3";
/// The user's (`$1`) unused refresh tokens live at `$2` of client `$3`.
pub(crate) const LIVE_USER_CLIENT_REFRESH: &str = "SELECT id, secret_hash, family_id, client_id, user_id, \
     scopes, access_jti, issued_at, expires_at, used_at, used_at_ms, revoked_at, dpop_jkt, resources FROM {p}refresh_tokens \
     WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 AND client_id = $3";
/// The distinct scope lists of the user's (`$1`, `$4`) live tokens at `$2`/`$5` of client
/// `$3`/`$6`: live access tokens (a personal one's as the empty list: it is no grant to the
/// client, but it is live) and unused refresh tokens. One row per distinct list, however
/// many tokens hold it: what `TokenStore::granted_scopes` unites.
pub(crate) const GRANTED_SCOPES: &str = "SELECT CASE WHEN personal THEN '' ELSE scopes END AS scopes \
     FROM {p}access_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND client_id = $3 \
     UNION SELECT scopes FROM {p}refresh_tokens \
     WHERE user_id = $4 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $5 AND client_id = $6";
/// Locks the user's live families (of client `$2`, when not NULL), in id order, so that
/// two such calls queue instead of deadlocking.
pub(crate) const LOCK_USER_FAMILIES: &str = "SELECT id FROM {p}families WHERE user_id = $1 \
     AND ($2 IS NULL OR client_id = $3) AND revoked_at IS NULL ORDER BY id{lock}";
/// `$1` user, `$2`/`$3` client?, `$4` a cutoff (now less the issuer's
/// `store::EXPIRY_MARGIN`): the user's access tokens expiring after it, locked for
/// [`REVOKE_USER_ACCESS`].
pub(crate) const LOCK_USER_ACCESS: &str = "SELECT jti, expires_at FROM {p}access_tokens \
     WHERE user_id = $1 AND ($2 IS NULL OR client_id = $3) AND revoked_at IS NULL AND expires_at > $4 \
     ORDER BY jti{lock}";
/// `$1` now, `$2` user, `$3`/`$4` client?, `$5` the cutoff: revokes what [`LOCK_USER_ACCESS`] found.
pub(crate) const REVOKE_USER_ACCESS: &str = "UPDATE {p}access_tokens SET revoked_at = $1 \
     WHERE user_id = $2 AND ($3 IS NULL OR client_id = $4) AND revoked_at IS NULL AND expires_at > $5";

// ---- authorization codes, by the hex SHA-256 of the code ----------------------------

pub(crate) const INSERT_CODE: &str = "INSERT INTO {p}authorization_codes (hash, client_id, user_id, \
     redirect_uri, scopes, code_challenge, nonce, issued_at, expires_at, used_at, reused_at, \
     issued_access_jti, issued_family_id, dpop_jkt, resources) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
/// Locks the code's row for [`TAKE_CODE`] or [`REUSE_CODE`]; the columns by name, as for
/// [`CLIENT`].
pub(crate) const LOCK_CODE: &str = "SELECT hash, client_id, user_id, redirect_uri, scopes, \
     code_challenge, nonce, issued_at, expires_at, used_at, reused_at, issued_access_jti, \
     issued_family_id, dpop_jkt, resources FROM {p}authorization_codes WHERE hash = $1{lock}";
/// `$1` now, `$2` hash: marks the (locked, unused) code used.
pub(crate) const TAKE_CODE: &str = "UPDATE {p}authorization_codes SET used_at = $1 WHERE hash = $2";
/// `$1` now, `$2` hash: records the first reuse of the (locked, used) code.
pub(crate) const REUSE_CODE: &str =
    "UPDATE {p}authorization_codes SET reused_at = $1 WHERE hash = $2 AND reused_at IS NULL";
/// Whether a reuse of the code came first, read under the row lock [`RECORD_CODE_ISSUE`]
/// then writes under.
pub(crate) const LOCK_CODE_REUSE: &str = "SELECT reused_at FROM {p}authorization_codes WHERE hash = $1{lock}";
/// `$1` access jti, `$2` family?, `$3` hash: what the exchange issued.
pub(crate) const RECORD_CODE_ISSUE: &str =
    "UPDATE {p}authorization_codes SET issued_access_jti = $1, issued_family_id = $2 WHERE hash = $3";

// ---- device authorization requests, by the hex SHA-256 of either code ----------------

const DEVICE_COLUMNS: &str = "device_hash, user_code_hash, client_id, scopes, issued_at, expires_at, \
     poll_interval, last_polled_at_ms, decision, user_id, used_at";
pub(crate) const INSERT_DEVICE: &str = "INSERT INTO {p}device_codes ({columns}) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
/// The request by its user code, unlocked (the verification page reads it).
pub(crate) const DEVICE_BY_USER_CODE: &str =
    "SELECT {columns} FROM {p}device_codes WHERE user_code_hash = $1";
/// Locks the request by its user code, for a decision.
pub(crate) const LOCK_DEVICE_BY_USER_CODE: &str =
    "SELECT {columns} FROM {p}device_codes WHERE user_code_hash = $1{lock}";
/// Locks the request by its device code, for a poll.
pub(crate) const LOCK_DEVICE: &str = "SELECT {columns} FROM {p}device_codes WHERE device_hash = $1{lock}";
/// `$1` interval, `$2` last poll (ms), `$3` decision, `$4` user, `$5` used at, `$6` device
/// hash: writes back what `device::poll` or `device::decide` changed.
pub(crate) const UPDATE_DEVICE: &str = "UPDATE {p}device_codes SET poll_interval = $1, \
     last_polled_at_ms = $2, decision = $3, user_id = $4, used_at = $5 WHERE device_hash = $6";
/// `$1` before.
pub(crate) const PURGE_DEVICES: &str = "DELETE FROM {p}device_codes WHERE expires_at < $1";

// ---- purge: $1 revoked?, $2 before, $3 expired?, $4 before again --------------------

pub(crate) const PURGE_ACCESS: &str = "DELETE FROM {p}access_tokens \
     WHERE ($1 AND revoked_at IS NOT NULL AND revoked_at < $2) OR ($3 AND expires_at < $4)";
pub(crate) const PURGE_REFRESH: &str = "DELETE FROM {p}refresh_tokens \
     WHERE ($1 AND revoked_at IS NOT NULL AND revoked_at < $2) OR ($3 AND expires_at < $4)";
pub(crate) const PURGE_FAMILIES: &str = "DELETE FROM {p}families WHERE NOT EXISTS \
     (SELECT 1 FROM {p}refresh_tokens r WHERE r.family_id = {p}families.id) \
     OR ($1 AND revoked_at IS NOT NULL AND revoked_at < $2)";
/// `$1` before.
pub(crate) const PURGE_REVOCATIONS: &str = "DELETE FROM {p}revocations WHERE expires_at < $1";
/// `$1` before, less the day a code's record is kept past its expiry.
pub(crate) const PURGE_CODES: &str = "DELETE FROM {p}authorization_codes WHERE expires_at < $1";

// ---- first-party cookies' not-before ---------------------------------------------------

/// `$1` provider, `$2` user, `$3` instant (ms): a later instant already stored stays.
pub(crate) const SET_NOT_BEFORE: &str = "INSERT INTO {p}user_not_before (provider, user_id, not_before) \
     VALUES ($1, $2, $3) ON CONFLICT (provider, user_id) DO UPDATE SET not_before = excluded.not_before \
     WHERE excluded.not_before > {p}user_not_before.not_before";
pub(crate) const SET_NOT_BEFORE_MYSQL: &str =
    "INSERT INTO {p}user_not_before (provider, user_id, not_before) \
     VALUES ($1, $2, $3) ON DUPLICATE KEY UPDATE not_before = GREATEST(not_before, VALUES(not_before))";
pub(crate) const NOT_BEFORE: &str =
    "SELECT not_before FROM {p}user_not_before WHERE provider = $1 AND user_id = $2";

// ---- settings -----------------------------------------------------------------------

pub(crate) const PUT_SETTING: &str =
    "INSERT INTO {p}settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
pub(crate) const PUT_SETTING_MYSQL: &str =
    "INSERT INTO {p}settings (name, value) VALUES ($1, $2) ON DUPLICATE KEY UPDATE name = name";
pub(crate) const SETTING: &str = "SELECT value FROM {p}settings WHERE name = $1";

// ---- failed authentication attempts (the throttle) -------------------------------------

/// The failures under up to two keys (a single key is bound twice).
pub(crate) const FAILURES: &str =
    "SELECT key_hash, failures, last_failure FROM {p}auth_failures WHERE key_hash IN ($1, $2)";
/// Makes sure `$1` has a row (no failures yet, `$2` now), so that [`LOCK_FAILURES`] has a
/// row to lock even for a key's first failure.
pub(crate) const ENSURE_FAILURES: &str = "INSERT INTO {p}auth_failures (key_hash, failures, last_failure, \
     forget_at) VALUES ($1, 0, $2, $3) ON CONFLICT (key_hash) DO NOTHING";
pub(crate) const ENSURE_FAILURES_MYSQL: &str = "INSERT INTO {p}auth_failures (key_hash, failures, \
     last_failure, forget_at) VALUES ($1, 0, $2, $3) ON DUPLICATE KEY UPDATE key_hash = key_hash";
/// A key's failures, locked while `Failures::after` decides the next count.
pub(crate) const LOCK_FAILURES: &str =
    "SELECT failures, last_failure FROM {p}auth_failures WHERE key_hash = $1{lock}";
/// `$1` count, `$2` last failure, `$3` when all are forgotten, `$4` key.
pub(crate) const SET_FAILURES: &str =
    "UPDATE {p}auth_failures SET failures = $1, last_failure = $2, forget_at = $3 WHERE key_hash = $4";
pub(crate) const CLEAR_FAILURES: &str = "DELETE FROM {p}auth_failures WHERE key_hash = $1";
/// Up to 64 keys whose every failure is forgotten by `$1`, read without locking.
pub(crate) const FORGOTTEN_FAILURES: &str =
    "SELECT key_hash FROM {p}auth_failures WHERE forget_at <= $1 ORDER BY forget_at LIMIT 64";
/// Drops the row of `$1` if its every failure is still forgotten by `$2`: by its primary
/// key, so that the row is locked in the order a failure being recorded locks it (a range
/// delete on `forget_at` would take the index first, and deadlock with it on MySQL).
pub(crate) const DROP_FORGOTTEN_FAILURE: &str =
    "DELETE FROM {p}auth_failures WHERE key_hash = $1 AND forget_at <= $2";

/// Every statement above, for one table prefix and one engine.
#[derive(Debug)]
pub(crate) struct Queries {
    pub(crate) prefix: String,
    pub(crate) create_migrations: String,
    pub(crate) migration_state: String,
    pub(crate) migration_applied: String,
    pub(crate) migration_started: String,
    pub(crate) migration_finished: String,
    pub(crate) put_client: String,
    pub(crate) client: String,
    pub(crate) set_client_revoked: String,
    pub(crate) lock_client: String,
    pub(crate) update_client: String,
    pub(crate) clients_of_owner: String,
    pub(crate) all_clients: String,
    pub(crate) insert_access: String,
    pub(crate) access_token: String,
    pub(crate) personal_tokens: String,
    pub(crate) lock_live_access: String,
    pub(crate) revoke_access: String,
    pub(crate) insert_revocation: String,
    pub(crate) is_revoked: String,
    pub(crate) insert_family: String,
    pub(crate) insert_refresh: String,
    pub(crate) refresh_token: String,
    pub(crate) family: String,
    pub(crate) family_of_token: String,
    pub(crate) lock_family: String,
    pub(crate) lock_refresh: String,
    pub(crate) lock_family_revoked: String,
    pub(crate) mark_used: String,
    pub(crate) lock_access_of_refresh: String,
    pub(crate) supersede: String,
    pub(crate) move_family: String,
    pub(crate) revoke_family: String,
    pub(crate) revoke_family_refresh: String,
    pub(crate) lock_family_access: String,
    pub(crate) revoke_family_access: String,
    pub(crate) live_user_access: String,
    pub(crate) live_user_client_access: String,
    pub(crate) live_user_client_refresh: String,
    pub(crate) granted_scopes: String,
    pub(crate) live_user_refresh: String,
    pub(crate) lock_user_families: String,
    pub(crate) lock_user_access: String,
    pub(crate) revoke_user_access: String,
    pub(crate) insert_code: String,
    pub(crate) lock_code: String,
    pub(crate) take_code: String,
    pub(crate) reuse_code: String,
    pub(crate) lock_code_reuse: String,
    pub(crate) record_code_issue: String,
    pub(crate) purge_access: String,
    pub(crate) purge_refresh: String,
    pub(crate) purge_families: String,
    pub(crate) purge_revocations: String,
    pub(crate) purge_codes: String,
    pub(crate) insert_device: String,
    pub(crate) device_by_user_code: String,
    pub(crate) lock_device_by_user_code: String,
    pub(crate) lock_device: String,
    pub(crate) update_device: String,
    pub(crate) purge_devices: String,
    pub(crate) set_not_before: String,
    pub(crate) not_before: String,
    pub(crate) put_setting: String,
    pub(crate) setting: String,
    pub(crate) failures: String,
    pub(crate) ensure_failures: String,
    pub(crate) lock_failures: String,
    pub(crate) set_failures: String,
    pub(crate) clear_failures: String,
    pub(crate) forgotten_failures: String,
    pub(crate) drop_forgotten_failure: String,
}

/// The engines' two dialects of SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// SQLite and PostgreSQL: `$1` placeholders, `ON CONFLICT` upserts.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    Standard,
    /// MySQL and MariaDB: `?` placeholders, `ON DUPLICATE KEY UPDATE` upserts.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    MySql,
}

impl Queries {
    /// The statements for tables named `<prefix><table>`, with `lock` as the row-lock
    /// clause, in `syntax`. `prefix` must have passed `schema::valid_prefix`.
    pub(crate) fn new(prefix: &str, lock: &str, syntax: Syntax) -> Self {
        let render = |template: &str| {
            let sql =
                template.replace("{columns}", DEVICE_COLUMNS).replace("{p}", prefix).replace("{lock}", lock);
            match syntax {
                Syntax::Standard => sql,
                Syntax::MySql => question_marks(&sql),
            }
        };
        let pick = |standard: &str, mysql: &str| match syntax {
            Syntax::Standard => render(standard),
            Syntax::MySql => render(mysql),
        };
        Self {
            prefix: prefix.to_owned(),
            create_migrations: render(CREATE_MIGRATIONS),
            migration_state: render(MIGRATION_STATE),
            migration_applied: render(MIGRATION_APPLIED),
            migration_started: render(MIGRATION_STARTED),
            migration_finished: render(MIGRATION_FINISHED),
            put_client: pick(PUT_CLIENT, PUT_CLIENT_MYSQL),
            client: render(CLIENT),
            set_client_revoked: render(SET_CLIENT_REVOKED),
            lock_client: render(LOCK_CLIENT),
            update_client: render(UPDATE_CLIENT),
            clients_of_owner: render(CLIENTS_OF_OWNER),
            all_clients: render(ALL_CLIENTS),
            insert_access: render(INSERT_ACCESS),
            access_token: render(ACCESS_TOKEN),
            personal_tokens: render(PERSONAL_TOKENS),
            lock_live_access: render(LOCK_LIVE_ACCESS),
            revoke_access: render(REVOKE_ACCESS),
            insert_revocation: pick(INSERT_REVOCATION, INSERT_REVOCATION_MYSQL),
            is_revoked: render(IS_REVOKED),
            insert_family: render(INSERT_FAMILY),
            insert_refresh: render(INSERT_REFRESH),
            refresh_token: render(REFRESH_TOKEN),
            family: render(FAMILY),
            family_of_token: render(FAMILY_OF_TOKEN),
            lock_family: render(LOCK_FAMILY),
            lock_refresh: render(LOCK_REFRESH),
            lock_family_revoked: render(LOCK_FAMILY_REVOKED),
            mark_used: render(MARK_USED),
            lock_access_of_refresh: render(LOCK_ACCESS_OF_REFRESH),
            supersede: render(SUPERSEDE),
            move_family: render(MOVE_FAMILY),
            revoke_family: render(REVOKE_FAMILY),
            revoke_family_refresh: render(REVOKE_FAMILY_REFRESH),
            lock_family_access: render(LOCK_FAMILY_ACCESS),
            revoke_family_access: render(REVOKE_FAMILY_ACCESS),
            live_user_access: render(LIVE_USER_ACCESS),
            live_user_client_access: render(LIVE_USER_CLIENT_ACCESS),
            live_user_client_refresh: render(LIVE_USER_CLIENT_REFRESH),
            granted_scopes: render(GRANTED_SCOPES),
            live_user_refresh: render(LIVE_USER_REFRESH),
            lock_user_families: render(LOCK_USER_FAMILIES),
            lock_user_access: render(LOCK_USER_ACCESS),
            revoke_user_access: render(REVOKE_USER_ACCESS),
            insert_code: render(INSERT_CODE),
            lock_code: render(LOCK_CODE),
            take_code: render(TAKE_CODE),
            reuse_code: render(REUSE_CODE),
            lock_code_reuse: render(LOCK_CODE_REUSE),
            record_code_issue: render(RECORD_CODE_ISSUE),
            purge_access: render(PURGE_ACCESS),
            purge_refresh: render(PURGE_REFRESH),
            purge_families: render(PURGE_FAMILIES),
            purge_revocations: render(PURGE_REVOCATIONS),
            purge_codes: render(PURGE_CODES),
            insert_device: render(INSERT_DEVICE),
            device_by_user_code: render(DEVICE_BY_USER_CODE),
            lock_device_by_user_code: render(LOCK_DEVICE_BY_USER_CODE),
            lock_device: render(LOCK_DEVICE),
            update_device: render(UPDATE_DEVICE),
            purge_devices: render(PURGE_DEVICES),
            set_not_before: pick(SET_NOT_BEFORE, SET_NOT_BEFORE_MYSQL),
            not_before: render(NOT_BEFORE),
            put_setting: pick(PUT_SETTING, PUT_SETTING_MYSQL),
            setting: render(SETTING),
            failures: render(FAILURES),
            ensure_failures: pick(ENSURE_FAILURES, ENSURE_FAILURES_MYSQL),
            lock_failures: render(LOCK_FAILURES),
            set_failures: render(SET_FAILURES),
            clear_failures: render(CLEAR_FAILURES),
            forgotten_failures: render(FORGOTTEN_FAILURES),
            drop_forgotten_failure: render(DROP_FORGOTTEN_FAILURE),
        }
    }
}

/// `sql` with `$1`, `$2`, … as MySQL's `?`. A placeholder out of order (or used twice) is
/// left as it is, so that MySQL refuses the statement instead of binding a value to the
/// wrong place; the tests check that no statement keeps one.
fn question_marks(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut next = 1u32;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<u32>() {
            Ok(number) if number == next => {
                out.push('?');
                next += 1;
            }
            _ => {
                out.push('$');
                out.push_str(&after[..digits]);
            }
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_and_the_lock_clause_are_filled_in_everywhere() {
        let queries = Queries::new("blue_", " FOR UPDATE", Syntax::Standard);
        assert_eq!(queries.lock_family, "SELECT * FROM blue_families WHERE id = $1 FOR UPDATE");
        assert_eq!(
            queries.purge_families,
            "DELETE FROM blue_families WHERE NOT EXISTS (SELECT 1 FROM blue_refresh_tokens r \
             WHERE r.family_id = blue_families.id) OR ($1 AND revoked_at IS NOT NULL AND revoked_at < $2)"
        );
        let sqlite = Queries::new("passport_", "", Syntax::Standard);
        assert!(sqlite.lock_refresh.ends_with("FROM passport_refresh_tokens WHERE id = $1"));
        assert!(queries.lock_code.starts_with("SELECT hash, client_id, "));
        assert!(queries.lock_code.ends_with("FROM blue_authorization_codes WHERE hash = $1 FOR UPDATE"));
        let debug = format!("{queries:?}");
        assert!(!debug.contains("{p}") && !debug.contains("{lock}"), "{debug}");
    }

    #[test]
    fn mysql_gets_question_marks_and_its_own_upserts() {
        let mysql = Queries::new("blue_", " FOR UPDATE", Syntax::MySql);
        assert_eq!(mysql.lock_family, "SELECT * FROM blue_families WHERE id = ? FOR UPDATE");
        assert!(mysql
            .revoke_user_access
            .ends_with("AND (? IS NULL OR client_id = ?) AND revoked_at IS NULL AND expires_at > ?"));
        assert!(mysql.put_client.contains("ON DUPLICATE KEY UPDATE"), "{}", mysql.put_client);
        assert!(mysql.set_not_before.contains("GREATEST"), "{}", mysql.set_not_before);
        let debug = format!("{mysql:?}");
        for leftover in ["$", "ON CONFLICT", "RETURNING", "excluded."] {
            assert!(!debug.contains(leftover), "{leftover} in {debug}");
        }
    }

    #[test]
    fn placeholders_out_of_order_or_repeated_are_left_for_mysql_to_refuse() {
        assert_eq!(question_marks("a = $1 AND b = $2"), "a = ? AND b = ?");
        assert_eq!(question_marks("a = $1 OR b = $1"), "a = ? OR b = $1");
        assert_eq!(question_marks("a = $2"), "a = $2");
        assert_eq!(question_marks("x = $12"), "x = $12");
    }
}
