//! The guard's introspection of opaque tokens (feature `introspection`): which tokens go
//! to the [`Introspector`] rather than the [`Verifier`](crate::Verifier).

use crate::introspection::Introspector;

/// The introspector of a guard, and which tokens it takes.
#[derive(Clone, Debug)]
pub(crate) struct Opaque {
    pub(crate) introspector: Introspector,
    /// Every token ([`GuardLayer::introspecting`](super::GuardLayer::introspecting)), or
    /// only those not shaped like a JWT (mixed mode).
    every_token: bool,
}

impl Opaque {
    /// Every token introspected; the guard's verifier is never asked.
    pub(crate) fn every_token(introspector: Introspector) -> Self {
        Self { introspector, every_token: true }
    }

    /// Mixed mode beside a verifier, or (on an introspect-everything guard) the
    /// introspector replaced.
    pub(crate) fn added(current: Option<Self>, introspector: Introspector) -> Self {
        let every_token = current.is_some_and(|current| current.every_token);
        Self { introspector, every_token }
    }

    /// Whether `token` is introspected. Mixed mode tells a JWT by its shape alone.
    #[inline]
    pub(crate) fn takes(&self, token: &str) -> bool {
        self.every_token || !is_jwt_shaped(token)
    }
}

/// Three non-empty parts separated by dots, as a compact JWS has: opaque tokens
/// (base64url, hex, or Passport-style ids) have no dot.
fn is_jwt_shaped(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !header.is_empty() && !payload.is_empty() && !signature.is_empty()
}

#[cfg(test)]
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
