use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A failure of something the guard depends on (a user store, a revocation store, a key
/// source). It keeps its source error; it answers 503 and never counts as "not revoked".
///
/// ```
/// use tower_passport::BackendError;
/// let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
/// let error = BackendError::new(io);
/// assert_eq!(error.to_string(), "connect timed out");
/// ```
#[derive(Clone)]
pub struct BackendError(Arc<dyn Error + Send + Sync + 'static>);

impl BackendError {
    /// Wraps a source error.
    pub fn new(source: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(source))
    }

    /// An error with only a message.
    ///
    /// ```
    /// # use tower_passport::BackendError;
    /// assert_eq!(BackendError::msg("user store down").to_string(), "user store down");
    /// ```
    pub fn msg(message: impl Into<String>) -> Self {
        Self(Arc::new(Message(message.into())))
    }
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Message {}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for BackendError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}
