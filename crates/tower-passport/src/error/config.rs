use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A mistake in configuration: a key that does not parse, a missing issuer, a realm with
/// characters a header cannot carry. Returned by builders, never by requests.
///
/// It has a [`kind`](Self::kind) to match on, a message for people, and, when another
/// error caused it (the `io::Error` behind an unreadable key file, the parser's error
/// behind a bad PEM), that error as its [`source`](Error::source). The `Display` text
/// ends with the source's, so one `{}` tells the whole story.
///
/// ```
/// use tower_passport::error::ConfigErrorKind;
/// use tower_passport::{Algorithm, VerifyingKey};
/// let error = VerifyingKey::from_pem(b"not a pem", Algorithm::RS256).unwrap_err();
/// assert_eq!(error.kind(), ConfigErrorKind::InvalidKey);
/// assert!(error.to_string().contains("PEM"));
/// assert!(std::error::Error::source(&error).is_some()); // the PEM parser's own error
/// ```
#[derive(Clone)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: Cow<'static, str>,
    source: Option<Arc<dyn Error + Send + Sync + 'static>>,
}

/// What a [`ConfigError`] is about.
///
/// ```
/// use tower_passport::error::ConfigErrorKind;
/// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let error = Verifier::builder(keys).audience("api").build().unwrap_err();
/// assert_eq!(error.kind(), ConfigErrorKind::Issuer);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// Key material does not parse, or does not fit its algorithm: a PEM, DER, JWK or
    /// JWKS document, an RSA key out of range, an HMAC secret too short, a private key
    /// where a public one belongs.
    InvalidKey,
    /// A key file (or the variable naming it) cannot be read.
    KeyFile,
    /// An algorithm is unknown, or not of the family asked for.
    Algorithm,
    /// An issuer is missing, empty or trusted twice.
    Issuer,
    /// An audience is missing.
    Audience,
    /// The realm cannot be carried in a `WWW-Authenticate` challenge.
    Realm,
    /// A URL is invalid, uses plain http without permission, or cannot be carried in a
    /// header.
    Url,
    /// A size, duration, count or interval is zero or out of order.
    Limit,
    /// TLS cannot be set up (root certificates, crypto provider).
    Tls,
    /// The option needs a cargo feature that is not enabled.
    Feature,
    /// Key generation or the random source failed.
    Crypto,
    /// A `LISTEN/NOTIFY` or pub/sub channel name is not a plain identifier.
    Channel,
    /// A cookie name, path or domain cannot be carried in a `Set-Cookie` header.
    Cookie,
    /// A header name or value cannot be carried in HTTP, or a header is configured twice.
    Header,
    /// A policy table does not parse or does not hold together: an unknown check, a bad
    /// route pattern, a duplicate route. The message names the file and the line.
    Policy,
}

impl ConfigError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ConfigErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    /// Keeps `source` as the cause.
    pub fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What the error is about.
    ///
    /// ```
    /// use tower_passport::error::ConfigErrorKind;
    /// use tower_passport::{Algorithm, VerifyingKey};
    /// let error = VerifyingKey::from_hmac_secret(Algorithm::HS256, b"short").unwrap_err();
    /// assert_eq!(error.kind(), ConfigErrorKind::InvalidKey);
    /// ```
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ConfigError");
        debug.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match &self.source {
            Some(source) => write!(f, ": {source}"),
            None => Ok(()),
        }
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn Error + 'static))
    }
}
