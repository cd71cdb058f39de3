//! The CSRF token bound to a first-party cookie.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The CSRF token of a signed-in page: what its JavaScript sends back in `X-CSRF-TOKEN` (from a
/// `<meta name="csrf-token">` tag the page renders) or `X-XSRF-TOKEN` (from the `XSRF-TOKEN`
/// cookie).
///
/// The cookie layer puts it in the request extensions of the web routes it wraps, so templates
/// can render it. Only its hash is sealed in the cookie. `Debug` never shows it.
///
/// ```
/// use tower_passport::cookie::CsrfToken;
/// fn meta_tag(token: &CsrfToken) -> String {
///     format!(r#"<meta name="csrf-token" content="{}">"#, token.as_str())
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(Box<str>);

impl CsrfToken {
    /// A fresh token: 256 random bits, base64url.
    pub fn generate() -> Option<Self> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).ok()?;
        Some(Self(URL_SAFE_NO_PAD.encode(bytes).into()))
    }

    /// A token as a request carried it (the `XSRF-TOKEN` cookie).
    pub fn from_presented(value: &str) -> Self {
        Self(value.into())
    }

    /// The token, to render into the page.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the cookie seals: SHA-256 of the token, base64url.
    pub fn hash(&self) -> String {
        hash(self.0.as_bytes())
    }
}

/// SHA-256 of `value`, base64url.
pub(crate) fn hash(value: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value);
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_never_shown_in_debug() {
        let (a, b) = (CsrfToken::generate().expect("randomness"), CsrfToken::generate().expect("randomness"));
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43);
        assert_eq!(format!("{a:?}"), "CsrfToken(..)");
        assert_ne!(a.hash(), a.as_str());
    }
}
