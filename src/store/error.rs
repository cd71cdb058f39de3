use std::error::Error;
use std::fmt;

/// A store could not do what was asked: the backend failed or is unreachable. Keeps the
/// backend's own error as its source. Never taken as "not revoked".
///
/// ```
/// use tower_passport::store::StoreError;
/// let error = StoreError::backend(std::io::Error::other("connection reset"));
/// assert_eq!(error.to_string(), "store backend error: connection reset");
/// ```
#[derive(Debug)]
pub struct StoreError {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Backend(Box<dyn Error + Send + Sync + 'static>),
    Conflict(String),
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

    /// Whether this is a conflict rather than a backend failure.
    pub fn is_conflict(&self) -> bool {
        matches!(self.kind, Kind::Conflict(_))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Backend(source) => write!(f, "store backend error: {source}"),
            Kind::Conflict(message) => write!(f, "store conflict: {message}"),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            Kind::Backend(source) => Some(&**source),
            Kind::Conflict(_) => None,
        }
    }
}
