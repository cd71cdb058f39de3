//! [`Nonces`]: server-provided DPoP nonces (RFC 9449 §8 and §9), stateless.
//!
//! A nonce is the second it was issued, signed: `base64url(issued_at ‖ HMAC-SHA256(key,
//! issued_at)[..16])`, 32 characters. Checking one takes the key and the clock, nothing
//! else: no set of issued nonces to store, expire or share, so replicas that share the
//! secret ([`Nonces::new`]) accept each other's nonces, and a nonce rotates by itself as
//! it ages out of its lifetime. A moka set of random nonces would do the same on one
//! replica only, and would need a shared store (and its round trip) on several.
//!
//! A nonce is not single-use (the proof's `jti` is); it bounds how long a proof made in
//! advance can be used: a proof must carry a nonce issued within the lifetime.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::HeaderName;
use subtle::ConstantTimeEq;

use crate::clock::{Clock, SystemClock};
use crate::error::{AuthError, ConfigError, ConfigErrorKind};

/// The `DPoP-Nonce` response header, which carries a fresh nonce (RFC 9449 §8).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// How long a nonce is accepted unless [`Nonces::lifetime`] says otherwise: five minutes.
pub const DEFAULT_NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// How far ahead of this replica's clock a nonce's issue time may be: another replica's
/// clock may run ahead.
const MAX_CLOCK_AHEAD: u64 = 60;

/// The shortest secret taken, in bytes.
const MIN_SECRET_LEN: usize = 32;

/// Bytes of the tag kept.
const TAG_LEN: usize = 16;

/// Bytes of a decoded nonce: the issue time, then the tag.
const NONCE_LEN: usize = 8 + TAG_LEN;

/// Issues and checks server-provided DPoP nonces (RFC 9449 §8, §9).
///
/// Cheap to clone; give it to [`Dpop::nonces`](super::Dpop::nonces) for a resource server, and to the issuer's
/// `OAuthServer::dpop_nonces` for its token endpoint.
///
/// ```
/// use std::time::Duration;
/// use tower_passport::clock::ManualClock;
/// use tower_passport::dpop::{NonceState, Nonces};
/// use tower_passport::error::Reason;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new(1_700_000_000);
/// let nonces = Nonces::new(&[7; 32])?.lifetime(Duration::from_secs(60)).clock(clock.clone());
/// let nonce = nonces.issue();
/// assert_eq!(nonces.check(Some(&nonce))?, NonceState::Current);
/// clock.advance(40);
/// assert_eq!(nonces.check(Some(&nonce))?, NonceState::Ending); // time to send a new one
/// clock.advance(30);
/// assert_eq!(nonces.check(Some(&nonce)).unwrap_err().reason(), Reason::DpopNonceRequired);
/// assert!(nonces.check(None).is_err());
/// // Another replica with the same secret accepts the first one's nonces.
/// let replica = Nonces::new(&[7; 32])?.clock(clock.clone());
/// assert!(replica.check(Some(&nonces.issue())).is_ok());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Nonces {
    inner: Arc<Inner>,
}

struct Inner {
    key: hmac::Key,
    lifetime: u64,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Nonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("Nonces").field("lifetime", &self.inner.lifetime).finish_non_exhaustive()
    }
}

impl PartialEq for Nonces {
    /// The same nonce source (clones of one [`Nonces`]).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Nonces {}

/// How far a valid nonce is into its lifetime ([`Nonces::check`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceState {
    /// In the first half of its lifetime.
    Current,
    /// In the second half: answer with a fresh one in `DPoP-Nonce`, so the client moves
    /// on before this one is refused.
    Ending,
}

