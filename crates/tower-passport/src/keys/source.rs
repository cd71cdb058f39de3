//! Where a verifier's keys come from: a static set, or (feature `jwks`) a remote JWKS.

use super::{Algorithm, KeySet, VerifyingKey};
use crate::error::AuthError;

#[cfg(feature = "jwks")]
use super::RemoteKeySet;
use super::SharedKeySet;

/// The keys one issuer signs with, as the [`Verifier`](crate::Verifier) reads them.
///
/// Either way a request reads the keys from memory: a static [`KeySet`] directly, a
/// remote set from its current immutable snapshot (lock-free). Only a token whose `kid` a
/// remote set does not know yet may wait, through the guard, for the one refetch that
/// kid triggers (bounded; see `RemoteKeySetBuilder::unknown_kid_wait`, feature `jwks`).
/// Both convert with `into()`, so [`Verifier::builder`](crate::Verifier::builder) and
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
    Shared(SharedKeySet),
}

/// How a key is looked up, as far as an unknown `kid` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Refuse at once (the refetch is still asked for).
    NoWait,
    /// The caller can wait for the refetch: hand it back as [`Miss::Refetching`].
    MayWait,
    /// Once more after that wait: no new refetch, not counted again.
    AfterRefetch,
}

/// Why a key source verified nothing.
pub(crate) enum Miss {
    /// The answer for this request.
    Refused(AuthError),
    /// A remote set does not know the token's `kid` and is refetching: the request may
    /// wait for that one fetch, then verify again (without waiting a second time).
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    Refetching(KeyWait),
}

impl Miss {
    /// The answer for a caller that does not wait: an unknown `kid`.
    pub(crate) fn into_error(self) -> AuthError {
        match self {
            Self::Refused(error) => error,
            Self::Refetching(_) => AuthError::invalid_token(crate::error::Reason::UnknownKid),
        }
    }
}

impl From<AuthError> for Miss {
    fn from(error: AuthError) -> Self {
        Self::Refused(error)
    }
}

#[cfg(feature = "jwks")]
pub(crate) use super::remote::KeyWait;

/// Without remote sets nothing refetches, so nothing is waited for.
#[cfg(not(feature = "jwks"))]
pub(crate) enum KeyWait {}

#[cfg(not(feature = "jwks"))]
impl KeyWait {
    pub(crate) async fn wait(self) {
        match self {}
    }
}

impl KeySource {
    /// Runs `verify` with the key for a token with this `kid` and `alg`.
    ///
    /// A static set answers `invalid_token` when no key fits. A remote set also answers
    /// 503 `KeysUnavailable` when it holds no usable snapshot, and on an unknown `kid`
    /// asks for a refetch (single flight, then a cooldown): with [`Lookup::MayWait`], the
    /// request that triggered it and those with the same `kid` that join it get
    /// [`Miss::Refetching`]; every other one fails at once.
    #[inline]
    #[cfg_attr(not(feature = "jwks"), allow(unused_variables))]
    pub(crate) fn with_key<R>(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        lookup: Lookup,
        verify: impl FnOnce(&VerifyingKey) -> Result<R, AuthError>,
    ) -> Result<R, Miss> {
        match self {
            Self::Static(keys) => Ok(verify(keys.select(kid, alg).map_err(AuthError::invalid_token)?)?),
            #[cfg(feature = "jwks")]
            Self::Remote(remote) => remote.with_key(kid, alg, lookup, verify),
            Self::Shared(shared) => Ok(shared.with_key(kid, alg, verify)?),
        }
    }

    /// Counts the key withdrawals this source has seen: a verified-token cache entry made
    /// at an older epoch may name a key that is gone, and is verified again. Read it
    /// before [`with_key`](Self::with_key). A static set never changes.
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        match self {
            Self::Static(_) => 0,
            #[cfg(feature = "jwks")]
            Self::Remote(remote) => remote.epoch(),
            Self::Shared(shared) => shared.epoch(),
        }
    }

    /// The key ids known now, for the unknown-`kid` log line.
    pub(crate) fn known_kids(&self) -> Vec<String> {
        match self {
            Self::Static(keys) => keys.kids().map(str::to_owned).collect(),
            #[cfg(feature = "jwks")]
            Self::Remote(remote) => remote.status().kids,
            Self::Shared(shared) => shared.snapshot().kids().map(str::to_owned).collect(),
        }
    }

    /// Whether this is a static set with no key in it: a configuration mistake.
    pub(crate) fn is_empty_static(&self) -> bool {
        match self {
            Self::Static(keys) => keys.is_empty(),
            #[cfg(feature = "jwks")]
            Self::Remote(_) => false,
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

impl From<SharedKeySet> for KeySource {
    fn from(keys: SharedKeySet) -> Self {
        Self::Shared(keys)
    }
}
