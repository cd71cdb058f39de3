//! The issuers a verifier trusts, each with its own keys, audiences and `typ` policy.

use crate::error::{ConfigError, ConfigErrorKind};
use crate::keys::KeySource;

use super::{ClientTokenRule, TypPolicy};

/// One issuer a [`Verifier`](super::Verifier) trusts: its `iss`, its keys, the audiences
/// its tokens may name, and its `typ` policy.
///
/// A verifier that trusts several issuers reads `iss` from a token's (not yet verified)
/// claims, picks exactly that issuer's keys, and trusts the claims only once the
/// signature verifies under them. There is no trial verification against the other
/// issuers, and a token naming an issuer not trusted is `invalid_token`
/// ([`Reason::WrongIssuer`](crate::error::Reason::WrongIssuer)).
///
/// ```
/// use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let ours = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let partner = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS512, &[9; 64])?);
/// let verifier = Verifier::trusting(TrustedIssuer::new("https://auth.example.com", ours).audience("orders-api"))
///     .trust(
///         TrustedIssuer::new("https://login.partner.example", partner)
///             .audience("orders-api")
///             .accept_generic_jwt_typ(),
///     )
///     .build()?;
/// # let _ = verifier;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TrustedIssuer {
    pub(super) issuer: Box<str>,
    pub(super) keys: KeySource,
    pub(super) audiences: Vec<Box<str>>,
    /// `None`: the default, or the preset's.
    pub(super) typ: Option<TypPolicy>,
    /// `None`: the default, or the preset's.
    pub(super) client_rule: Option<ClientTokenRule>,
    pub(super) laravel_passport: bool,
}

