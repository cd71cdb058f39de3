//! DPoP (RFC 9449): access tokens bound to a key the client holds.
//!
//! A bearer token works for whoever holds it: one leaked from a log, a proxy, a browser
//! extension or a compromised resource server is as good as the client's own. A DPoP-bound
//! token names the thumbprint of the client's public key in its `cnf.jkt` claim, and every
//! request must come with a fresh proof (a small JWT signed by that key over the request's
//! method and URL, the token's hash, and a single-use `jti`). A stolen token is then
//! useless without the private key, and a stolen proof is useless for any other request,
//! any other token, or a second time.
//!
//! The guard takes DPoP when it is built with [`GuardBuilder::dpop`](crate::guard::GuardBuilder::dpop):
//!
//! - `Authorization: DPoP <token>` with a `DPoP` proof header: the proof is verified by a
//!   [`ProofVerifier`] (RFC 9449 §4.3), the token by the guard's verifier, and the proof's
//!   key thumbprint must equal the token's `cnf.jkt`.
//! - A `cnf`-bound token under the `Bearer` scheme is refused ([`Reason::KeyBoundToken`]),
//!   and so is a `DPoP` proof beside a `Bearer` token ([`Reason::DpopProofWithBearer`]).
//! - [`Dpop::new`] offers both schemes, and every rejection then carries two challenges;
//!   [`Dpop::required`] offers DPoP alone, and only its challenge is sent. The `DPoP`
//!   challenge lists the accepted proof algorithms in `algs`. A proof that fails its own
//!   checks is `error="invalid_dpop_proof"`; a proof whose key is not the token's, or an
//!   unbound token under the `DPoP` scheme, is `error="invalid_token"`.
//! - `htu` is compared with the request's scheme, `Host` and path; behind a proxy, with
//!   the public base URL given to [`Dpop::public_url`] followed by the path. A request in
//!   origin form says no scheme, so `http` and `https` both match it unless a public URL is
//!   set. With the `axum` feature, a guard inside a nested router reads the path from
//!   axum's `OriginalUri`, as the client sent it.
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::dpop::Dpop;
//! use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
//! let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build()?;
//! let guard = GuardLayer::builder(verifier).dpop(Dpop::new().required()).build()?;
//! let service = ServiceBuilder::new().layer(guard).service_fn(|_: Request<Full<Bytes>>| async {
//!     Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok"))))
//! });
//!
//! let request = Request::get("/orders").header("authorization", "DPoP abc.def.ghi")
//!     .body(Full::new(Bytes::new()))?;
//! let response = service.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     r#"DPoP realm="api", error="invalid_dpop_proof", error_description="The request carries no single DPoP proof", algs="ES256 ES384 EdDSA RS256 PS256""#
//! );
//! # Ok(())
//! # }
//! ```
//!
//! The issuer (`tower-passport-issuer`) checks the proofs of token requests with the same
//! [`ProofVerifier`].

mod claims;
mod compact;
mod decoded;
mod header_memo;
mod jwk;
mod nonce;
mod proof;
mod replay;
mod request_url;
mod target;

#[cfg(feature = "fuzzing")]
pub(crate) use claims::reference::{owned_claims, serde_claims};
pub(crate) use header_memo::HeaderMemo;
pub use nonce::{NonceState, Nonces, DEFAULT_NONCE_LIFETIME, DPOP_NONCE};
pub use proof::{
    access_token_hash, ProofTarget, ProofVerifier, ProofVerifierBuilder, VerifiedProof, DEFAULT_IAT_WINDOW,
    DEFAULT_PROOF_ALGORITHMS,
};
pub(crate) use proof::{AccessToken, Binding};

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, Method, Uri};

use crate::error::{AuthError, ConfigError, DpopChallenge, Reason};
use crate::token::{OtherScheme, VerifiedToken};
use request_url::TargetUrl;
use target::NormalUrl;

/// The `DPoP` request header, which carries the proof.
pub const DPOP: HeaderName = HeaderName::from_static("dpop");

