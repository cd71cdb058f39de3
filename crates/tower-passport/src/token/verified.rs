use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::Scopes;

/// Whether a token stands for a user or for a client acting on its own behalf.
///
/// A token that states its kind in `idtyp` (`"app"` for a client, as this crate's issuer
/// marks every token) is taken at its word; for any other the issuer's
/// [`ClientTokenRule`](crate::verify::ClientTokenRule) decides (by default: no `sub`, an
/// empty one, or `sub == client_id` makes a client-credentials token).
///
/// ```
/// use tower_passport::token::PrincipalKind;
/// assert_ne!(PrincipalKind::User, PrincipalKind::Client);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A token issued to a client on behalf of a user.
    User,
    /// A client-credentials token: the client is the resource owner.
    Client,
}

/// How a token came with its request.
///
/// ```
/// use tower_passport::token::Credential;
/// assert_ne!(Credential::Bearer, Credential::FirstPartyCookie);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Credential {
    /// An access token in the `Authorization` header (or the `access_token` query
    /// parameter, where allowed).
    Bearer,
    /// The first-party cookie ([`FirstPartyCookie`](crate::cookie::FirstPartyCookie),
    /// Passport's `laravel_token`): the app's own JavaScript, with every scope.
    FirstPartyCookie,
    /// A DPoP-bound access token (RFC 9449) under the `DPoP` scheme, with a proof of
    /// possession of the key its `cnf.jkt` names.
    Dpop,
}

/// An access token whose signature and claims were verified. Cheap to clone.
///
/// It exposes the registered claims and keeps the whole claims object for custom checks.
/// The token string itself is not kept, so it cannot leak through `Debug` or logs.
///
/// ```
/// # use tower_passport::{Algorithm, KeySet, clock::ManualClock, Verifier, VerifyingKey, token::PrincipalKind};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let secret = b"a-shared-secret-of-at-least-32-bytes!!";
/// # let clock = ManualClock::new(1_700_000_000);
/// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, secret)?))
/// #     .issuer("https://auth.example.com").audience("api").clock(clock).build()?;
/// # let token = jsonwebtoken::encode(
/// #     &{ let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256); h.typ = Some("at+jwt".into()); h },
/// #     &serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "42", "client_id": "app",
/// #         "exp": 1_700_000_600, "jti": "t1", "scope": "read-posts", "tenant": "acme"}),
/// #     &jsonwebtoken::EncodingKey::from_secret(secret))?;
/// let verified = verifier.verify(&token)?;
/// assert_eq!(verified.subject(), Some("42"));
/// assert_eq!(verified.kind(), PrincipalKind::User);
/// assert!(verified.scopes().can("read-posts"));
///
/// #[derive(serde::Deserialize)]
/// struct Custom { tenant: String }
/// assert_eq!(verified.claims::<Custom>()?.tenant, "acme");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct VerifiedToken(Arc<Inner>);

pub(crate) struct Inner {
    /// Every string claim, concatenated: one allocation instead of one per claim.
    pub(crate) strings: Box<str>,
    pub(crate) issuer: Span,
    pub(crate) subject: Option<Span>,
    pub(crate) client_id: Option<Span>,
    pub(crate) audience: Audience,
    pub(crate) jti: Option<Span>,
    pub(crate) expires_at: u64,
    pub(crate) issued_at: Option<u64>,
    /// When a first-party cookie was sealed, in milliseconds (JWTs: `None`).
    pub(crate) issued_at_ms: Option<u64>,
    pub(crate) not_before: Option<u64>,
    pub(crate) key_id: Option<Span>,
    pub(crate) provider: Option<Span>,
    pub(crate) scopes: Scopes,
    pub(crate) kind: PrincipalKind,
    pub(crate) credential: Credential,
    /// `cnf.jkt`: the RFC 7638 thumbprint of the DPoP key the token is bound to.
    pub(crate) bound_to: Option<Span>,
    /// For a bound token, the `ath` its proofs must carry (the token's SHA-256), hashed
    /// once when it was verified.
    pub(crate) proof_ath: Option<Span>,
    /// For a bound token, the header its proofs carry, once one passed (written and read
    /// by the DPoP guard: `dpop::header_memo`).
    pub(crate) proof_header: super::Slot,
    pub(crate) raw: Box<str>,
    /// The scope requirements this token passed (see [`super::verdict`]).
    pub(crate) passed: super::Passed,
}

/// The claims of a [`VerifiedToken::synthetic`] token.
pub(crate) struct Synthetic<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) subject: Option<&'a str>,
    pub(crate) client_id: Option<&'a str>,
    pub(crate) scopes: Scopes,
    pub(crate) kind: PrincipalKind,
    pub(crate) expires_at: u64,
    /// When it was issued, in Unix milliseconds, if known.
    pub(crate) issued_at_ms: Option<u64>,
    pub(crate) provider: Option<&'a str>,
    pub(crate) credential: Credential,
}

