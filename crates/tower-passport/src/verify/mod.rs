//! The [`Verifier`]: signature, `typ`, time, issuer and audience checks, in front of a
//! verified-token cache.
//!
//! # What is checked
//!
//! - **Keys** come from PEM (SPKI or PKCS#1), DER, a JWK, or a JWKS document, and each is
//!   bound to exactly one algorithm when it is loaded: RS256/384/512, PS256/384/512,
//!   ES256/384, EdDSA, and HS256/384/512 by explicit opt-in. A token whose `alg` differs
//!   from its key's is refused, and so is `none`.
//! - **Key choice** is by `kid`. A token without `kid` is accepted only when exactly one key
//!   fits its `alg`: there is no trial verification.
//!   A public key loaded without one (from PEM, DER or a JWK without `kid`) is named by its
//!   RFC 7638 thumbprint, the `kid` this crate's issuer gives its signing keys, so the
//!   issuer's public key PEM is all a resource server needs.
//! - **Claims.** `exp` is required; `nbf` and `iat` are checked when present; each with a
//!   leeway (60 s by default). `iss` must match exactly and `aud` (string or array) must
//!   contain a configured audience. Duplicate registered claims are refused.
//! - **Scopes** are read from `scope` (space-delimited, RFC 9068) and from the `scp` and
//!   `scopes` arrays (Okta/Azure, Passport/league). `*` grants every scope. Inherited
//!   scopes (`orders` satisfies `orders:create`) are an opt-in:
//!   `VerifierBuilder::inherited_scopes(true)`.
//! - **Verified-token cache** (moka). It is keyed on the whole token string, so a hit proves
//!   that exact token was verified before; an entry lives no longer than the token's
//!   remaining lifetime (and 5 minutes at most). A hit still checks expiry and still asks
//!   the revocation check.
//! - **Revocation** is a small trait, `RevocationCheck`, consulted for every request. Its
//!   errors fail closed with 503.
//! - **Bound tokens.** A token with a `cnf` claim (DPoP `jkt`, mTLS `x5t#S256`, …) is 401
//!   `invalid_token` (`Reason::KeyBoundToken`): without a proof-of-possession check it is
//!   never accepted as a bearer token.
//!
//! # Several issuers
//!
//! A verifier may trust several issuers, each with its own key source
//! (static or remote), audiences and `typ` policy:
//!
//! ```rust
//! use tower_passport::verify::TrustedIssuer;
//! use tower_passport::{KeySet, Verifier};
//!
//! # fn main() -> Result<(), tower_passport::ConfigError> {
//! # use tower_passport::{Algorithm, VerifyingKey};
//! # let key = |secret: &[u8]| VerifyingKey::from_hmac_secret(Algorithm::HS256, secret);
//! # let (passport_keys, partner_jwks) = (KeySet::new().with_key(key(&[1; 32])?), KeySet::new().with_key(key(&[2; 32])?));
//! let verifier = Verifier::builder(passport_keys)
//!     .issuer("https://auth.example.com")
//!     .audience("orders-api")
//!     .trust(TrustedIssuer::new("https://login.partner.example", partner_jwks)
//!         .audience("orders-api")
//!         .accept_generic_jwt_typ())
//!     .build()?;
//! # let _ = verifier;
//! # Ok(())
//! # }
//! ```
//!
//! A token is routed by its `iss`, read before the signature is checked, to exactly that
//! issuer's keys, and its claims are trusted only once the signature verifies under them.
//! There is no trial verification against the other issuers; an `iss` no issuer claims is
//! 401 `invalid_token`. A verifier with one issuer checks `iss` after the signature, as
//! before.

mod builder;
mod cache;
mod claims_check;
mod client_rule;
mod headers;
#[cfg(feature = "introspection")]
pub(crate) mod introspected;
mod issuers;
mod jws;

pub use builder::{TypPolicy, VerifierBuilder};
pub use client_rule::ClientTokenRule;
pub use issuers::TrustedIssuer;

use std::mem::MaybeUninit;
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{AuthError, Reason};
use crate::keys::unknown_kid::UnknownKidLog;
use crate::keys::{KeySource, Lookup, Miss};
use crate::revocation::Invalidate;
use crate::token::VerifiedToken;

pub(crate) use cache::same_bytes;
pub(crate) use jws::decode_into;

use cache::{Cached, VerifiedCache};
use claims_check::{Binding, ClaimsPolicy, Payload};
use issuers::IssuerPolicy;

