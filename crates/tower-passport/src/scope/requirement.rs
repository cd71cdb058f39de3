use std::sync::Arc;

use crate::error::{AuthError, Reason};
use crate::token::{Credential, PrincipalKind, VerifiedToken};

/// What a [`RequireLayer`](super::RequireLayer) checks.
#[derive(Debug)]
pub(crate) enum Requirement {
    /// Every scope (Passport's `scopes` middleware).
    AllOf { scopes: Box<[Box<str>]>, joined: Arc<str> },
    /// At least one scope (Passport's `scope` middleware).
    AnyOf { scopes: Box<[Box<str>]>, joined: Arc<str> },
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
        if all {
            Self::AllOf { scopes, joined }
        } else {
            Self::AnyOf { scopes, joined }
        }
    }

    pub(crate) fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        let granted = token.scopes();
        match self {
            Self::AllOf { scopes, joined } if !granted.can_all(scopes.iter()) => {
                Err(AuthError::insufficient_scope(joined.clone()))
            }
            Self::AnyOf { scopes, joined } if !granted.can_any(scopes.iter()) => {
                Err(AuthError::insufficient_scope(joined.clone()))
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
}
