//! Laravel's users signing in with the passwords they have: a user provider over the
//! `users` table, verifying Laravel's bcrypt hashes.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tower_passport::BackendError;
use tower_passport_issuer::UserProvider;

use crate::database::{on_pool, Engine, PassportDatabase};
use crate::error::{LaravelError, LaravelErrorKind};
use crate::tables::identifier;

/// The bcrypt cost of the hash an unknown username is checked against unless told
/// otherwise: Laravel 11's default (`BCRYPT_ROUNDS=12`).
pub const DEFAULT_DUMMY_COST: u32 = 12;

/// A [`UserProvider`] over Laravel's `users` table: the password grant (and
/// [`Issuer::sign_in`](tower_passport_issuer::Issuer::sign_in)) take Laravel's users with
/// the passwords they have.
///
/// The user is found by the username column (`email` by default; Passport's
/// `findForPassport` may use another), and the password is verified against the hash in
/// the password column (`password`) with bcrypt (`$2y$`, as Laravel's `Hash::make` writes
/// it; `$2b$` and `$2a$` too), on tokio's blocking threads, in constant time. An unknown
/// user costs the same bcrypt as a known one. A hash of another algorithm (argon2) never
/// matches, and a warning says so. The subject is the id column (`id`), as text.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::Issuer;
/// use tower_passport_issuer::store::MemoryStore;
/// use tower_passport_laravel::{LaravelUsers, PassportDatabase};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let database = PassportDatabase::connect_lazy("sqlite:laravel/database/database.sqlite")?;
/// let users = LaravelUsers::builder(database).username_column("email")?.dummy_cost(4).build()?;
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
///     .audience("api")
///     .enable_password_grant(users)
///     .build()?;
/// # let _ = issuer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct LaravelUsers {
    inner: Arc<Inner>,
}

struct Inner {
    database: PassportDatabase,
    query: String,
    /// What an unknown username is verified against.
    dummy_hash: String,
}

/// Builds [`LaravelUsers`].
#[derive(Clone, Debug)]
#[must_use]
pub struct LaravelUsersBuilder {
    database: PassportDatabase,
    table: String,
    id: String,
    username: String,
    password: String,
    dummy_cost: u32,
}

impl LaravelUsers {
    /// Laravel's `users` table with its default columns (`id`, `email`, `password`).
    pub fn builder(database: PassportDatabase) -> LaravelUsersBuilder {
        LaravelUsersBuilder {
            database,
            table: "users".into(),
            id: "id".into(),
            username: "email".into(),
            password: "password".into(),
            dummy_cost: DEFAULT_DUMMY_COST,
        }
    }

    async fn find(&self, username: &str) -> Result<Option<(String, String)>, LaravelError> {
        let query = self.inner.query.as_str();
        let row: Result<Option<(String, String)>, sqlx::Error> = on_pool!(self.inner.database, pool => {
            sqlx::query_as(query).bind(username).fetch_optional(pool).await
        });
        row.map_err(|e| LaravelError::database("reading Laravel's users", e))
    }
}

impl LaravelUsersBuilder {
    /// The users' table (`users`).
    ///
    /// # Errors
    /// When `name` is not a plain SQL identifier.
    pub fn table(mut self, name: &str) -> Result<Self, LaravelError> {
        self.table = identifier(name)?;
        Ok(self)
    }

    /// The column whose value becomes the token's `sub` (`id`).
    ///
    /// # Errors
    /// When `name` is not a plain SQL identifier.
    pub fn id_column(mut self, name: &str) -> Result<Self, LaravelError> {
        self.id = identifier(name)?;
        Ok(self)
    }

    /// The column the username is looked up in (`email`).
    ///
    /// # Errors
    /// When `name` is not a plain SQL identifier.
    pub fn username_column(mut self, name: &str) -> Result<Self, LaravelError> {
        self.username = identifier(name)?;
        Ok(self)
    }

    /// The column of the password hash (`password`).
    ///
    /// # Errors
    /// When `name` is not a plain SQL identifier.
    pub fn password_column(mut self, name: &str) -> Result<Self, LaravelError> {
        self.password = identifier(name)?;
        Ok(self)
    }

    /// The bcrypt cost of the hash unknown usernames are checked against: the one your
    /// users' hashes have (`BCRYPT_ROUNDS`, 12 by default), so that timing does not tell
    /// an unknown user from a wrong password.
    pub fn dummy_cost(mut self, cost: u32) -> Self {
        self.dummy_cost = cost;
        self
    }

    /// The provider. Makes the dummy hash: a bcrypt of the configured cost, on this thread.
    ///
    /// # Errors
    /// When the cost is outside bcrypt's 4 to 31.
    pub fn build(self) -> Result<LaravelUsers, LaravelError> {
        let dummy_hash = bcrypt::hash("no user has this password", self.dummy_cost).map_err(|e| {
            LaravelError::new(LaravelErrorKind::Hash, "the dummy bcrypt hash cannot be made").with_source(e)
        })?;
        let text = match self.database.engine() {
            Engine::MySql => "CHAR",
            Engine::Postgres | Engine::Sqlite => "TEXT",
        };
        let query = format!(
            "SELECT CAST({id} AS {text}), {password} FROM {table} WHERE {username} = {p}",
            id = self.id,
            password = self.password,
            table = self.table,
            username = self.username,
            p = self.database.placeholder(1),
        );
        Ok(LaravelUsers { inner: Arc::new(Inner { database: self.database, query, dummy_hash }) })
    }
}

/// Whether `password` matches Laravel's `hash`, in constant time: a bcrypt hash
/// (`$2y$`, `$2b$`, `$2a$`), or `false`. CPU-heavy: call it off the executor.
pub(crate) fn laravel_hash_matches(password: &str, hash: &str) -> bool {
    if !(hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$")) {
        tracing::warn!("a password hash that is not bcrypt (argon2?) was found: it never matches here");
        return false;
    }
    bcrypt::verify(password, hash).unwrap_or(false)
}

impl UserProvider for LaravelUsers {
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<String>, BackendError>> + Send {
        let (username, password) = (username.to_owned(), password.to_owned());
        async move {
            let found = self.find(&username).await?;
            let (subject, hash) = match found {
                Some((subject, hash)) => (Some(subject), hash),
                None => (None, self.inner.dummy_hash.clone()),
            };
            let matches = tokio::task::spawn_blocking(move || laravel_hash_matches(&password, &hash))
                .await
                .map_err(|e| BackendError::msg(format!("the password check failed: {e}")))?;
            Ok(subject.filter(|_| matches))
        }
    }
}

impl fmt::Debug for LaravelUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaravelUsers").field("database", &self.inner.database).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laravel_bcrypt_hashes_verify_and_others_never_match() {
        // `$2y$` is PHP's name for the same algorithm as `$2b$`.
        let hash = bcrypt::hash("password", 4).expect("hash").replacen("$2b$", "$2y$", 1);
        assert!(laravel_hash_matches("password", &hash));
        assert!(!laravel_hash_matches("Password", &hash));
        assert!(!laravel_hash_matches("password", "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$aGFzaA"));
        assert!(!laravel_hash_matches("password", "password"), "a plaintext column never matches");
    }
}