/// Verifies JWT access tokens against a key set and a claims policy. Cheap to clone.
///
/// A token passes when its signature verifies under the key its `kid` names (bound to the
/// token's `alg`), its `typ` fits the [`TypPolicy`], `exp` has not passed, `nbf`/`iat` are
/// not in the future (each with the leeway), `iss` is the configured issuer and `aud`
/// contains a configured audience.
///
/// A token carrying a `cnf` claim (bound to a key: DPoP, mutual TLS) is refused
/// ([`Reason::KeyBoundToken`]): no proof of possession is checked here, so it is never
/// accepted as a plain bearer token. `alg` may be `Ed25519` or `EdDSA` for an Ed25519
/// key (RFC 9864). Whether a token is a client's own or a user's follows the issuer's
/// [`ClientTokenRule`].
///
/// A verified-token cache (on by default) remembers tokens that passed, keyed on the
/// whole token string, for no longer than the token's remaining lifetime. A hit still
/// checks expiry, and is verified again when its key source has withdrawn a key since
/// (a remote set refreshed without it, a signer's retired key).
///
/// A token refused because its `kid` names no key its issuer's key source holds (a
/// resource server given the wrong key, or an issuer that rotated to a key it was never
/// given) is logged at `warn`, once per `kid` per minute, with the `kid` and the key ids
/// that are known; a flood of random `kid`s gets one summary line a minute.
///
/// A verifier may trust several issuers ([`VerifierBuilder::trust`], [`TrustedIssuer`]),
/// each with its own [`KeySource`], audiences and `typ` policy. A token is routed by its
/// `iss` claim, read before the signature is checked, to exactly one issuer's keys; its
/// claims are trusted only once the signature verifies under them. A verifier with a
/// single issuer checks `iss` with the other claims, after the signature.
///
/// ```
/// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey, error::Reason};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let verifier = Verifier::builder(keys)
///     .issuer("https://auth.example.com")
///     .audience("orders-api")
///     .build()?;
/// let error = verifier.verify("not.a.jwt").unwrap_err();
/// assert_eq!(error.reason(), Reason::MalformedHeaderParameters);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// Never empty.
    issuers: Box<[IssuerPolicy]>,
    policy: ClaimsPolicy,
    clock: Arc<dyn Clock>,
    cache: Option<VerifiedCache>,
    /// The rate-limited `warn` line for tokens whose `kid` names no known key.
    unknown_kids: UnknownKidLog,
    /// The JOSE headers of tokens that verified, parsed once.
    headers: headers::KnownHeaders,
}

impl Verifier {
    /// Starts a verifier over `keys`: a [`KeySet`](crate::KeySet) or (feature `jwks`) a
    /// `RemoteKeySet`. The issuer and at least one audience are required.
    ///
    /// ```
    /// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// assert!(Verifier::builder(keys.clone()).issuer("https://auth.example.com").audience("api").build().is_ok());
    /// assert!(Verifier::builder(keys).audience("api").build().is_err()); // no issuer
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(keys: impl Into<KeySource>) -> VerifierBuilder {
        VerifierBuilder::new(keys.into())
    }

    /// Starts a verifier that trusts `issuer`; add more with [`VerifierBuilder::trust`].
    ///
    /// ```
    /// use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, Verifier, VerifyingKey, error::Reason};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// let verifier = Verifier::trusting(TrustedIssuer::new("https://auth.example.com", keys).audience("api"))
    ///     .build()?;
    /// assert_eq!(verifier.verify("not.a.jwt").unwrap_err().reason(), Reason::MalformedHeaderParameters);
    /// # Ok(())
    /// # }
    /// ```
    pub fn trusting(issuer: TrustedIssuer) -> VerifierBuilder {
        VerifierBuilder::trusting(issuer)
    }