/// How a guard takes DPoP ([`GuardBuilder::dpop`](crate::guard::GuardBuilder::dpop)).
///
/// ```
/// use tower_passport::dpop::{Dpop, ProofVerifier};
/// use tower_passport::Algorithm;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let both_schemes = Dpop::new();
/// let dpop_only = Dpop::new()
///     .required()
///     .public_url("https://api.example.com")
///     .proofs(ProofVerifier::builder().algorithms([Algorithm::ES256]).build()?);
/// # let _ = (both_schemes, dpop_only);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Dpop {
    proofs: Option<ProofVerifier>,
    required: bool,
    public_url: Option<String>,
    nonces: Option<Nonces>,
}

impl Dpop {
    /// Both schemes: `Bearer` for unbound tokens, `DPoP` for bound ones; default proof
    /// checks ([`ProofVerifier::builder`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// DPoP alone: a request with the `Bearer` scheme is refused
    /// ([`Reason::DpopRequired`]), and only the `DPoP` challenge is sent.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Checks proofs with `proofs` (its algorithms, `iat` window and replay cache).
    pub fn proofs(mut self, proofs: ProofVerifier) -> Self {
        self.proofs = Some(proofs);
        self
    }

    /// The resource's public base URL, for a guard behind a proxy: a proof's `htu` must
    /// be this URL followed by the request's path. Checked at
    /// [`build`](crate::guard::GuardBuilder::build).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Requires server-provided nonces (RFC 9449 §9): a proof must carry a `nonce` that
    /// `nonces` issued and that is still inside its lifetime. One without is refused with
    /// 401 `error="use_dpop_nonce"` and a fresh nonce in the `DPoP-Nonce` header, which
    /// the client puts into its next proof.
    pub fn nonces(mut self, nonces: Nonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// The proof algorithms this guard accepts, space-delimited: its challenges' `algs`,
    /// and what the resource's RFC 9728 metadata names in
    /// `dpop_signing_alg_values_supported`.
    ///
    /// ```
    /// use tower_passport::dpop::{Dpop, ProofVerifier};
    /// use tower_passport::Algorithm;
    /// assert_eq!(Dpop::new().algorithms(), "ES256 ES384 EdDSA RS256 PS256");
    /// let proofs = ProofVerifier::builder().algorithms([Algorithm::ES256]).build().unwrap();
    /// assert_eq!(Dpop::new().proofs(proofs).algorithm_list(), [Algorithm::ES256]);
    /// ```
    pub fn algorithms(&self) -> &str {
        match &self.proofs {
            Some(proofs) => proofs.algorithms(),
            None => default_proofs().algorithms(),
        }
    }

    /// The proof algorithms this guard accepts, as a list.
    pub fn algorithm_list(&self) -> &[crate::Algorithm] {
        match &self.proofs {
            Some(proofs) => proofs.algorithm_list(),
            None => default_proofs().algorithm_list(),
        }
    }
}

/// The proof checks of a [`Dpop`] given none: read for their algorithms.
fn default_proofs() -> &'static ProofVerifier {
    static DEFAULT: std::sync::OnceLock<ProofVerifier> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(ProofVerifier::new)
}

/// A guard's DPoP settings, checked.
pub(crate) struct DpopGuard {
    proofs: ProofVerifier,
    required: bool,
    base: Option<NormalUrl<'static>>,
    nonces: Option<Nonces>,
}

impl fmt::Debug for DpopGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopGuard")
            .field("proofs", &self.proofs)
            .field("required", &self.required)
            .field("base", &self.base)
            .field("nonces", &self.nonces)
            .finish()
    }
}

/// The credentials of a request under the `DPoP` scheme: the token as it came (its syntax
/// is checked when it is not in the verified-token cache, as on the `Bearer` path) and the
/// proof's bytes (not yet known to be ASCII: see [`ProofVerifier::verify_bytes`]).
pub(crate) struct DpopCredentials<'a> {
    token: &'a [u8],
    proof: &'a [u8],
}

impl<'a> DpopCredentials<'a> {
    /// The token as it came, for the verified-token cache: a hit is a token that passed
    /// every check, its syntax included.
    pub(crate) fn raw_token(&self) -> &'a [u8] {
        self.token
    }

    /// The token, once its syntax is checked (RFC 6750 b64token).
    ///
    /// # Errors
    /// `invalid_request` for a malformed token, under the `DPoP` challenge.
    pub(crate) fn token(&self) -> Result<&'a str, AuthError> {
        crate::token::as_b64token(self.token).map_err(AuthError::under_dpop)
    }
}

