//! The crate's one error type: what went wrong, and the source error kept.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use tower_passport::BackendError;

/// What kind of failure a [`LaravelError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LaravelErrorKind {
    /// A database URL is invalid, or names an engine whose feature is off.
    Url,
    /// A table or column name is not a plain SQL identifier.
    Identifier,
    /// The database failed (connection, query, unexpected column type).
    Database,
    /// Laravel's `APP_KEY` is not a 32-byte key (`base64:…` or 32 raw bytes).
    AppKey,
    /// A bcrypt hash cannot be made.
    Hash,
    /// The issuer's store refused a write.
    Store,
}

/// A failure of this crate: its [`kind`](Self::kind), a message, and the source error.
/// Never carries a token, a secret or a password.
#[derive(Clone)]
pub struct LaravelError {
    kind: LaravelErrorKind,
    message: Cow<'static, str>,
    source: Option<Arc<dyn Error + Send + Sync + 'static>>,
}

impl LaravelError {
    pub(crate) fn new(kind: LaravelErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    pub(crate) fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// A database failure, keeping sqlx's error.
    pub(crate) fn database(context: &'static str, source: sqlx::Error) -> Self {
        Self::new(LaravelErrorKind::Database, context).with_source(source)
    }

    /// What kind of failure this is.
    ///
    /// ```
    /// use tower_passport_laravel::{LaravelErrorKind, PassportTables};
    /// let error = PassportTables::default().access_tokens("tokens; DROP TABLE users").unwrap_err();
    /// assert_eq!(error.kind(), LaravelErrorKind::Identifier);
    /// ```
    pub fn kind(&self) -> LaravelErrorKind {
        self.kind
    }
}

impl fmt::Debug for LaravelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaravelError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for LaravelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl Error for LaravelError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn Error + 'static))
    }
}

impl From<LaravelError> for BackendError {
    fn from(error: LaravelError) -> Self {
        BackendError::new(error)
    }
}