impl TrustedIssuer {
    /// Trusts tokens whose `iss` is exactly `issuer` and whose signature verifies under
    /// `keys` (a [`KeySet`](crate::KeySet) or, with the `jwks` feature, a
    /// `RemoteKeySet`). At least one [`audience`](Self::audience) is required.
    ///
    /// ```
    /// use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// let issuer = TrustedIssuer::new("https://auth.example.com", keys);
    /// assert!(Verifier::trusting(issuer.clone()).build().is_err()); // no audience yet
    /// assert!(Verifier::trusting(issuer.audience("api")).build().is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(issuer: impl Into<Box<str>>, keys: impl Into<KeySource>) -> Self {
        Self {
            issuer: issuer.into(),
            keys: keys.into(),
            audiences: Vec::new(),
            typ: None,
            client_rule: None,
            laravel_passport: false,
        }
    }

    /// An audience this issuer's tokens may name in `aud`; call again to accept several.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, VerifyingKey};
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap());
    /// let issuer = TrustedIssuer::new("https://auth.example.com", keys).audience("a").audience("b");
    /// assert_eq!(issuer.issuer(), "https://auth.example.com");
    /// ```
    pub fn audience(mut self, audience: impl Into<Box<str>>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Sets this issuer's `typ` policy ([`TypPolicy::AccessTokenOnly`] by default).
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, verify::TypPolicy, VerifyingKey};
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap());
    /// let issuer = TrustedIssuer::new("https://idp.example", keys).typ_policy(TypPolicy::AllowGenericJwt);
    /// # let _ = issuer;
    /// ```
    pub fn typ_policy(mut self, policy: TypPolicy) -> Self {
        self.typ = Some(policy);
        self
    }

    /// How this issuer's tokens without an `idtyp` claim are told to be client tokens
    /// ([`ClientTokenRule::SubjectOrClientId`] by default, [`ClientTokenRule::EmptySubject`]
    /// with the Laravel Passport preset).
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, verify::{ClientTokenRule, TrustedIssuer}, VerifyingKey};
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap());
    /// let issuer = TrustedIssuer::new("https://idp.example", keys).client_token_rule(ClientTokenRule::StatedOnly);
    /// # let _ = issuer;
    /// ```
    pub fn client_token_rule(mut self, rule: ClientTokenRule) -> Self {
        self.client_rule = Some(rule);
        self
    }

    /// Takes Laravel Passport's own tokens (league/oauth2-server's), as
    /// [`VerifierBuilder::laravel_passport`](super::VerifierBuilder::laravel_passport)
    /// describes: no `iss` needed (the issuer given to [`new`](Self::new) may be empty;
    /// when it is not, a token that does carry `iss` must name it), `typ: JWT`, `aud` the
    /// client id, from any client unless [`audience`](Self::audience) lists the accepted
    /// ones. Among several trusted issuers, tokens without `iss` go to this one.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let passport = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// # let keycloak = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[8; 32])?);
    /// let verifier = Verifier::trusting(TrustedIssuer::new("", passport).laravel_passport())
    ///     .trust(TrustedIssuer::new("https://sso.example/realms/shop", keycloak).audience("orders-api"))
    ///     .build()?;
    /// # let _ = verifier;
    /// # Ok(())
    /// # }
    /// ```
    pub fn laravel_passport(mut self) -> Self {
        self.laravel_passport = true;
        self
    }

    /// Accepts `typ: JWT` and tokens without `typ` from this issuer, as many identity
    /// providers issue them.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, VerifyingKey};
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap());
    /// let issuer = TrustedIssuer::new("https://idp.example", keys).accept_generic_jwt_typ();
    /// # let _ = issuer;
    /// ```
    pub fn accept_generic_jwt_typ(self) -> Self {
        self.typ_policy(TypPolicy::AllowGenericJwt)
    }

    /// The `iss` value this issuer's tokens carry.
    ///
    /// ```
    /// # use tower_passport::{KeySet, verify::TrustedIssuer};
    /// assert_eq!(TrustedIssuer::new("https://idp.example", KeySet::new()).issuer(), "https://idp.example");
    /// ```
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Checks this issuer's configuration. `position` is 0 for the issuer configured
    /// through [`VerifierBuilder`](super::VerifierBuilder)'s own methods.
    pub(super) fn into_policy(self, position: usize) -> Result<IssuerPolicy, ConfigError> {
        let name = |kind, problem: &str| {
            ConfigError::new(kind, format!("trusted issuer #{} ({:?}): {problem}", position + 1, self.issuer))
        };
        let passport = self.laravel_passport;
        if self.issuer.is_empty() && !passport {
            return Err(match position {
                0 => ConfigError::new(
                    ConfigErrorKind::Issuer,
                    "the verifier needs an issuer (VerifierBuilder::issuer)",
                ),
                _ => name(ConfigErrorKind::Issuer, "the issuer is empty"),
            });
        }
        if self.audiences.iter().all(|aud| aud.is_empty()) && !passport {
            return Err(match position {
                0 => ConfigError::new(
                    ConfigErrorKind::Audience,
                    "the verifier needs an audience (VerifierBuilder::audience)",
                ),
                _ => name(ConfigErrorKind::Audience, "needs an audience (TrustedIssuer::audience)"),
            });
        }
        if self.keys.is_empty_static() {
            return Err(match position {
                0 => ConfigError::new(ConfigErrorKind::InvalidKey, "the verifier needs at least one key"),
                _ => name(ConfigErrorKind::InvalidKey, "needs at least one key"),
            });
        }
        let (typ, rule) = match passport {
            true => (TypPolicy::AllowGenericJwt, ClientTokenRule::EmptySubject),
            false => (TypPolicy::default(), ClientTokenRule::default()),
        };
        Ok(IssuerPolicy {
            issuer: self.issuer,
            audiences: self.audiences.into_iter().filter(|aud| !aud.is_empty()).collect(),
            typ: self.typ.unwrap_or(typ),
            client_rule: self.client_rule.unwrap_or(rule),
            laravel_passport: passport,
            keys: self.keys,
        })
    }
}

/// A trusted issuer, checked and ready for requests.
#[derive(Debug)]
pub(super) struct IssuerPolicy {
    /// Empty only for a Laravel Passport issuer with no `iss` of its own.
    pub(super) issuer: Box<str>,
    /// Empty only for a Laravel Passport issuer that takes every client.
    pub(super) audiences: Box<[Box<str>]>,
    pub(super) typ: TypPolicy,
    pub(super) client_rule: ClientTokenRule,
    /// Missing `iss` accepted; `aud` is the client id (and gives `client_id`).
    pub(super) laravel_passport: bool,
    pub(super) keys: KeySource,
}

impl IssuerPolicy {
    /// Whether a token naming `aud` is for us.
    pub(super) fn accepts_audience(&self, aud: &str) -> bool {
        match &*self.audiences {
            [] => self.laravel_passport && !aud.is_empty(),
            audiences => audiences.iter().any(|expected| **expected == *aud),
        }
    }
}