impl DpopGuard {
    /// Checks `settings`, and says what the challenges must offer.
    pub(crate) fn new(settings: Dpop) -> Result<(Self, DpopChallenge), ConfigError> {
        let proofs = settings.proofs.unwrap_or_default();
        let base = settings.public_url.as_deref().map(target::public_base).transpose()?;
        let challenge = DpopChallenge {
            algs: Arc::from(proofs.algorithms()),
            bearer: !settings.required,
            nonces: settings.nonces.clone(),
        };
        Ok((Self { proofs, required: settings.required, base, nonces: settings.nonces }, challenge))
    }

    /// Whether a request under the `Bearer` scheme may go on: not when DPoP is required,
    /// nor with a `DPoP` proof beside it.
    #[inline]
    pub(crate) fn admit_bearer(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        if self.required {
            return Err(AuthError::invalid_token(Reason::DpopRequired).under_dpop());
        }
        if crate::token::first_header_value(headers, &DPOP).is_some() {
            return Err(AuthError::invalid_request(Reason::DpopProofWithBearer));
        }
        Ok(())
    }

    /// The `DPoP` scheme's credentials, from the request's only `Authorization` header
    /// (under a scheme other than `Bearer`) and its `DPoP` header: `Ok(None)` when that
    /// scheme is not `DPoP`.
    ///
    /// # Errors
    /// `invalid_request` for an oversized token; `invalid_dpop_proof` without exactly one
    /// `DPoP` header.
    pub(crate) fn credentials<'a>(
        &self,
        authorization: &OtherScheme<'a>,
        headers: &'a HeaderMap,
        max_len: usize,
    ) -> Result<Option<DpopCredentials<'a>>, AuthError> {
        let Some(token) = authorization.dpop_credential() else { return Ok(None) };
        if token.len() > max_len {
            return Err(AuthError::invalid_request(Reason::TokenTooLong).under_dpop());
        }
        let proof = match crate::token::header_values(headers, &DPOP) {
            // Read as bytes, unchecked: every part of it is base64url-decoded (which admits
            // ASCII alone) or compared byte for byte with a header that was.
            crate::token::HeaderValues::One(proof) => proof.as_bytes().trim_ascii(),
            _ => return Err(missing_proof()),
        };
        Ok(Some(DpopCredentials { token, proof }))
    }

    /// Verifies the proof of `credentials` for the request, presented with `access` (the
    /// token's hash when it is known already, a bound token verified before; else the
    /// token, hashed here) and `token`, the token once it is verified (see
    /// [`HeaderMemo`]).
    pub(crate) fn check_proof(
        &self,
        credentials: &DpopCredentials<'_>,
        access: AccessToken<'_>,
        token: Option<&VerifiedToken>,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<(VerifiedProof, Binding), AuthError> {
        let url = match &self.base {
            Some(base) => Some(TargetUrl::Normal(base.under(uri))),
            None => TargetUrl::of_request(uri, headers),
        };
        let url = url.ok_or(AuthError::invalid_dpop_proof(Reason::DpopProofTarget))?;
        let target = ProofTarget::of_parts(method, url, access);
        let bound = token.and_then(|token| {
            let jkt = token.dpop_thumbprint()?;
            Some(proof::BoundToken { memo: HeaderMemo::of(token.proof_header_slot()), jkt })
        });
        let (proof, binding) = self.proofs.verify_bytes(credentials.proof, &target, bound)?;
        if let Some(nonces) = &self.nonces {
            nonces.check(proof.nonce())?;
        }
        Ok((proof, binding))
    }
}

fn missing_proof() -> AuthError {
    AuthError::invalid_dpop_proof(Reason::DpopProofMissing)
}

/// Whether `token` is bound to the key of `proof`: `invalid_token` if it is unbound or
/// bound to another key. Thumbprints are compared in constant time.
pub(crate) fn check_binding(token: &VerifiedToken, proof: &VerifiedProof) -> Result<(), AuthError> {
    let Some(jkt) = token.dpop_thumbprint() else {
        return Err(AuthError::invalid_token(Reason::DpopUnboundToken).under_dpop());
    };
    if crate::verify::same_bytes(jkt.as_bytes(), proof.thumbprint().as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::invalid_token(Reason::DpopKeyMismatch).under_dpop())
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests;
