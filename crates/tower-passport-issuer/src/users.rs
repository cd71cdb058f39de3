//! The password grant's user provider (Passport's `findForPassport` and
//! `validateForPassportPasswordGrant`), and a PBKDF2 password hash to build one with.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use tower_passport::error::{BackendError, ConfigError, ConfigErrorKind};

/// Finds a user by username and verifies the password, for the password grant.
///
/// Implementations must verify in constant time and should spend the same time on an
/// unknown username as on a wrong password ([`PasswordHash::verify_dummy`] helps). A
/// password hash is CPU-heavy: run it off the executor
/// ([`PasswordHash::verify_off_executor`], or `tokio::task::spawn_blocking`), or one slow
/// sign-in stalls every request on that thread. The issuer bounds how many checks run at
/// once ([`IssuerBuilder::max_concurrent_password_checks`](super::IssuerBuilder::max_concurrent_password_checks)).
/// Returns the user's subject (`sub`), or `None` for bad credentials.
///
/// Implemented for closures `Fn(String, String) -> impl Future<Output = Result<Option<String>, BackendError>>`:
///
/// ```
/// use tower_passport_issuer::UserProvider;
/// use tower_passport::BackendError;
/// let provider = |username: String, password: String| async move {
///     Ok::<_, BackendError>((username == "taylor" && password == "secret").then(|| "1".to_owned()))
/// };
/// # fn is_provider<P: UserProvider>(_: &P) {}
/// # is_provider(&provider);
/// ```
pub trait UserProvider: Send + Sync + 'static {
    /// The subject of the user `username` if `password` is theirs.
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<String>, BackendError>> + Send;
}

impl<F, Fut> UserProvider for F
where
    F: Fn(String, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, BackendError>> + Send,
{
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<String>, BackendError>> + Send {
        self(username.to_owned(), password.to_owned())
    }
}

/// A salted PBKDF2-HMAC-SHA256 password hash, verified in constant time.
///
/// ```
/// use tower_passport_issuer::PasswordHash;
/// let hash = PasswordHash::new("correct horse", 1_000).unwrap();
/// assert!(hash.verify("correct horse"));
/// assert!(!hash.verify("battery staple"));
/// ```
#[derive(Clone)]
pub struct PasswordHash {
    iterations: NonZeroU32,
    salt: [u8; 16],
    hash: [u8; 32],
}

impl PasswordHash {
    /// Hashes `password` with a random salt and `iterations` rounds (OWASP suggests
    /// 600 000 for PBKDF2-HMAC-SHA256).
    ///
    /// # Errors
    /// When `iterations` is 0 or the random source fails.
    pub fn new(password: &str, iterations: u32) -> Result<Self, ConfigError> {
        let iterations = NonZeroU32::new(iterations)
            .ok_or_else(|| ConfigError::new(ConfigErrorKind::Limit, "iterations must be positive"))?;
        let mut salt = [0u8; 16];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| ConfigError::new(ConfigErrorKind::Crypto, "random source failed"))?;
        let mut hash = [0u8; 32];
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, password.as_bytes(), &mut hash);
        Ok(Self { iterations, salt, hash })
    }

    /// Whether `password` matches, in constant time.
    pub fn verify(&self, password: &str) -> bool {
        pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            self.iterations,
            &self.salt,
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }

    /// [`verify`](Self::verify) on tokio's blocking threads, so that the executor keeps
    /// serving other requests while PBKDF2 runs (without a tokio runtime it runs inline).
    /// Use this from a [`UserProvider`].
    ///
    /// ```
    /// use tower_passport_issuer::PasswordHash;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hash = PasswordHash::new("correct horse", 1_000)?;
    /// assert!(hash.verify_off_executor("correct horse").await?);
    /// assert!(!hash.verify_off_executor("battery staple").await?);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the blocking task could not finish.
    pub async fn verify_off_executor(&self, password: &str) -> Result<bool, BackendError> {
        let (hash, password) = (self.clone(), password.to_owned());
        super::limits::off_executor(move || hash.verify(&password)).await
    }

    /// Spends the time of one verification and returns `false`: call it for unknown
    /// usernames so that timing does not tell them from wrong passwords.
    pub fn verify_dummy(&self, password: &str) -> bool {
        let _ = self.verify(password);
        false
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// A fixed set of users with hashed passwords: for demos and tests.
///
/// ```
/// use tower_passport_issuer::{StaticUsers, UserProvider};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let users = StaticUsers::new(1_000).user("taylor@example.com", "password123", "1")?;
/// assert_eq!(users.authenticate("taylor@example.com", "password123").await?, Some("1".into()));
/// assert_eq!(users.authenticate("taylor@example.com", "wrong").await?, None);
/// assert_eq!(users.authenticate("nobody", "password123").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct StaticUsers {
    iterations: u32,
    users: HashMap<String, (PasswordHash, String)>,
    dummy: Option<PasswordHash>,
}

impl StaticUsers {
    /// No users yet; passwords will be hashed with `iterations` PBKDF2 rounds.
    pub fn new(iterations: u32) -> Self {
        Self { iterations, users: HashMap::new(), dummy: None }
    }

    /// Adds a user with this username, password and subject.
    ///
    /// # Errors
    /// When hashing fails (zero iterations, no randomness).
    pub fn user(mut self, username: &str, password: &str, subject: &str) -> Result<Self, ConfigError> {
        let hash = PasswordHash::new(password, self.iterations)?;
        if self.dummy.is_none() {
            self.dummy = Some(PasswordHash::new("dummy password for unknown users", self.iterations)?);
        }
        self.users.insert(username.to_owned(), (hash, subject.to_owned()));
        Ok(self)
    }
}

impl UserProvider for StaticUsers {
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<String>, BackendError>> + Send {
        // PBKDF2 runs on a blocking thread, never on the executor. An unknown user costs
        // the same hash as a known one, so timing does not tell them apart.
        let (hash, subject) = match self.users.get(username) {
            Some((hash, subject)) => (Some(hash.clone()), Some(subject.clone())),
            None => (self.dummy.clone(), None),
        };
        let password = password.to_owned();
        async move {
            let Some(hash) = hash else { return Ok(None) };
            let matches = hash.verify_off_executor(&password).await?;
            Ok(subject.filter(|_| matches))
        }
    }
}
