use std::fmt;

/// Why a request was rejected. Carried by every [`AuthError`](super::AuthError), logged
/// with each rejection, and the source of the `error_description` text.
///
/// ```
/// use tower_passport::error::Reason;
/// assert_eq!(Reason::UnknownKid.description(), "The access token was signed by an unknown key");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// No bearer token came with the request.
    MissingToken,
    /// More than one set of credentials (two `Authorization` headers, a second scheme,
    /// or a header and a query parameter).
    DuplicateCredentials,
    /// The `Authorization` header is not valid `Bearer <b64token>` syntax.
    MalformedHeader,
    /// The token is longer than the configured cap.
    TokenTooLong,
    /// The token is not a compact JWS with three base64url parts.
    MalformedToken,
    /// The JOSE header is not valid, or names a critical extension we do not understand.
    MalformedHeaderParameters,
    /// The claims are not a JSON object of the expected shape.
    MalformedClaims,
    /// `alg` is `none` or an algorithm this crate does not verify.
    UnsupportedAlgorithm,
    /// `alg` differs from the algorithm the selected key is bound to.
    AlgorithmMismatch,
    /// No key has the token's `kid`.
    UnknownKid,
    /// The token has no `kid` and zero or several keys fit its `alg`.
    AmbiguousKey,
    /// The signature does not verify.
    BadSignature,
    /// `typ` is not `at+jwt` (or a generic JWT type, where accepted).
    WrongType,
    /// `exp` is missing.
    MissingExpiry,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
    /// `iss` is missing or not the configured issuer.
    WrongIssuer,
    /// `aud` is missing or does not contain the configured audience.
    WrongAudience,
    /// The token carries a `cnf` (RFC 7800 confirmation) claim: it is bound to a key
    /// (DPoP's `jkt`, mutual TLS's `x5t#S256`, or any other), and the guard does not
    /// check proofs of possession. A bound token is never accepted as a plain bearer
    /// token, or a stolen one would work anywhere.
    KeyBoundToken,
    /// The revocation check reports the token revoked.
    Revoked,
    /// The resolver does not know the token's user.
    UnknownUser,
    /// The token's client no longer exists or is revoked.
    RevokedClient,
    /// A required scope is missing.
    MissingScope,
    /// The route is for client-credentials tokens only.
    ClientTokenRequired,
    /// The route is for user tokens only.
    UserTokenRequired,
    /// The principal resolver failed.
    ResolverFailed,
    /// The revocation check could not answer.
    RevocationUnavailable,
    /// The verifying keys are unavailable: a remote key set was never fetched, or its
    /// last good copy is older than the configured stale bound.
    KeysUnavailable,
    /// A scope layer or extractor found no guard in front of it.
    MissingGuard,
    /// An extractor asked for `Principal<U>` with another `U` than the guard's resolver
    /// yields.
    PrincipalTypeMismatch,
    /// A response future was polled after it completed.
    PolledAfterCompletion,
    /// The route is for tokens of first-party clients only (the issuer's token-management
    /// APIs, by default).
    FirstPartyClientRequired,
    /// The token's user comes from another user provider than the guard's
    /// ([`GuardBuilder::provider`](crate::guard::GuardBuilder::provider)): a customer is
    /// never the user with the same id.
    WrongProvider,
    /// The first-party cookie does not open: not sealed with this app's cookie secret, or
    /// not a cookie of this shape.
    InvalidCookie,
    /// A first-party cookie request that changes something (not `GET`, `HEAD` or `OPTIONS`)
    /// came without the CSRF token bound to its cookie (`X-CSRF-TOKEN`, or `X-XSRF-TOKEN`
    /// matching the `XSRF-TOKEN` cookie), or with another one.
    CsrfTokenMismatch,
    /// A first-party cookie came on a request from another origin (`Origin` or
    /// `Sec-Fetch-Site` say so).
    CrossSiteRequest,
    /// The route is for bearer tokens only, and the request came with the first-party
    /// cookie.
    BearerTokenRequired,
    /// No route of the gateway's policy table matches the request's method and path, and
    /// the table denies unmatched routes (its default). Answered 403.
    RouteNotAllowed,
    /// The request path has dot segments (`.`, `..`, raw or percent-encoded), an encoded
    /// slash or backslash, or no leading slash (or a forward-auth sub-request names an
    /// original method or URI that does not parse): the policy table refuses to judge a path
    /// the upstream might read as another (nor one named twice, in two copies of the
    /// header that carries it). Answered 400 `invalid_request`.
    UnnormalizedPath,
    /// A forward-auth sub-request lacks the header that carries the original request's
    /// method or URI (or, from Envoy, has a path outside the configured prefix): the proxy
    /// in front is misconfigured. Answered 500.
    MissingOriginalRequest,
    /// The introspection endpoint (RFC 7662) answered that the token is not active:
    /// unknown, expired, revoked, or never issued there.
    InactiveToken,
    /// The introspection endpoint could not be asked, or gave no usable answer: down,
    /// too slow, an error status, a body that is not an RFC 7662 answer or is too large,
    /// or too many calls already in flight.
    IntrospectionUnavailable,
    /// A request with the `DPoP` scheme came without exactly one `DPoP` proof header.
    DpopProofMissing,
    /// The DPoP proof is not a compact JWS with a `typ: dpop+jwt` header, an `alg`, a `jwk`
    /// and the `jti`, `htm`, `htu` and `iat` claims, or is longer than the cap.
    DpopProofMalformed,
    /// The DPoP proof's `alg` is not one of the allowed (asymmetric) proof algorithms.
    DpopProofAlgorithm,
    /// The DPoP proof's `jwk` is not a public key that fits its `alg`, or carries private
    /// members.
    DpopProofKey,
    /// The DPoP proof's signature does not verify under its `jwk`.
    DpopProofSignature,
    /// The DPoP proof's `htm` or `htu` is not this request's method or URL (RFC 9449 §4.3).
    DpopProofTarget,
    /// The DPoP proof's `iat` is outside the accepted window.
    DpopProofStale,
    /// The DPoP proof's `jti` was seen before inside the window: a replay.
    DpopProofReplayed,
    /// The DPoP proof's `ath` is missing or not the hash of the access token presented.
    DpopAccessTokenHash,
    /// The access token is bound (`cnf.jkt`) to another key than the DPoP proof's.
    DpopKeyMismatch,
    /// The access token came with the `DPoP` scheme but is not bound to a key (`cnf.jkt`).
    DpopUnboundToken,
    /// The resource accepts DPoP-bound tokens only, and the request used another scheme.
    DpopRequired,
    /// A `DPoP` proof came with a token sent under the `Bearer` scheme.
    DpopProofWithBearer,
    /// The DPoP proof lacks the server's current nonce (RFC 9449 §9).
    DpopNonceRequired,
}

