//! The claims policy: `typ`, time, issuer and audience, applied to one parsed payload.

use crate::error::{AuthError, Reason};
use crate::token::{
    Audience, Credential, RawClaims, Scopes, StringList, Strings, VerifiedInner, VerifiedToken,
};

use super::issuers::IssuerPolicy;
use super::TypPolicy;

/// Whether a DPoP-bound token (`cnf.jkt`) may pass: only where its proof is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Binding {
    /// The `Bearer` scheme: any `cnf` is refused.
    BearerOnly,
    /// The `DPoP` scheme: a `cnf` with a `jkt` passes, for the caller to check the proof.
    DpopAccepted,
}

/// What every trusted issuer shares: clock leeway and scope inheritance.
#[derive(Debug)]
pub(super) struct ClaimsPolicy {
    pub(super) leeway: u64,
    pub(super) inherited_scopes: bool,
}

/// A token's claims, decoded and parsed once (borrowing from the decoded payload), and
/// not trusted until its signature verifies.
pub(super) struct Payload<'a> {
    claims: RawClaims<'a>,
}

impl<'a> Payload<'a> {
    pub(super) fn parse(raw: &'a str) -> Result<Self, AuthError> {
        // One JSON object, read as strictly as serde_json's typed parse (`claims_read.rs`).
        let claims = RawClaims::read(raw).map_err(|_| AuthError::invalid_token(Reason::MalformedClaims))?;
        Ok(Self { claims })
    }

    /// `iss` as sent: only for choosing which issuer's keys to verify with.
    pub(super) fn unverified_issuer(&self) -> Option<&str> {
        self.claims.iss.as_deref()
    }

    /// Takes `issuer` as the `iss` of claims that name none: an RFC 7662 answer may leave
    /// it out, and the endpoint that answered speaks for its issuer.
    #[cfg(feature = "introspection")]
    pub(super) fn with_default_issuer(mut self, issuer: &'a str) -> Self {
        if self.claims.iss.is_none() {
            self.claims.iss = Some(crate::token::Text(std::borrow::Cow::Borrowed(issuer)));
        }
        self
    }
}

impl IssuerPolicy {
    pub(super) fn check_type(&self, typ: Option<&str>) -> Result<(), AuthError> {
        let accepted = match typ {
            Some(typ) => {
                // RFC 7515 §4.1.9: media types compare case-insensitively and the
                // "application/" prefix may be omitted.
                let typ = strip_application(typ);
                typ.eq_ignore_ascii_case("at+jwt")
                    || (self.typ == TypPolicy::AllowGenericJwt && typ.eq_ignore_ascii_case("jwt"))
            }
            None => self.typ == TypPolicy::AllowGenericJwt,
        };
        if accepted {
            Ok(())
        } else {
            Err(AuthError::invalid_token(Reason::WrongType))
        }
    }
}

impl ClaimsPolicy {
    pub(super) fn check_expiry(&self, expires_at: u64, now: u64) -> Result<(), AuthError> {
        // RFC 7519 §4.1.4: the token is valid strictly before `exp`.
        if now >= expires_at.saturating_add(self.leeway) {
            return Err(AuthError::invalid_token(Reason::Expired));
        }
        Ok(())
    }