/// Where the `aud` values lie in [`Inner::strings`]: one kept inline (nearly every token
/// names one audience: no allocation), several in a slice of their own.
pub(crate) enum Audience {
    One(Span),
    Many(Box<[Span]>),
}

impl Audience {
    pub(crate) fn spans(&self) -> &[Span] {
        match self {
            Self::One(span) => std::slice::from_ref(span),
            Self::Many(spans) => spans,
        }
    }

    /// The bytes its spans take on the heap.
    fn heap_size(&self) -> usize {
        match self {
            Self::One(_) => 0,
            Self::Many(spans) => std::mem::size_of_val::<[Span]>(spans),
        }
    }
}

/// Where a string lies in [`Inner::strings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

/// Collects the strings of a verified token into one buffer.
pub(crate) struct Strings(String);

impl Strings {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self(String::with_capacity(capacity))
    }

    pub(crate) fn push(&mut self, value: &str) -> Span {
        let start = u32::try_from(self.0.len()).unwrap_or(u32::MAX);
        self.0.push_str(value);
        Span { start, end: u32::try_from(self.0.len()).unwrap_or(u32::MAX) }
    }

    pub(crate) fn finish(self) -> Box<str> {
        self.0.into_boxed_str()
    }
}

impl VerifiedToken {
    pub(crate) fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// A token that was never a JWT: what a verified token with these claims would be. Made
    /// by the `testing` helpers and, for an opened first-party cookie, by the guard.
    pub(crate) fn synthetic(claims: Synthetic<'_>) -> Self {
        let Synthetic {
            issuer,
            subject,
            client_id,
            scopes,
            kind,
            expires_at,
            issued_at_ms,
            provider,
            credential,
        } = claims;
        let raw = serde_json::json!({
            "iss": issuer,
            "sub": subject,
            "client_id": client_id,
            "exp": expires_at,
            "scope": scopes.to_string(),
            "provider": provider,
        })
        .to_string();
        let mut strings = Strings::with_capacity(64);
        let issuer = strings.push(issuer);
        let subject = subject.map(|sub| strings.push(sub));
        let client_id = client_id.map(|id| strings.push(id));
        let provider = provider.map(|provider| strings.push(provider));
        Self::new(Inner {
            strings: strings.finish(),
            issuer,
            subject,
            client_id,
            audience: Audience::Many(Box::new([])),
            jti: None,
            expires_at,
            issued_at: issued_at_ms.map(|ms| ms / 1000),
            issued_at_ms,
            not_before: None,
            key_id: None,
            scopes,
            kind,
            provider,
            credential,
            bound_to: None,
            proof_ath: None,
            proof_header: super::Slot::default(),
            raw: raw.into_boxed_str(),
            passed: super::Passed::default(),
        })
    }

    /// About how many bytes this token holds in memory (its claims, strings, scopes and
    /// the shared header), for caches with a byte budget.
    pub(crate) fn memory_size(&self) -> usize {
        let inner = &self.0;
        std::mem::size_of::<Inner>()
            + 2 * std::mem::size_of::<usize>()
            + inner.strings.len()
            + inner.raw.len()
            + inner.audience.heap_size()
            + inner.scopes.memory_size()
    }

    fn text(&self, span: Span) -> &str {
        self.0.strings.get(span.start as usize..span.end as usize).unwrap_or_default()
    }

    /// `iss`: the issuer that signed the token. A Laravel Passport token carries none: it
    /// is then the issuer the verifier was configured with, or empty.
    pub fn issuer(&self) -> &str {
        self.text(self.0.issuer)
    }

    /// `sub`: the user, or the client for a client-credentials token. `None` when absent
    /// or empty.
    pub fn subject(&self) -> Option<&str> {
        self.0.subject.map(|span| self.text(span))
    }