impl Reason {
    /// A short description, safe to send to clients: it never contains the token.
    ///
    /// ```
    /// use tower_passport::error::Reason;
    /// assert_eq!(Reason::Expired.description(), "The access token expired");
    /// ```
    pub const fn description(self) -> &'static str {
        match self {
            Self::MissingToken => "No bearer token was presented",
            Self::DuplicateCredentials => "The request carries more than one set of credentials",
            Self::MalformedHeader => "The Authorization header is not a valid Bearer credential",
            Self::TokenTooLong => "The access token is too long",
            Self::MalformedToken => "The access token is not a well-formed JWT",
            Self::MalformedHeaderParameters => "The access token header is invalid",
            Self::MalformedClaims => "The access token claims are invalid",
            Self::UnsupportedAlgorithm => "The access token algorithm is not accepted",
            Self::AlgorithmMismatch => "The access token algorithm does not match its key",
            Self::UnknownKid => "The access token was signed by an unknown key",
            Self::AmbiguousKey => "The access token does not identify its key",
            Self::BadSignature => "The access token signature is invalid",
            Self::WrongType => "The access token type is not accepted",
            Self::MissingExpiry => "The access token has no expiry",
            Self::Expired => "The access token expired",
            Self::NotYetValid => "The access token is not valid yet",
            Self::IssuedInFuture => "The access token was issued in the future",
            Self::WrongIssuer => "The access token was issued by an untrusted issuer",
            Self::WrongAudience => "The access token is not meant for this resource",
            Self::KeyBoundToken => "The access token is bound to a key and is not accepted as a bearer token",
            Self::Revoked => "The access token was revoked",
            Self::UnknownUser => "The access token's user does not exist",
            Self::RevokedClient => "The access token's client was revoked",
            Self::MissingScope => "The access token lacks a required scope",
            Self::ClientTokenRequired => "This resource requires a client credentials token",
            Self::UserTokenRequired => "This resource requires a user token",
            Self::ResolverFailed => "The service cannot authenticate requests right now",
            Self::RevocationUnavailable => "The service cannot authenticate requests right now",
            Self::KeysUnavailable => "The service cannot authenticate requests right now",
            Self::PrincipalTypeMismatch => {
                "The principal type asked for differs from the one the guard's resolver yields"
            }
            Self::PolledAfterCompletion => "Internal error",
            Self::FirstPartyClientRequired => "This resource requires a token of a first-party client",
            Self::WrongProvider => "The access token's user belongs to another user provider",
            Self::InvalidCookie => "The first-party cookie is invalid",
            Self::CsrfTokenMismatch => "The CSRF token is missing or does not match",
            Self::CrossSiteRequest => "The first-party cookie is not accepted from another origin",
            Self::BearerTokenRequired => "This resource requires a bearer token",
            Self::RouteNotAllowed => "No policy allows this route",
            Self::UnnormalizedPath => "The request path is not in normal form",
            Self::MissingOriginalRequest => {
                "The forward-auth request does not say which request it is about: \
                 check the proxy's method and URI headers"
            }
            Self::InactiveToken => "The access token is not active",
            Self::IntrospectionUnavailable => "The service cannot authenticate requests right now",
            Self::DpopProofMissing => "The request carries no single DPoP proof",
            Self::DpopProofMalformed => "The DPoP proof is malformed",
            Self::DpopProofAlgorithm => "The DPoP proof algorithm is not accepted",
            Self::DpopProofKey => "The DPoP proof key is invalid",
            Self::DpopProofSignature => "The DPoP proof signature is invalid",
            Self::DpopProofTarget => "The DPoP proof is for another method or URL",
            Self::DpopProofStale => "The DPoP proof was issued outside the accepted window",
            Self::DpopProofReplayed => "The DPoP proof was used before",
            Self::DpopAccessTokenHash => "The DPoP proof is not bound to this access token",
            Self::DpopKeyMismatch => "The access token is bound to another key than the DPoP proof",
            Self::DpopUnboundToken => "The access token is not bound to a DPoP key",
            Self::DpopRequired => "This resource requires a DPoP-bound access token",
            Self::DpopProofWithBearer => "A DPoP proof came with a bearer token",
            Self::DpopNonceRequired => "The DPoP proof must carry the server's nonce",
            Self::MissingGuard => {
                "Missing authentication guard: the scope check or extractor found no principal. \
                 Perhaps you forgot to add GuardLayer in front of it?"
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