impl Nonces {
    /// Nonces signed with `secret` (at least 32 bytes): replicas given the same secret
    /// accept each other's nonces.
    ///
    /// # Errors
    /// [`ConfigErrorKind::InvalidKey`] for a secret shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidKey,
                "a DPoP nonce secret must be at least 32 bytes",
            ));
        }
        Ok(Self::with_key(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }

    /// Nonces signed with a random key, for a single replica.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Crypto`] when the random source fails.
    pub fn random() -> Result<Self, ConfigError> {
        let mut secret = [0u8; MIN_SECRET_LEN];
        aws_lc_rs::rand::fill(&mut secret)
            .map_err(|_| ConfigError::new(ConfigErrorKind::Crypto, "the random source failed"))?;
        Ok(Self::with_key(hmac::Key::new(hmac::HMAC_SHA256, &secret)))
    }

    fn with_key(key: hmac::Key) -> Self {
        let lifetime = DEFAULT_NONCE_LIFETIME.as_secs();
        Self { inner: Arc::new(Inner { key, lifetime, clock: Arc::new(SystemClock) }) }
    }

    /// How long a nonce is accepted after it is issued ([`DEFAULT_NONCE_LIFETIME`] by
    /// default; at least one second).
    #[must_use]
    pub fn lifetime(self, lifetime: Duration) -> Self {
        let lifetime = lifetime.as_secs().max(1);
        self.rebuilt(|inner| Inner { lifetime, ..inner })
    }

    /// The clock nonces are issued and checked by; the system clock by default.
    #[must_use]
    pub fn clock(self, clock: impl Clock) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        self.rebuilt(|inner| Inner { clock, ..inner })
    }

    fn rebuilt(self, change: impl FnOnce(Inner) -> Inner) -> Self {
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => {
                Inner { key: shared.key.clone(), lifetime: shared.lifetime, clock: shared.clock.clone() }
            }
        };
        Self { inner: Arc::new(change(inner)) }
    }

    /// A fresh nonce, for a `DPoP-Nonce` header.
    pub fn issue(&self) -> String {
        let issued_at = self.inner.clock.now().to_be_bytes();
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..8].copy_from_slice(&issued_at);
        nonce[8..].copy_from_slice(&self.tag(&issued_at));
        URL_SAFE_NO_PAD.encode(nonce)
    }

    /// Checks a proof's `nonce`: one this key issued, within its lifetime.
    ///
    /// # Errors
    /// [`AuthError::use_dpop_nonce`] for no nonce, or one that is forged, malformed or
    /// expired.
    pub fn check(&self, nonce: Option<&str>) -> Result<NonceState, AuthError> {
        let refused = AuthError::use_dpop_nonce;
        let nonce = nonce.filter(|nonce| nonce.len() <= 64).ok_or_else(refused)?;
        let mut decoded = [0u8; NONCE_LEN + 3];
        let len = URL_SAFE_NO_PAD.decode_slice(nonce, &mut decoded).map_err(|_| refused())?;
        let (issued_at, tag) = decoded[..len].split_at_checked(8).ok_or_else(refused)?;
        if tag.len() != TAG_LEN || !bool::from(self.tag(issued_at).ct_eq(tag)) {
            return Err(refused());
        }
        let mut seconds = [0u8; 8];
        seconds.copy_from_slice(issued_at);
        let issued_at = u64::from_be_bytes(seconds);
        let now = self.inner.clock.now();
        let age = now.saturating_sub(issued_at);
        if age >= self.inner.lifetime || issued_at.saturating_sub(now) > MAX_CLOCK_AHEAD {
            return Err(refused());
        }
        Ok(if age.saturating_mul(2) >= self.inner.lifetime {
            NonceState::Ending
        } else {
            NonceState::Current
        })
    }

    fn tag(&self, issued_at: &[u8]) -> [u8; TAG_LEN] {
        let full = hmac::sign(&self.inner.key, issued_at);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full.as_ref()[..TAG_LEN]);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn nonces(clock: &ManualClock) -> Nonces {
        Nonces::new(&[3; 32]).unwrap().lifetime(Duration::from_secs(100)).clock(clock.clone())
    }

    #[test]
    fn an_issued_nonce_passes_until_its_lifetime_ends() {
        let clock = ManualClock::new(1_000_000);
        let nonces = nonces(&clock);
        let nonce = nonces.issue();
        assert_eq!(nonce.len(), 32);
        assert_eq!(nonces.check(Some(&nonce)).unwrap(), NonceState::Current);
        clock.advance(50);
        assert_eq!(nonces.check(Some(&nonce)).unwrap(), NonceState::Ending);
        clock.advance(50);
        assert!(nonces.check(Some(&nonce)).is_err());
    }

    #[test]
    fn a_nonce_lives_five_minutes_by_default() {
        let clock = ManualClock::new(1_000_000);
        let nonces = Nonces::new(&[3; 32]).unwrap().clock(clock.clone());
        let nonce = nonces.issue();
        clock.advance(299);
        assert!(nonces.check(Some(&nonce)).is_ok());
        clock.advance(1);
        assert!(nonces.check(Some(&nonce)).is_err());
    }

    #[test]
    fn a_forged_or_foreign_nonce_is_refused() {
        let clock = ManualClock::new(1_000_000);
        let nonces = nonces(&clock);
        let nonce = nonces.issue();
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        // A later issue time under the old tag.
        bytes[7] ^= 1;
        assert!(nonces.check(Some(&URL_SAFE_NO_PAD.encode(&bytes))).is_err());
        let other = Nonces::new(&[4; 32]).unwrap().clock(clock.clone());
        assert!(nonces.check(Some(&other.issue())).is_err());
        for junk in ["", "abc", "!!!!", &"A".repeat(100)] {
            assert!(nonces.check(Some(junk)).is_err(), "{junk}");
        }
        assert!(nonces.check(None).is_err());
    }

    #[test]
    fn a_nonce_from_far_ahead_is_refused() {
        let clock = ManualClock::new(1_000_000);
        let ahead = nonces(&ManualClock::new(1_000_000 + MAX_CLOCK_AHEAD + 1)).issue();
        assert!(nonces(&clock).check(Some(&ahead)).is_err());
    }

    #[test]
    fn a_short_secret_is_refused_and_the_key_never_shows() {
        assert_eq!(Nonces::new(&[1; 31]).unwrap_err().kind(), ConfigErrorKind::InvalidKey);
        let debug = format!("{:?}", Nonces::new(&[0xab; 32]).unwrap());
        assert!(!debug.contains("171") && !debug.to_lowercase().contains("ab, "), "{debug}");
        assert!(Nonces::random().is_ok());
    }
}