    /// `client_id` (RFC 9068), or `azp` where an OpenID provider sends that instead, or
    /// for a Laravel Passport token (which names its client only there) the `aud`.
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.map(|span| self.text(span))
    }

    /// `aud`, as a list.
    pub fn audience(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.audience.spans().iter().map(|&span| self.text(span))
    }

    /// `jti`: the token's unique id, which revocation works by.
    pub fn jti(&self) -> Option<&str> {
        self.0.jti.map(|span| self.text(span))
    }

    /// `exp`, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> u64 {
        self.0.expires_at
    }

    /// `iat`, in seconds since the Unix epoch, when present.
    pub fn issued_at(&self) -> Option<u64> {
        self.0.issued_at
    }

    /// When a first-party cookie was sealed, in milliseconds since the Unix epoch.
    pub(crate) fn issued_at_ms(&self) -> Option<u64> {
        self.0.issued_at_ms
    }

    /// `nbf`, in seconds since the Unix epoch, when present.
    pub fn not_before(&self) -> Option<u64> {
        self.0.not_before
    }

    /// The `kid` of the key that verified the token, when the token named one.
    pub fn key_id(&self) -> Option<&str> {
        self.0.key_id.map(|span| self.text(span))
    }

    /// `provider`: the user provider the token's user comes from (Passport's `--provider`),
    /// when the token names one. This crate's issuer names it for the users of a client
    /// registered with a provider; a user token without it comes from the default
    /// provider, [`DEFAULT_PROVIDER`](super::DEFAULT_PROVIDER), which
    /// [`provider_or_default`](Self::provider_or_default) says.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, clock::ManualClock, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let secret = b"a-shared-secret-of-at-least-32-bytes!!";
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, secret)?))
    /// #     .issuer("https://auth.example.com").audience("api").clock(ManualClock::new(1_700_000_000)).build()?;
    /// # let mint = |claims: serde_json::Value| jsonwebtoken::encode(
    /// #     &{ let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256); h.typ = Some("at+jwt".into()); h },
    /// #     &claims, &jsonwebtoken::EncodingKey::from_secret(secret));
    /// let customer = mint(serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "5",
    ///     "client_id": "shop", "exp": 1_700_000_600, "provider": "customers"}))?;
    /// let user = mint(serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "5",
    ///     "client_id": "web", "exp": 1_700_000_600}))?;
    /// assert_eq!(verifier.verify(&customer)?.provider(), Some("customers"));
    /// assert_eq!(verifier.verify(&user)?.provider(), None);
    /// assert_eq!(verifier.verify(&user)?.provider_or_default(), "users");
    /// # Ok(())
    /// # }
    /// ```
    pub fn provider(&self) -> Option<&str> {
        self.0.provider.map(|span| self.text(span))
    }

    /// [`provider`](Self::provider), or [`DEFAULT_PROVIDER`](super::DEFAULT_PROVIDER)
    /// (`"users"`) for a token that names none.
    ///
    /// ```
    /// assert_eq!(tower_passport::token::DEFAULT_PROVIDER, "users");
    /// ```
    pub fn provider_or_default(&self) -> &str {
        self.provider().unwrap_or(super::DEFAULT_PROVIDER)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.0.scopes
    }

    /// What this token remembers of the scope requirements it passed.
    #[inline]
    pub(crate) fn passed(&self) -> &super::Passed {
        &self.0.passed
    }

    /// A user token or a client-credentials token.
    pub fn kind(&self) -> PrincipalKind {
        self.0.kind
    }

    /// How the token came: as a bearer token, or as the first-party cookie.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// use tower_passport::token::Credential;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let secret = b"a-shared-secret-of-at-least-32-bytes!!";
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, secret)?))
    /// #     .issuer("https://auth.example.com").audience("api").build()?;
    /// # let token = jsonwebtoken::encode(
    /// #     &{ let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256); h.typ = Some("at+jwt".into()); h },
    /// #     &serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "42", "exp": 4_000_000_000_u64}),
    /// #     &jsonwebtoken::EncodingKey::from_secret(secret))?;
    /// assert_eq!(verifier.verify(&token)?.credential(), Credential::Bearer);
    /// # Ok(())
    /// # }
    /// ```
    pub fn credential(&self) -> Credential {
        self.0.credential
    }

    /// `cnf.jkt` (RFC 9449 §6.1): the RFC 7638 thumbprint of the key this token is bound
    /// to, for a DPoP-bound token; such a token is accepted only with a DPoP proof signed
    /// by that key ([`crate::dpop`]), never as a plain bearer token.
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.0.bound_to.map(|span| self.text(span))
    }

    /// For a DPoP-bound token, the `ath` its proofs must carry, hashed once.
    pub(crate) fn proof_ath(&self) -> Option<&str> {
        self.0.proof_ath.map(|span| self.text(span))
    }

    /// The slot where a bound token remembers its proofs' header (`dpop::header_memo`).
    pub(crate) fn proof_header_slot(&self) -> &super::Slot {
        &self.0.proof_header
    }

    /// Whether the token is bound to a DPoP key (`cnf.jkt`).
    #[inline]
    pub(crate) fn is_dpop_bound(&self) -> bool {
        self.0.bound_to.is_some()
    }

    /// The whole claims object as JSON text, as sent, for custom checks.
    pub fn raw_claims(&self) -> &str {
        &self.0.raw
    }

    /// Deserializes the whole claims object into `T`, for custom claims.
    ///
    /// # Errors
    /// When the claims do not fit `T`.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0.raw)
    }
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claims, not the token: nothing here lets anyone replay it.
        f.debug_struct("VerifiedToken")
            .field("issuer", &self.issuer())
            .field("subject", &self.subject())
            .field("client_id", &self.client_id())
            .field("jti", &self.jti())
            .field("expires_at", &self.expires_at())
            .field("kind", &self.kind())
            .field("scopes", self.scopes())
            .finish_non_exhaustive()
    }
}
