//! The claims check of an RFC 7662 introspection answer: the very check a JWT's claims
//! pass, with the answer's members read as claims.

use crate::error::AuthError;
use crate::keys::KeySet;
use crate::token::VerifiedToken;

use super::claims_check::{Binding, ClaimsPolicy, Payload};
use super::issuers::IssuerPolicy;
use super::{ClientTokenRule, TypPolicy};

/// What an active introspection answer must say: its issuer, one of the audiences, an
/// `exp` still ahead (with the leeway), no `nbf`/`iat` in the future, no `cnf`.
#[derive(Debug)]
pub(crate) struct AnswerPolicy {
    issuer: IssuerPolicy,
    claims: ClaimsPolicy,
}

impl AnswerPolicy {
    /// The policy for answers about tokens of `issuer`, for one of `audiences`. Both are
    /// checked to be there by the caller's builder.
    pub(crate) fn new(
        issuer: Box<str>,
        audiences: Box<[Box<str>]>,
        client_rule: ClientTokenRule,
        leeway_seconds: u64,
        inherited_scopes: bool,
    ) -> Self {
        let issuer = IssuerPolicy {
            issuer,
            audiences,
            // No JOSE header: never read.
            typ: TypPolicy::AllowGenericJwt,
            client_rule,
            laravel_passport: false,
            // No signature: never read.
            keys: KeySet::new().into(),
        };
        Self { issuer, claims: ClaimsPolicy { leeway: leeway_seconds, inherited_scopes } }
    }

    /// The issuer answers are about.
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer.issuer
    }

    /// Checks the members of an active answer (`answer`, its JSON text) as a JWT's claims
    /// at `now`, and builds the verified token, whose raw claims are the answer. An answer
    /// without `iss` speaks for the configured issuer.
    ///
    /// # Errors
    /// `invalid_token` with the reason a JWT with these claims would get; a body that is
    /// not a JSON object of the expected shape is [`Reason::MalformedClaims`](crate::error::Reason::MalformedClaims).
    pub(crate) fn check(&self, answer: &str, now: u64) -> Result<VerifiedToken, AuthError> {
        let payload = Payload::parse(answer)?.with_default_issuer(&self.issuer.issuer);
        // An answer's `cnf` is refused as a bearer token's is: introspection has no proof
        // of possession to check it against, so the token text (hashed for DPoP) is not needed.
        let build = self.claims.check_claims(&self.issuer, &payload, None, now, Binding::BearerOnly, "")?;
        Ok(build(answer.into()))
    }
}

impl super::Verifier {
    /// The verifier of a guard that introspects every token: it is never asked to verify
    /// one, and its (absent) cache answers every lookup with a miss.
    pub(crate) fn introspection_only() -> Self {
        let issuer = IssuerPolicy {
            issuer: Box::from(""),
            audiences: Box::new([]),
            typ: TypPolicy::AccessTokenOnly,
            client_rule: ClientTokenRule::StatedOnly,
            laravel_passport: false,
            keys: KeySet::new().into(),
        };
        Self {
            inner: std::sync::Arc::new(super::Inner {
                issuers: Box::new([issuer]),
                policy: ClaimsPolicy { leeway: 0, inherited_scopes: false },
                clock: std::sync::Arc::new(crate::clock::SystemClock),
                cache: None,
                unknown_kids: crate::keys::unknown_kid::UnknownKidLog::default(),
                headers: super::headers::KnownHeaders::new(),
            }),
        }
    }
}
