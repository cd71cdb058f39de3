//! What can be wrong with what the server sent back.

use std::error::Error;
use std::fmt;

use tower_passport_issuer::store::StoreError;

/// A stored record or a script reply that does not have the expected shape: written by
/// something else, or by an incompatible version. Carries the parse error, if any, as its
/// source; never the data itself.
#[derive(Debug)]
pub(super) struct Malformed {
    what: &'static str,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl Malformed {
    /// `what` is malformed, for the reason `source` gives.
    pub(super) fn because(what: &'static str, source: impl Error + Send + Sync + 'static) -> StoreError {
        StoreError::backend(Self { what, source: Some(Box::new(source)) })
    }

    /// `what` is malformed.
    pub(super) fn error(what: &'static str) -> StoreError {
        StoreError::backend(Self { what, source: None })
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed {} in Redis", self.what)
    }
}

impl Error for Malformed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_parse_error_as_its_source() {
        let parse = "x".parse::<u64>().err();
        let error = parse.map(|parse| Malformed::because("access-token record", parse));
        let error = error.map(|error| (error.to_string(), error.source().and_then(Error::source).is_some()));
        assert_eq!(
            error,
            Some(("store backend error: malformed access-token record in Redis".to_owned(), true))
        );
    }
}
