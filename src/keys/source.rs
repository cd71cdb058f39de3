//! Where a verifier's keys come from: a static set, or (feature `jwks`) a remote JWKS.

use super::{Algorithm, KeySet, VerifyingKey};
use crate::error::AuthError;

#[cfg(feature = "jwks")]
use super::RemoteKeySet;
#[cfg(any(feature = "issuer", feature = "jwks"))]
use super::SharedKeySet;

/// The keys one issuer signs with, as the [`Verifier`](crate::Verifier) reads them.
///
/// Either way a request reads the keys synchronously, from memory: a static [`KeySet`]
/// directly, a remote set from its current immutable snapshot (lock-free), never
/// waiting for a fetch. Both convert with `into()`, so
/// [`Verifier::builder`](crate::Verifier::builder) and
/// [`TrustedIssuer::new`](crate::verify::TrustedIssuer::new) take either.
///
/// ```
/// use tower_passport::{Algorithm, KeySet, keys::KeySource, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let source = KeySource::from(keys);
/// assert!(matches!(source, KeySource::Static(ref set) if set.len() == 1));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum KeySource {
    /// Keys loaded once, from PEM, DER, JWK or a JWKS document.
    Static(KeySet),
    /// A JWKS fetched over HTTP and refreshed in the background.
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    Remote(RemoteKeySet),
    /// Keys replaced at run time by their owner (a signer rotating its keys).
    #[cfg(any(feature = "issuer", feature = "jwks"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "issuer", feature = "jwks"))))]
    Shared(SharedKeySet),
}

impl KeySource {
    /// Runs `verify` with the key for a token with this `kid` and `alg`.
    ///
    /// A static set answers `invalid_token` when no key fits. A remote set also answers
    /// 503 `KeysUnavailable` when it holds no usable snapshot, and on an unknown `kid`
    /// schedules a background refetch (single flight, then a cooldown) while this request
    /// fails at once.
    #[inline]
    pub(crate) fn with_key<R>(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        verify: impl FnOnce(&VerifyingKey) -> Result<R, AuthError>,
    ) -> Result<R, AuthError> {
        match self {
            Self::Static(keys) => verify(keys.select(kid, alg).map_err(AuthError::invalid_token)?),
            #[cfg(feature = "jwks")]
            Self::Remote(remote) => remote.with_key(kid, alg, verify),
            #[cfg(any(feature = "issuer", feature = "jwks"))]
            Self::Shared(shared) => shared.with_key(kid, alg, verify),
        }
    }

    /// Whether this is a static set with no key in it: a configuration mistake.
    pub(crate) fn is_empty_static(&self) -> bool {
        match self {
            Self::Static(keys) => keys.is_empty(),
            #[cfg(feature = "jwks")]
            Self::Remote(_) => false,
            #[cfg(any(feature = "issuer", feature = "jwks"))]
            Self::Shared(_) => false,
        }
    }
}

impl From<KeySet> for KeySource {
    fn from(keys: KeySet) -> Self {
        Self::Static(keys)
    }
}

#[cfg(feature = "jwks")]
impl From<RemoteKeySet> for KeySource {
    fn from(keys: RemoteKeySet) -> Self {
        Self::Remote(keys)
    }
}

#[cfg(any(feature = "issuer", feature = "jwks"))]
impl From<SharedKeySet> for KeySource {
    fn from(keys: SharedKeySet) -> Self {
        Self::Shared(keys)
    }
}
