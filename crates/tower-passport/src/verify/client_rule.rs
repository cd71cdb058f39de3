//! How a verified token is told to be a client's own (client credentials) or a user's.

use crate::token::PrincipalKind;

/// How a token is recognised as a client-credentials token.
///
/// For such a token the guard asks the resolver for no user, and `principal.user()` is
/// `None` (RFC 9700 §4.15: a user token must never pass as a client token).
///
/// **A token that states its kind wins, whatever the rule.** The private claim `idtyp`
/// says `"app"` for a client acting for itself and `"user"` for a user's token, as this
/// crate's issuer states it on every access token it mints (`idtyp: "app"` is also how
/// Microsoft Entra ID marks app-only tokens). Only `"app"` makes a client token; any
/// other value makes a user token. The rule decides for tokens without the claim:
///
/// | rule | client token when the token has no `idtyp` and |
/// |---|---|
/// | [`SubjectOrClientId`](Self::SubjectOrClientId) (the default) | no `sub`, an empty one, or `sub` equal to `client_id` (RFC 9068 §2.2) |
/// | [`EmptySubject`](Self::EmptySubject) (the Laravel Passport preset) | no `sub` or an empty one |
/// | [`StatedOnly`](Self::StatedOnly) | never |
///
/// The default is the common reading of RFC 9068, and works with most identity
/// providers, but a user whose id equals a client's id is then taken for that client:
/// choose [`EmptySubject`](Self::EmptySubject) or [`StatedOnly`](Self::StatedOnly) when
/// the issuer's client ids can collide with user ids (sequential integers, say).
///
/// ```
/// use tower_passport::verify::ClientTokenRule;
/// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// assert_eq!(ClientTokenRule::default(), ClientTokenRule::SubjectOrClientId);
/// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let verifier = Verifier::builder(keys)
///     .issuer("https://auth.example.com")
///     .audience("api")
///     .client_token_rule(ClientTokenRule::EmptySubject)
///     .build()?;
/// # let _ = verifier;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientTokenRule {
    /// No `sub`, an empty one, or `sub == client_id` (or `azp`).
    #[default]
    SubjectOrClientId,
    /// No `sub`, or an empty one: a token with a subject is always a user's. Laravel
    /// Passport up to 12 (league/oauth2-server 8) mints client-credentials tokens with an
    /// empty `sub`.
    EmptySubject,
    /// Only a token stating `idtyp: "app"`; every other token is a user's.
    StatedOnly,
}

impl ClientTokenRule {
    /// The kind of a token with this `idtyp`, (non-empty) `sub` and `client_id`.
    pub(super) fn kind(
        self,
        stated: Option<&str>,
        subject: Option<&str>,
        client_id: Option<&str>,
    ) -> PrincipalKind {
        if let Some(stated) = stated {
            return if stated == "app" { PrincipalKind::Client } else { PrincipalKind::User };
        }
        let client = match self {
            Self::SubjectOrClientId => subject.is_none() || subject == client_id,
            Self::EmptySubject => subject.is_none(),
            Self::StatedOnly => false,
        };
        if client {
            PrincipalKind::Client
        } else {
            PrincipalKind::User
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrincipalKind::{Client, User};

    #[test]
    fn a_stated_kind_wins_and_each_rule_decides_the_rest() {
        use ClientTokenRule::{EmptySubject, StatedOnly, SubjectOrClientId};
        // (stated, sub, client_id) → kind under SubjectOrClientId, EmptySubject, StatedOnly
        let table = [
            (Some("app"), Some("7"), Some("app-1"), [Client, Client, Client]),
            (Some("user"), Some("app-1"), Some("app-1"), [User, User, User]),
            (Some("device"), None, Some("app-1"), [User, User, User]),
            (None, None, Some("app-1"), [Client, Client, User]),
            (None, Some("app-1"), Some("app-1"), [Client, User, User]),
            (None, Some("7"), Some("app-1"), [User, User, User]),
            (None, Some("7"), None, [User, User, User]),
        ];
        for (stated, sub, client, expected) in table {
            for (rule, kind) in [SubjectOrClientId, EmptySubject, StatedOnly].into_iter().zip(expected) {
                assert_eq!(rule.kind(stated, sub, client), kind, "{rule:?} {stated:?} {sub:?} {client:?}");
            }
        }
    }
}
