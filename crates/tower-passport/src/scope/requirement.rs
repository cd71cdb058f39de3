use std::sync::Arc;

use crate::error::{AuthError, Reason};
use crate::token::{Credential, PrincipalKind, RequirementId, VerifiedToken};

/// What a [`RequireLayer`](super::RequireLayer) checks.
#[derive(Debug)]
pub(crate) enum Requirement {
    /// Every scope (Passport's `scopes` middleware).
    AllOf { scopes: Box<[Box<str>]>, joined: Arc<str>, id: RequirementId },
    /// At least one scope (Passport's `scope` middleware).
    AnyOf { scopes: Box<[Box<str>]>, joined: Arc<str>, id: RequirementId },
    /// A client-credentials token (Passport 13's `EnsureClientIsResourceOwner`).
    ClientOnly,
    /// A user token.
    UserOnly,
    /// A bearer token, not the first-party cookie.
    BearerOnly,
}

impl Requirement {
    pub(crate) fn scopes<I>(iter: I, all: bool) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let scopes: Box<[Box<str>]> = iter.into_iter().map(|s| Box::from(s.as_ref())).collect();
        let joined: Arc<str> = Arc::from(scopes.join(" "));
        let id = RequirementId::next();
        if all {
            Self::AllOf { scopes, joined, id }
        } else {
            Self::AnyOf { scopes, joined, id }
        }
    }

    /// Whether `token` meets this requirement. A scope requirement the token passed before
    /// is passed again at once: its scopes cannot have changed (`token::verdict`).
    pub(crate) fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        match self {
            Self::AllOf { id, .. } | Self::AnyOf { id, .. } if token.passed().includes(*id) => Ok(()),
            Self::AllOf { scopes, joined, id } => {
                Self::scopes_verdict(token, token.scopes().can_all(scopes.iter()), joined, *id)
            }
            Self::AnyOf { scopes, joined, id } => {
                Self::scopes_verdict(token, token.scopes().can_any(scopes.iter()), joined, *id)
            }
            Self::ClientOnly if token.kind() != PrincipalKind::Client => {
                Err(AuthError::wrong_principal_kind(Reason::ClientTokenRequired))
            }
            Self::UserOnly if token.kind() != PrincipalKind::User => {
                Err(AuthError::wrong_principal_kind(Reason::UserTokenRequired))
            }
            // An access token, bearer or DPoP-bound: only the first-party cookie is refused.
            Self::BearerOnly if token.credential() == Credential::FirstPartyCookie => {
                Err(AuthError::wrong_principal_kind(Reason::BearerTokenRequired))
            }
            _ => Ok(()),
        }
    }

    /// A scope requirement's answer, remembered on the token when it passed.
    fn scopes_verdict(
        token: &VerifiedToken,
        passed: bool,
        joined: &Arc<str>,
        id: RequirementId,
    ) -> Result<(), AuthError> {
        if passed {
            token.passed().remember(id);
            Ok(())
        } else {
            Err(AuthError::insufficient_scope(joined.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{Scopes, Synthetic};

    fn token(scopes: &str) -> VerifiedToken {
        VerifiedToken::synthetic(Synthetic {
            issuer: "https://auth.example.com",
            subject: Some("42"),
            client_id: Some("app"),
            scopes: Scopes::from_space_delimited(scopes),
            kind: PrincipalKind::User,
            expires_at: 10_000,
            issued_at_ms: None,
            provider: None,
            credential: Credential::Bearer,
        })
    }

    #[test]
    fn a_remembered_pass_is_only_for_the_requirement_that_passed() {
        let token = token("read-posts");
        let read = Requirement::scopes(["read-posts"], true);
        let write = Requirement::scopes(["write-posts"], true);
        let either = Requirement::scopes(["write-posts", "read-posts"], false);
        assert!(read.check(&token).is_ok());
        assert!(token.passed().includes(read.id()), "the pass is remembered");
        assert!(write.check(&token).is_err(), "another requirement is checked in full");
        assert!(!token.passed().includes(write.id()), "a failed check remembers nothing");
        assert!(either.check(&token).is_ok());
        assert!(read.check(&token).is_ok());
        assert!(write.check(&token).is_err(), "still refused after others passed");
    }

    #[test]
    fn two_requirements_with_the_same_scopes_are_remembered_apart() {
        let token = token("read-posts");
        let (first, second) =
            (Requirement::scopes(["read-posts"], true), Requirement::scopes(["read-posts"], true));
        assert!(first.check(&token).is_ok());
        assert!(!token.passed().includes(second.id()));
        assert!(second.check(&token).is_ok());
        assert!(token.passed().includes(second.id()));
    }

    #[test]
    fn a_pass_remembered_on_one_token_does_not_carry_to_another() {
        let (granted, refused) = (token("read-posts"), token("profile"));
        let read = Requirement::scopes(["read-posts"], true);
        assert!(read.check(&granted).is_ok());
        assert!(read.check(&refused).is_err());
        assert!(!refused.passed().includes(read.id()));
    }

    #[test]
    fn past_the_remembered_requirements_every_check_is_still_right() {
        let token = token("a b c d e f");
        let passing: Vec<Requirement> =
            ["a", "b", "c", "d", "e", "f"].iter().map(|scope| Requirement::scopes([scope], true)).collect();
        let failing = Requirement::scopes(["g"], true);
        for _ in 0..3 {
            for requirement in &passing {
                assert!(requirement.check(&token).is_ok());
            }
            assert!(failing.check(&token).is_err());
        }
    }

    impl Requirement {
        fn id(&self) -> RequirementId {
            match self {
                Self::AllOf { id, .. } | Self::AnyOf { id, .. } => *id,
                _ => RequirementId::next(),
            }
        }
    }
}