    /// Verifies `token` (the compact JWS, without the `Bearer ` prefix). Never waits: a
    /// token whose `kid` a remote key set does not know yet is refused at once
    /// ([`Reason::UnknownKid`]), while the set refetches. The guard uses
    /// [`verify_async`](Self::verify_async), which waits for that refetch.
    ///
    /// # Errors
    /// An `invalid_token` [`AuthError`] whose [`reason`](AuthError::reason) says why.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        self.attempt(token, Lookup::NoWait).map_err(Miss::into_error)
    }

    /// Verifies `token` as [`verify`](Self::verify) does, except that a token whose `kid`
    /// a remote key set does not know yet waits for the one refetch it triggers (or
    /// joins), bounded by
    /// [`unknown_kid_wait`](crate::keys::RemoteKeySetBuilder::unknown_kid_wait), and is
    /// then verified against the refetched set: a key rotation at the identity provider
    /// fails no request. It needs the tokio runtime only when it waits.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey, error::Reason};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build()?;
    /// let error = verifier.verify_async("not.a.jwt").await.unwrap_err();
    /// assert_eq!(error.reason(), Reason::MalformedHeaderParameters);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub async fn verify_async(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        match self.begin(token) {
            Err(Miss::Refetching(wait)) => {
                wait.wait().await;
                self.after_refetch(token)
            }
            other => other.map_err(Miss::into_error),
        }
    }

    /// The first attempt of a caller that waits: `Miss::Refetching` says what for; then
    /// [`after_refetch`](Self::after_refetch).
    pub(crate) fn begin(&self, token: &str) -> Result<VerifiedToken, Miss> {
        self.attempt(token, Lookup::MayWait)
    }

    /// The attempt after waiting for the refetch: an unknown `kid` is refused at once,
    /// without asking for another fetch or counting another miss.
    pub(crate) fn after_refetch(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        self.attempt(token, Lookup::AfterRefetch).map_err(Miss::into_error)
    }

    fn attempt(&self, token: &str, lookup: Lookup) -> Result<VerifiedToken, Miss> {
        match self.cached(token.as_bytes()) {
            Some(hit) => hit.map_err(Miss::Refused),
            None => self.attempt_cold(token, lookup, Binding::BearerOnly),
        }
    }

    /// Verifies `token` for the `DPoP` scheme (RFC 9449): as [`verify`](Self::verify),
    /// except that a token bound to a DPoP key (`cnf.jkt`) passes, with the key's
    /// thumbprint in [`VerifiedToken::dpop_thumbprint`]. The caller must then check a DPoP
    /// proof signed by that key ([`ProofVerifier`](crate::dpop::ProofVerifier)) and compare
    /// the thumbprints; the guard does both when DPoP is on.
    ///
    /// # Errors
    /// As [`verify`](Self::verify); a `cnf` without a `jkt` is still
    /// [`Reason::KeyBoundToken`].
    pub fn verify_for_dpop(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        match self.cached_for_dpop(token.as_bytes()) {
            Some(hit) => hit,
            None => self.attempt_cold(token, Lookup::NoWait, Binding::DpopAccepted).map_err(Miss::into_error),
        }
    }

    /// The verified-token cache's answer for exactly these bytes: `None` on a miss (or a
    /// hit verified under a key withdrawn since), else the token or why it expired. A
    /// DPoP-bound token verified for the `DPoP` scheme is refused here, on the `Bearer`
    /// path ([`Reason::KeyBoundToken`]). Reads the clock; allocates nothing.
    #[inline]
    pub(crate) fn cached(&self, token: &[u8]) -> Option<Result<VerifiedToken, AuthError>> {
        self.cached_as::<true>(token)
    }

    /// [`cached`](Self::cached) for the `DPoP` scheme: DPoP-bound tokens are answered too.
    #[inline]
    pub(crate) fn cached_for_dpop(&self, token: &[u8]) -> Option<Result<VerifiedToken, AuthError>> {
        self.cached_as::<false>(token)
    }

    /// [`cached`](Self::cached), refusing DPoP-bound tokens when `BEARER_ONLY` (after the
    /// expiry, whose answer comes first either way).
    #[inline(always)]
    fn cached_as<const BEARER_ONLY: bool>(&self, token: &[u8]) -> Option<Result<VerifiedToken, AuthError>> {
        let cache = self.inner.cache.as_ref()?;
        let now = self.inner.clock.now();
        let Some(hit) = cache.get(token, now).filter(|hit| self.current(hit)) else {
            crate::telemetry::verified_cache(false);
            return None;
        };
        crate::telemetry::verified_cache(true);
        Some(match self.inner.policy.check_expiry(hit.token.expires_at(), now) {
            Err(expired) => Err(expired),
            Ok(()) if BEARER_ONLY && hit.token.is_dpop_bound() => {
                Err(AuthError::invalid_token(Reason::KeyBoundToken))
            }
            Ok(()) => Ok(hit.token),
        })
    }

    /// The guard's first attempt after [`cached`](Self::cached) missed: verifies and caches
    /// without asking the cache again. `Miss::Refetching` says what to wait for; then
    /// [`after_refetch`](Self::after_refetch).
    pub(crate) fn begin_cold(&self, token: &str) -> Result<VerifiedToken, Miss> {
        self.attempt_cold(token, Lookup::MayWait, Binding::BearerOnly)
    }

    /// [`begin_cold`](Self::begin_cold) for the `DPoP` scheme.
    pub(crate) fn begin_cold_for_dpop(&self, token: &str) -> Result<VerifiedToken, Miss> {
        self.attempt_cold(token, Lookup::MayWait, Binding::DpopAccepted)
    }

    /// [`after_refetch`](Self::after_refetch) for the `DPoP` scheme.
    pub(crate) fn after_refetch_for_dpop(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        self.attempt_cold(token, Lookup::AfterRefetch, Binding::DpopAccepted).map_err(Miss::into_error)
    }

    /// Verifies `token` in full and caches it; a refused token's entry (verified under a key
    /// since withdrawn, or expired) is dropped.
    fn attempt_cold(&self, token: &str, lookup: Lookup, binding: Binding) -> Result<VerifiedToken, Miss> {
        let now = self.inner.clock.now();
        let checked = self.timed_check(token, now, lookup, binding);
        let Some(cache) = &self.inner.cache else {
            return checked.map(|cached| cached.token);
        };
        match checked {
            Ok(cached) => {
                let verified = cached.token.clone();
                let good_until = verified.expires_at().saturating_add(self.inner.policy.leeway);
                cache.insert(token.as_bytes(), cached, now, good_until);
                Ok(verified)
            }
            Err(miss) => {
                if matches!(miss, Miss::Refused(_)) && cache.holds(token.as_bytes()) {
                    cache.remove(token.as_bytes());
                }
                Err(miss)
            }
        }
    }

    /// [`check`](Self::check), timed into `passport_verify_cold_seconds` with `metrics`.
    #[inline]
    fn timed_check(&self, token: &str, now: u64, lookup: Lookup, binding: Binding) -> Result<Cached, Miss> {
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let checked = self.check(token, now, lookup, binding);
        #[cfg(feature = "metrics")]
        crate::telemetry::cold_verify(started.elapsed().as_secs_f64());
        checked
    }

    /// Whether a cache entry was verified under keys that have withdrawn none since.
    #[inline]
    fn current(&self, hit: &Cached) -> bool {
        self.inner.issuers.get(hit.issuer).is_some_and(|trusted| trusted.keys.epoch() == hit.epoch)
    }

    /// Verifies `token` at `now` without consulting or filling the cache, for the crate's
    /// own checks that must not touch it. A verifier built with
    /// [`no_cache`](VerifierBuilder::no_cache) does the same through
    /// [`verify`](Self::verify).
    pub fn verify_uncached(&self, token: &str, now: u64) -> Result<VerifiedToken, AuthError> {
        self.check(token, now, Lookup::NoWait, Binding::BearerOnly)
            .map(|cached| cached.token)
            .map_err(Miss::into_error)
    }

    /// [`testing::cache_as_verified`](crate::testing::cache_as_verified): verifies `token`,
    /// then caches its answer under each alias too.
    #[cfg(feature = "testing")]
    pub(crate) fn cache_as_verified(
        &self,
        token: &str,
        aliases: &mut dyn Iterator<Item = String>,
    ) -> Result<usize, AuthError> {
        let Some(cache) = &self.inner.cache else {
            return Ok(0);
        };
        let now = self.inner.clock.now();
        let cached = self.check(token, now, Lookup::NoWait, Binding::BearerOnly).map_err(Miss::into_error)?;
        let good_until = cached.token.expires_at().saturating_add(self.inner.policy.leeway);
        cache.insert(token.as_bytes(), cached.clone(), now, good_until);
        let mut count = 0;
        for alias in aliases {
            cache.insert(alias.as_bytes(), cached.clone(), now, good_until);
            count += 1;
        }
        Ok(count)
    }

    fn check(&self, token: &str, now: u64, lookup: Lookup, binding: Binding) -> Result<Cached, Miss> {
        let parts = jws::split(token)?;
        // Neither buffer is zeroed first: the decoder writes what is read.
        let (mut header_buffer, mut header_spill) = ([MaybeUninit::uninit(); 256], Vec::new());
        let header = self.inner.headers.read(parts.header, &mut header_buffer, &mut header_spill)?;
        // The claims are decoded and parsed once, here, but trusted only after the
        // signature verifies; a payload error is reported in its old place, after it.
        let raw = jws::decode_payload(parts.payload);
        let payload = raw.as_deref().map_err(Clone::clone).and_then(Payload::parse);
        let (issuer, trusted) = self.route(&payload)?;
        trusted.check_type(header.typ())?;
        let algorithm = header.algorithm()?;
        // Read before the key: a withdrawal published after this makes the entry stale.
        let epoch = trusted.keys.epoch();
        trusted
            .keys
            .with_key(header.kid(), algorithm, lookup, |key| {
                // Room for RSA-4096 and every EC/EdDSA/HMAC signature; longer ones spill.
                let (mut buffer, mut spill) = ([MaybeUninit::uninit(); 512], Vec::new());
                let signature = jws::decode_into(parts.signature.as_bytes(), &mut buffer, &mut spill)
                    .map_err(|()| AuthError::invalid_token(Reason::MalformedToken))?;
                if key.verify(parts.signing_input.as_bytes(), signature) {
                    Ok(())
                } else {
                    Err(AuthError::invalid_token(Reason::BadSignature))
                }
            })
            .map_err(|miss| self.note_unknown_kid(miss, trusted, header.kid()))?;
        let payload = payload.as_ref().map_err(Clone::clone)?;
        let build = self.inner.policy.check_claims(trusted, payload, header.kid(), now, binding, token)?;
        self.inner.headers.verified(parts.header, &header);
        // The claims no longer borrow the payload: it moves into the token as its raw claims.
        Ok(Cached { token: build(raw?.into_boxed_str()), issuer, epoch })
    }

    /// Logs a refusal for an unknown `kid` (rate-limited, at `warn`): the refusal path only.
    #[cold]
    fn note_unknown_kid(&self, miss: Miss, trusted: &IssuerPolicy, kid: Option<&str>) -> Miss {
        if let (Miss::Refused(error), Some(kid)) = (&miss, kid) {
            if error.reason() == Reason::UnknownKid {
                self.inner.unknown_kids.refused(&trusted.issuer, kid, || trusted.keys.known_kids());
            }
        }
        miss
    }

    /// The issuer whose keys verify this token, with its position: the only one, or the
    /// one its unverified `iss` names (the Laravel Passport one when it has none). Never a
    /// trial of several.
    fn route(&self, payload: &Result<Payload<'_>, AuthError>) -> Result<(usize, &IssuerPolicy), AuthError> {
        match &*self.inner.issuers {
            // One issuer: `iss` is checked with the other claims, after the signature.
            [only] => Ok((0, only)),
            issuers => {
                let iss = payload.as_ref().map_err(Clone::clone)?.unverified_issuer();
                let named = |trusted: &&IssuerPolicy| match iss {
                    Some(iss) => *trusted.issuer == *iss,
                    None => trusted.laravel_passport,
                };
                issuers
                    .iter()
                    .enumerate()
                    .find(|(_, trusted)| named(trusted))
                    .ok_or(AuthError::invalid_token(Reason::WrongIssuer))
            }
        }
    }

    /// Fetches every remote key set this verifier reads, now, and starts their background
    /// refresh: the explicit start-up step for [`RemoteKeySet`](crate::RemoteKeySet)s.
    /// Static key sets need nothing.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build()?;
    /// verifier.warm_up().await?; // nothing remote: done at once
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// The first remote set whose fetch fails, with why. The sets keep retrying in the
    /// background either way.
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    pub async fn warm_up(&self) -> Result<(), crate::BackendError> {
        for trusted in self.inner.issuers.iter() {
            if let KeySource::Remote(remote) = &trusted.keys {
                remote.warm_up().await?;
            }
        }
        Ok(())
    }

    /// Drops the verified tokens with this `jti` from the cache (a revocation announced by
    /// another node, for instance).
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap()))
    /// #     .issuer("i").audience("a").build().unwrap();
    /// verifier.invalidate_jti("3f6c1b2a");
    /// verifier.invalidate_everything();
    /// verifier.invalidate("eyJ...");
    /// ```
    pub fn invalidate_jti(&self, jti: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.remove_jti(jti);
        }
    }

    /// Empties the verified-token cache.
    pub fn invalidate_everything(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
    }

    /// Drops a token from the verified-token cache (for example when it is revoked).
    pub fn invalidate(&self, token: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.remove(token.as_bytes());
        }
    }
}

/// The verified-token cache as a target of a [`Hub`](crate::revocation::Hub).
/// It holds nothing per client: a client invalidation leaves it as it is.
impl Invalidate for Verifier {
    fn invalidate_jti(&self, jti: &str) {
        Verifier::invalidate_jti(self, jti);
    }

    fn invalidate_client(&self, _client_id: &str) {}

    fn invalidate_everything(&self) {
        Verifier::invalidate_everything(self);
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuers", &self.inner.issuers)
            .field("policy", &self.inner.policy)
            .field("cache", &self.inner.cache.is_some())
            .finish()
    }
}
