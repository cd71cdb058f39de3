use std::fmt;

/// A mistake in configuration: a key that does not parse, a missing issuer, a realm with
/// characters a header cannot carry. Returned by builders, never by requests.
///
/// ```
/// use tower_passport::{Algorithm, VerifyingKey};
/// let error = VerifyingKey::from_pem(b"not a pem", Algorithm::RS256).unwrap_err();
/// assert!(error.to_string().contains("PEM"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
