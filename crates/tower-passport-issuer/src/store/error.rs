use std::error::Error;
use std::fmt;

use tower_passport::error::BackendError;

/// A store could not do what was asked.
///
/// The backend failed or is unreachable (keeping the backend's own error as its source), a
/// write would break an invariant (a conflict), or the store was configured wrongly (a bad
/// table prefix, an unsupported URL).
///
/// Never taken as "not revoked".
///
/// ```
/// use tower_passport_issuer::store::StoreError;
/// let error = StoreError::backend(std::io::Error::other("connection reset"));
/// assert_eq!(error.to_string(), "store backend error: connection reset");
/// let error = StoreError::config("unsupported store \"ftp\"");
/// assert!(error.is_config() && !error.is_conflict());
/// ```
#[derive(Debug)]
pub struct StoreError {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Backend(Box<dyn Error + Send + Sync + 'static>),
    Conflict(String),
    Config(String),
    /// A failure the revocation port reported (its error is a [`BackendError`]): shown as is.
    Relayed(BackendError),
}

impl StoreError {
    /// A backend failure, keeping its source.
    pub fn backend(source: impl Error + Send + Sync + 'static) -> Self {
        Self { kind: Kind::Backend(Box::new(source)) }
    }

    /// A write that would break an invariant (a duplicate id, for instance).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self { kind: Kind::Conflict(message.into()) }
    }

    /// A configuration mistake: the store cannot be used as configured, and retrying will
    /// not help.
    ///
    /// ```
    /// use tower_passport_issuer::store::StoreError;
    /// let error = StoreError::config("a table prefix may hold only ASCII letters");
    /// assert_eq!(error.to_string(), "invalid store configuration: a table prefix may hold only ASCII letters");
    /// ```
    pub fn config(message: impl Into<String>) -> Self {
        Self { kind: Kind::Config(message.into()) }
    }

    /// Whether this is a conflict rather than a backend failure.
    pub fn is_conflict(&self) -> bool {
        matches!(self.kind, Kind::Conflict(_))
    }

    /// Whether this is a configuration mistake.
    ///
    /// ```
    /// use tower_passport_issuer::store::StoreError;
    /// assert!(StoreError::config("bad prefix").is_config());
    /// assert!(!StoreError::conflict("duplicate jti").is_config());
    /// ```
    pub fn is_config(&self) -> bool {
        matches!(self.kind, Kind::Config(_))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Backend(source) => write!(f, "store backend error: {source}"),
            Kind::Conflict(message) => write!(f, "store conflict: {message}"),
            Kind::Config(message) => write!(f, "invalid store configuration: {message}"),
            Kind::Relayed(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            Kind::Backend(source) => Some(&**source),
            Kind::Relayed(error) => error.source(),
            Kind::Conflict(_) | Kind::Config(_) => None,
        }
    }
}

/// A failure of the revocation port ([`RevocationStore`](tower_passport::revocation::RevocationStore)),
/// where a store error is expected.
///
/// ```
/// use tower_passport_issuer::store::StoreError;
/// use tower_passport::BackendError;
/// let error = StoreError::from(BackendError::new(StoreError::backend(std::io::Error::other("reset"))));
/// assert_eq!(error.to_string(), "store backend error: reset");
/// ```
impl From<BackendError> for StoreError {
    fn from(error: BackendError) -> Self {
        Self { kind: Kind::Relayed(error) }
    }
}