    /// Checks the claims of a token whose signature verified under `trusted`'s keys, and
    /// builds the verified token around `raw`, the decoded payload the claims came from.
    pub(super) fn check_claims(
        &self,
        trusted: &IssuerPolicy,
        payload: &Payload<'_>,
        kid: Option<&str>,
        now: u64,
        binding: Binding,
        token: &str,
    ) -> Result<impl FnOnce(Box<str>) -> VerifiedToken, AuthError> {
        // Borrowed, not moved: every value kept is copied into the token's own strings.
        let claims = &payload.claims;
        // Bound to a key whose proof of possession nothing here checks (RFC 7800, 9449,
        // 8705): as a plain bearer token it would work for whoever stole it. Only the DPoP
        // path, which checks the proof against `cnf.jkt`, takes a DPoP-bound token.
        let jkt = match (&claims.cnf, binding) {
            (None, _) => None,
            (Some(cnf), Binding::DpopAccepted) => Some(
                cnf.jkt
                    .as_deref()
                    .filter(|jkt| !jkt.is_empty())
                    .ok_or(AuthError::invalid_token(Reason::KeyBoundToken))?,
            ),
            (Some(_), Binding::BearerOnly) => return Err(AuthError::invalid_token(Reason::KeyBoundToken)),
        };
        let expires_at = claims.exp.as_ref().ok_or(AuthError::invalid_token(Reason::MissingExpiry))?.0;
        self.check_expiry(expires_at, now)?;
        let horizon = now.saturating_add(self.leeway);
        if claims.nbf.as_ref().is_some_and(|nbf| nbf.0 > horizon) {
            return Err(AuthError::invalid_token(Reason::NotYetValid));
        }
        if claims.iat.as_ref().is_some_and(|iat| iat.0 > horizon) {
            return Err(AuthError::invalid_token(Reason::IssuedInFuture));
        }
        let issuer: &str = match &claims.iss {
            Some(iss) if **iss == *trusted.issuer => iss,
            // Laravel Passport's tokens carry no `iss`.
            None if trusted.laravel_passport => &trusted.issuer,
            _ => return Err(AuthError::invalid_token(Reason::WrongIssuer)),
        };
        let audience = claims.aud.as_ref().map(|aud| aud.items());
        let Some(accepted) = audience.into_iter().flatten().find(|aud| trusted.accepts_audience(aud)) else {
            return Err(AuthError::invalid_token(Reason::WrongAudience));
        };

        let subject = claims.sub.as_deref().filter(|sub| !sub.is_empty());
        let client_id = claims.client_id.as_deref().or(claims.azp.as_deref()).filter(|id| !id.is_empty());
        // Passport names the client in `aud` only.
        let client_id = client_id.or_else(|| trusted.laravel_passport.then_some(accepted));
        let kind = trusted.client_rule.kind(claims.idtyp.as_deref(), subject, client_id);
        let scopes = Scopes::collect(self.inherited_scopes, |push| {
            for list in [&claims.scope, &claims.scp, &claims.scopes].into_iter().flatten() {
                list.each_scope(&mut *push);
            }
        });

        let length = issuer.len()
            + subject.as_ref().map_or(0, |s| s.len())
            + client_id.as_ref().map_or(0, |s| s.len())
            + claims.jti.as_ref().map_or(0, |s| s.len())
            + kid.map_or(0, str::len)
            + claims.provider.as_ref().map_or(0, |s| s.len())
            + jkt.as_ref().map_or(0, |s| s.len() + 43)
            + claims.aud.iter().flat_map(|aud| aud.items()).map(str::len).sum::<usize>();
        let mut strings = Strings::with_capacity(length);
        let issuer = strings.push(issuer);
        let subject = subject.map(|sub| strings.push(sub));
        let client_id = client_id.map(|id| strings.push(id));
        let jti = claims.jti.as_deref().map(|jti| strings.push(jti));
        let key_id = kid.map(|kid| strings.push(kid));
        let provider =
            claims.provider.as_deref().filter(|provider| !provider.is_empty()).map(|p| strings.push(p));
        // One audience (nearly every token) is kept inline; several are sized up front (a
        // `Box<[_]>` collected from a `flat_map` would allocate for its lower size bound,
        // none, and reallocate).
        let single = match &claims.aud {
            Some(StringList::One(one)) => Some(&**one),
            Some(StringList::Many(many)) => match many.as_slice() {
                [only] => Some(&**only),
                _ => None,
            },
            None => None,
        };
        let audience = match single {
            Some(one) => Audience::One(strings.push(one)),
            None => {
                let mut audience = Vec::with_capacity(claims.aud.iter().flat_map(|aud| aud.items()).count());
                audience.extend(claims.aud.iter().flat_map(|aud| aud.items()).map(|aud| strings.push(aud)));
                Audience::Many(audience.into_boxed_slice())
            }
        };
        let bound_to = jkt.map(|jkt| strings.push(jkt));
        // The `ath` of every proof this token comes with, hashed once, not per request.
        let proof_ath = bound_to.map(|_| strings.push(&crate::dpop::access_token_hash(token)));
        let credential = if bound_to.is_some() { Credential::Dpop } else { Credential::Bearer };
        let strings = strings.finish();
        let (issued_at, not_before) =
            (claims.iat.as_ref().map(|iat| iat.0), claims.nbf.as_ref().map(|nbf| nbf.0));
        Ok(move |raw| {
            VerifiedToken::new(VerifiedInner {
                strings,
                issuer,
                subject,
                client_id,
                audience,
                jti,
                expires_at,
                issued_at,
                issued_at_ms: None,
                not_before,
                key_id,
                provider,
                scopes,
                kind,
                credential,
                bound_to,
                proof_ath,
                proof_header: crate::token::Slot::default(),
                raw,
                passed: crate::token::Passed::default(),
            })
        })
    }
}

fn strip_application(typ: &str) -> &str {
    match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    }
}
