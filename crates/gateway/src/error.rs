//! The gateway's one error type: what went wrong starting it, or reaching the upstream.

use std::error::Error as StdError;
use std::fmt;

/// A configuration problem (with its file and line where the parser gives one), or the
/// upstream failing a request.
#[derive(Debug)]
pub struct Error {
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None }
    }

    /// The upstream could not be reached or broke off: answered 502.
    pub(crate) fn upstream(source: impl StdError + Send + Sync + 'static) -> Self {
        Self { message: "the upstream failed".into(), source: Some(Box::new(source)) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn StdError + 'static))
    }
}

impl From<tower_passport::ConfigError> for Error {
    fn from(error: tower_passport::ConfigError) -> Self {
        Self { message: "invalid configuration".into(), source: Some(Box::new(error)) }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Self { message: "I/O error".into(), source: Some(Box::new(error)) }
    }
}
