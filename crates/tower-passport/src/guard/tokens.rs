//! What the guard checks tokens with: the [`Verifier`] (JWTs), and with the
//! `introspection` feature an [`Introspector`](crate::introspection::Introspector) for
//! opaque tokens, alone or beside the verifier (mixed mode).

use std::fmt;

use crate::verify::Verifier;

#[cfg(feature = "introspection")]
use crate::introspection::Introspector;

/// The guard's token checks.
#[derive(Clone)]
pub(crate) enum Tokens {
    /// JWTs only.
    Jwt(Verifier),
    /// JWT-shaped tokens verified, every other token introspected.
    #[cfg(feature = "introspection")]
    Mixed(Verifier, Introspector),
    /// Every token introspected.
    #[cfg(feature = "introspection")]
    Opaque(Introspector),
}

/// Where one token goes.
pub(crate) enum Route<'a> {
    Verify(&'a Verifier),
    #[cfg(feature = "introspection")]
    Introspect(&'a Introspector),
}

impl Tokens {
    /// The verifier, unless every token is introspected.
    #[inline]
    pub(crate) fn verifier(&self) -> Option<&Verifier> {
        match self {
            Self::Jwt(verifier) => Some(verifier),
            #[cfg(feature = "introspection")]
            Self::Mixed(verifier, _) => Some(verifier),
            #[cfg(feature = "introspection")]
            Self::Opaque(_) => None,
        }
    }

    /// Where `token` is checked. Mixed mode tells a JWT by its shape alone.
    #[inline]
    pub(crate) fn route(&self, token: &str) -> Route<'_> {
        #[cfg(not(feature = "introspection"))]
        let _ = token;
        match self {
            Self::Jwt(verifier) => Route::Verify(verifier),
            #[cfg(feature = "introspection")]
            Self::Mixed(verifier, _) if is_jwt_shaped(token) => Route::Verify(verifier),
            #[cfg(feature = "introspection")]
            Self::Mixed(_, introspector) | Self::Opaque(introspector) => Route::Introspect(introspector),
        }
    }

    /// Adds `introspector`: mixed mode beside a verifier, or in place of another one.
    #[cfg(feature = "introspection")]
    pub(crate) fn with_introspector(self, introspector: Introspector) -> Self {
        match self {
            Self::Jwt(verifier) | Self::Mixed(verifier, _) => Self::Mixed(verifier, introspector),
            Self::Opaque(_) => Self::Opaque(introspector),
        }
    }

    pub(crate) fn invalidate_jti(&self, jti: &str) {
        if let Some(verifier) = self.verifier() {
            verifier.invalidate_jti(jti);
        }
        #[cfg(feature = "introspection")]
        if let Some(introspector) = self.introspector() {
            introspector.invalidate_jti(jti);
        }
    }

    /// The verifier caches nothing per client; introspected answers are dropped.
    pub(crate) fn invalidate_client(&self, client_id: &str) {
        #[cfg(feature = "introspection")]
        if let Some(introspector) = self.introspector() {
            introspector.invalidate_client(client_id);
        }
        #[cfg(not(feature = "introspection"))]
        let _ = client_id;
    }

    pub(crate) fn invalidate_everything(&self) {
        if let Some(verifier) = self.verifier() {
            verifier.invalidate_everything();
        }
        #[cfg(feature = "introspection")]
        if let Some(introspector) = self.introspector() {
            introspector.invalidate_everything();
        }
    }

    #[cfg(feature = "introspection")]
    fn introspector(&self) -> Option<&Introspector> {
        match self {
            Self::Jwt(_) => None,
            Self::Mixed(_, introspector) | Self::Opaque(introspector) => Some(introspector),
        }
    }
}

/// Three non-empty parts separated by dots, as a compact JWS has: opaque tokens
/// (base64url, hex, or Passport-style ids) have no dot.
#[cfg(feature = "introspection")]
fn is_jwt_shaped(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !header.is_empty() && !payload.is_empty() && !signature.is_empty()
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Jwt(verifier) => fmt::Debug::fmt(verifier, f),
            #[cfg(feature = "introspection")]
            Self::Mixed(verifier, introspector) => f
                .debug_struct("Mixed")
                .field("verifier", verifier)
                .field("introspector", introspector)
                .finish(),
            #[cfg(feature = "introspection")]
            Self::Opaque(introspector) => fmt::Debug::fmt(introspector, f),
        }
    }
}

#[cfg(all(test, feature = "introspection"))]
mod tests {
    use super::is_jwt_shaped;

    #[test]
    fn a_jwt_is_told_by_its_three_parts() {
        assert!(is_jwt_shaped("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
        for opaque in ["2YotnFZFEjr1zCsicMWpAA", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", ""] {
            assert!(!is_jwt_shaped(opaque), "{opaque}");
        }
    }
}
