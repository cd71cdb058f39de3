//! [`ProofVerifier`]: the checks of RFC 9449 §4.3 on one DPoP proof.

use std::borrow::Cow;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::Method;
use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::UnitWeighter;
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::claims::ProofClaims;
use super::compact::{signature_chars, split, split_sized};
use super::decoded;
pub(crate) use super::header_memo::{Binding, BoundToken};
use super::jwk::{self, ProofJwk};
use super::replay::SeenProofs;
use super::request_url::TargetUrl;
use super::target::{self, NormalUrl};
use crate::clock::{Clock, SystemClock};
use crate::error::{AuthError, ConfigError, ConfigErrorKind, Reason};
use crate::{Algorithm, VerifyingKey};

/// The proof algorithms accepted unless [`ProofVerifierBuilder::algorithms`] says otherwise.
///
/// ```
/// use tower_passport::{dpop::DEFAULT_PROOF_ALGORITHMS, Algorithm};
/// assert!(DEFAULT_PROOF_ALGORITHMS.contains(&Algorithm::ES256));
/// assert!(!DEFAULT_PROOF_ALGORITHMS.iter().any(|alg| alg.is_symmetric()));
/// ```
pub const DEFAULT_PROOF_ALGORITHMS: [Algorithm; 5] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA, Algorithm::RS256, Algorithm::PS256];

/// How far a proof's `iat` may lie in the past or the future unless
/// [`ProofVerifierBuilder::iat_window`] says otherwise: five minutes.
pub const DEFAULT_IAT_WINDOW: Duration = Duration::from_secs(300);

/// The longest proof read, in bytes.
const MAX_PROOF_LEN: usize = 8 * 1024;

/// Verifies DPoP proofs (RFC 9449 §4.3). Cheap to clone; the guard uses one, and so does
/// the issuer's token endpoint, so both halves check proofs the same way.
///
/// A proof passes when it is a compact JWS with `typ: dpop+jwt`, an allowed asymmetric
/// `alg`, and a public `jwk` (no private members) that fits the `alg` and verifies the
/// signature; its `htm` and `htu` name the request (the URL normalised, its query and
/// fragment ignored); its `iat` is inside the window; its `jti` was not seen before inside
/// the window (a bounded replay cache); and, for a request to a protected resource, its
/// `ath` is the hash of the access token presented. The caller compares
/// [`VerifiedProof::thumbprint`] with the token's `cnf.jkt`.
///
/// ```
/// use http::Method;
/// use tower_passport::dpop::{ProofTarget, ProofVerifier};
/// use tower_passport::error::Reason;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let proofs = ProofVerifier::builder().build()?;
/// assert_eq!(proofs.algorithms(), "ES256 ES384 EdDSA RS256 PS256");
/// let target = ProofTarget::new(Method::POST, "https://auth.example.com/oauth/token")?;
/// let error = proofs.verify("not-a-proof", &target).unwrap_err();
/// assert_eq!(error.reason(), Reason::DpopProofMalformed);
/// assert_eq!(error.error_code(), Some("invalid_dpop_proof"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ProofVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    algorithms: Box<[Algorithm]>,
    algorithms_text: Arc<str>,
    max_age: u64,
    max_ahead: u64,
    clock: Arc<dyn Clock>,
    seen: SeenProofs,
    /// The headers of proofs that verified, by their exact base64url text: a client sends
    /// the same header (`typ`, `alg`, `jwk`) with every proof, which is then decoded,
    /// checked, its key parsed and its thumbprint computed once. A header takes a slot
    /// only once a proof under it verified with its key; see [`ProofVerifier::header`].
    headers: KnownHeaders,
}

/// The table of [`Inner::headers`]: looked up by the full header text (compared byte for
/// byte), hashed with foldhash under a per-process random seed.
type KnownHeaders = Cache<Box<[u8]>, Arc<ProofKey>, UnitWeighter, foldhash::fast::RandomState>;

/// How many proof headers are remembered: one per client key in use.
const KNOWN_HEADERS: usize = 1024;

impl fmt::Debug for ProofVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofVerifier")
            .field("algorithms", &self.inner.algorithms_text)
            .field("max_age", &self.inner.max_age)
            .field("max_ahead", &self.inner.max_ahead)
            .finish_non_exhaustive()
    }
}

/// Configures a [`ProofVerifier`].
#[must_use]
pub struct ProofVerifierBuilder {
    algorithms: Vec<Algorithm>,
    max_age: Duration,
    max_ahead: Duration,
    replay_capacity: u64,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ProofVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofVerifierBuilder")
            .field("algorithms", &self.algorithms)
            .field("max_age", &self.max_age)
            .field("max_ahead", &self.max_ahead)
            .field("replay_capacity", &self.replay_capacity)
            .finish_non_exhaustive()
    }
}

impl ProofVerifierBuilder {
    /// The accepted proof algorithms, in the order the challenges' `algs` lists them
    /// ([`DEFAULT_PROOF_ALGORITHMS`] by default). HMAC algorithms are refused at
    /// [`build`](Self::build): a proof must be signed with a private key.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// How old (`past`) and how far ahead (`future`) of the clock a proof's `iat` may be
    /// ([`DEFAULT_IAT_WINDOW`] each by default). Its `jti` is remembered as long.
    pub fn iat_window(mut self, past: Duration, future: Duration) -> Self {
        self.max_age = past;
        self.max_ahead = future;
        self
    }

    /// How many proof `jti`s are remembered at most (100,000 by default); when full, older
    /// ones are evicted to admit new ones. Size it above the proofs a window brings.
    pub fn replay_capacity(mut self, entries: u64) -> Self {
        self.replay_capacity = entries;
        self
    }

    /// The clock `iat` is checked against; the system clock by default.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Algorithm`] for an empty list or an HMAC algorithm.
    pub fn build(self) -> Result<ProofVerifier, ConfigError> {
        if self.algorithms.is_empty() || self.algorithms.iter().any(|alg| alg.is_symmetric()) {
            return Err(ConfigError::new(
                ConfigErrorKind::Algorithm,
                "DPoP proof algorithms must be a non-empty list of asymmetric algorithms",
            ));
        }
        Ok(self.assemble())
    }

    /// The verifier, its algorithms checked already.
    fn assemble(self) -> ProofVerifier {
        let mut algorithms = self.algorithms;
        let mut seen = Vec::with_capacity(algorithms.len());
        algorithms.retain(|alg| {
            !seen.contains(alg) && {
                seen.push(*alg);
                true
            }
        });
        let algorithms_text = algorithms.iter().map(|alg| alg.name()).collect::<Vec<_>>().join(" ");
        ProofVerifier {
            inner: Arc::new(Inner {
                algorithms: algorithms.into_boxed_slice(),
                algorithms_text: Arc::from(algorithms_text),
                max_age: self.max_age.as_secs(),
                max_ahead: self.max_ahead.as_secs(),
                clock: self.clock,
                seen: SeenProofs::new(
                    self.replay_capacity,
                    self.max_age.as_secs().saturating_add(self.max_ahead.as_secs()),
                ),
                headers: Cache::with(
                    KNOWN_HEADERS,
                    KNOWN_HEADERS as u64,
                    UnitWeighter,
                    foldhash::fast::RandomState::default(),
                    DefaultLifecycle::default(),
                ),
            }),
        }
    }
}

/// The request a proof must be for: its method and URL, and for a request to a protected
/// resource the access token it presents (checked against `ath`).
///
/// ```
/// use http::Method;
/// use tower_passport::dpop::ProofTarget;
/// let target = ProofTarget::new(Method::GET, "https://api.example.com/orders?page=2").unwrap();
/// let with_token = target.access_token("eyJ...");
/// # let _ = with_token;
/// assert!(ProofTarget::new(Method::GET, "/orders").is_err()); // not absolute
/// ```
#[derive(Clone)]
pub struct ProofTarget<'a> {
    /// Borrowed from the request on the guard's path: no clone and drop per proof.
    method: Cow<'a, Method>,
    url: TargetUrl<'a>,
    access_token: Option<AccessToken<'a>>,
}

/// The access token a proof must be bound to (`ath`): as presented, or already hashed.
#[derive(Clone, Copy)]
pub(crate) enum AccessToken<'a> {
    /// The token itself, hashed to compare with `ath`.
    Token(&'a str),
    /// Its [`access_token_hash`], computed before.
    Hash(&'a str),
}

impl fmt::Debug for ProofTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the access token.
        f.debug_struct("ProofTarget")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("access_token", &self.access_token.map(|_| ".."))
            .finish()
    }
}

impl<'a> ProofTarget<'a> {
    /// A request with `method` to the absolute `http(s)` URL `url` (its query and fragment
    /// are ignored).
    ///
    /// # Errors
    /// [`ConfigErrorKind::Url`] when `url` is not an absolute `http` or `https` URL.
    pub fn new(method: Method, url: &str) -> Result<Self, ConfigError> {
        let url = NormalUrl::parse(url).ok_or_else(|| {
            ConfigError::new(ConfigErrorKind::Url, format!("{url:?} is not an absolute http(s) URL"))
        })?;
        Ok(Self { method: Cow::Owned(method), url: TargetUrl::Normal(url.into_owned()), access_token: None })
    }

    pub(crate) fn of_parts(method: &'a Method, url: TargetUrl<'a>, access_token: AccessToken<'a>) -> Self {
        Self { method: Cow::Borrowed(method), url, access_token: Some(access_token) }
    }

    /// The access token presented with the proof: its `ath` must then be its hash.
    #[must_use]
    pub fn access_token(mut self, token: &'a str) -> Self {
        self.access_token = Some(AccessToken::Token(token));
        self
    }
}

/// A proof that passed. Its key's thumbprint is what a token bound to it names in
/// `cnf.jkt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// Shared with the remembered header it came from: no copy per proof.
    thumbprint: Arc<str>,
    issued_at: u64,
    nonce: Option<String>,
}

impl VerifiedProof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's public key, base64url (43 characters).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The proof's `iat`.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// The proof's `nonce`, when it carries one.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
}

/// What a checked proof header yields: its algorithm (allowed), its key (public, fitting
/// the algorithm) and the key's thumbprint.
pub(super) struct ProofKey {
    key: VerifyingKey,
    thumbprint: Arc<str>,
    /// What the replay set knows the key by ([`SeenProofs::key_of`]).
    replay_key: u64,
    /// The length of every signature of the key's algorithm in base64url characters, when
    /// it has one length ([`signature_chars`]).
    signature_chars: Option<usize>,
}

/// A checked proof header: the one its bound token remembers, remembered by the verifier
/// from an earlier proof, or read from this one (and remembered once this proof's
/// signature verified).
enum CheckedHeader<'m> {
    Token(&'m Arc<ProofKey>),
    Known(Arc<ProofKey>),
    Fresh(Arc<ProofKey>),
}

impl CheckedHeader<'_> {
    fn key(&self) -> &Arc<ProofKey> {
        match self {
            Self::Token(key) => key,
            Self::Known(key) | Self::Fresh(key) => key,
        }
    }
}

/// The longest proof signature decoded on the stack, in bytes: RSA-4096's. Longer ones
/// (RSA-8192) go to the heap.
const SIGNATURE_BUFFER: usize = 512;

/// The longest proof payload decoded on the stack, in bytes; longer ones go to the heap.
const PAYLOAD_BUFFER: usize = 1024;

/// The longest header whose check is remembered, in bytes of base64url.
const MAX_CACHED_HEADER: usize = 2048;

/// The JOSE header of a proof.
#[derive(Deserialize)]
struct ProofHeader {
    typ: String,
    alg: String,
    jwk: ProofJwk,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

fn malformed() -> AuthError {
    AuthError::invalid_dpop_proof(Reason::DpopProofMalformed)
}

fn decode(part: &[u8]) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())
}

/// Decodes the base64url `part` into `buffer` when it fits, else into `spill`.
fn decode_into<'b>(
    part: &[u8],
    buffer: &'b mut [MaybeUninit<u8>],
    spill: &'b mut Vec<u8>,
) -> Result<&'b [u8], AuthError> {
    crate::verify::decode_into(part, buffer, spill).map_err(|()| malformed())
}

impl Default for ProofVerifier {
    /// [`ProofVerifier::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl ProofVerifier {
    /// A verifier with the defaults: [`DEFAULT_PROOF_ALGORITHMS`], [`DEFAULT_IAT_WINDOW`]
    /// both ways, 100,000 `jti`s remembered, the system clock.
    ///
    /// ```
    /// use tower_passport::dpop::ProofVerifier;
    /// assert_eq!(ProofVerifier::new().algorithms(), "ES256 ES384 EdDSA RS256 PS256");
    /// ```
    pub fn new() -> Self {
        Self::builder().assemble()
    }

    /// Starts configuring a proof verifier.
    pub fn builder() -> ProofVerifierBuilder {
        ProofVerifierBuilder {
            algorithms: DEFAULT_PROOF_ALGORITHMS.to_vec(),
            max_age: DEFAULT_IAT_WINDOW,
            max_ahead: DEFAULT_IAT_WINDOW,
            replay_capacity: 100_000,
            clock: Arc::new(SystemClock),
        }
    }

    /// The accepted proof algorithms, space-delimited: the `algs` of the `DPoP` challenge
    /// and the `dpop_signing_alg_values_supported` of metadata.
    pub fn algorithms(&self) -> &str {
        &self.inner.algorithms_text
    }

    /// The accepted proof algorithms, as a list.
    pub fn algorithm_list(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }

    /// Verifies `proof` (the `DPoP` header's value) for `target`. A proof that passes is
    /// spent: the same `jti` of the same key is refused for the rest of the window.
    ///
    /// # Errors
    /// 401 `invalid_dpop_proof`, with the [`Reason`] of the first check that failed.
    pub fn verify(&self, proof: &str, target: &ProofTarget<'_>) -> Result<VerifiedProof, AuthError> {
        self.verify_bytes(proof.as_bytes(), target, None).map(|(proof, _)| proof)
    }

    /// [`verify`](Self::verify) of a proof as the `DPoP` header's bytes: every part is
    /// either base64url-decoded (which admits ASCII only) or compared byte for byte with a
    /// header that was, so no UTF-8 check is needed.
    ///
    /// `bound`: the bound token the proof comes with, when it is known already; its
    /// remembered header is looked at first, and the header is remembered by it when the
    /// proof's key is the token's. [`Binding::Remembered`] when the proof came under that
    /// remembered header.
    pub(crate) fn verify_bytes(
        &self,
        proof: &[u8],
        target: &ProofTarget<'_>,
        bound: Option<BoundToken<'_>>,
    ) -> Result<(VerifiedProof, Binding), AuthError> {
        if proof.len() > MAX_PROOF_LEN {
            return Err(malformed());
        }
        let ((header, payload, signature), checked) =
            match bound.and_then(|bound| bound.memo.key_at_start(proof)) {
                Some((first, key)) => {
                    let parts = split_sized(proof, first, key.signature_chars).ok_or_else(malformed)?;
                    (parts, CheckedHeader::Token(key))
                }
                None => {
                    let parts = split(proof).ok_or_else(malformed)?;
                    (parts, self.header(parts.0)?)
                }
            };
        let proof_key = checked.key();
        let signed = &proof[..header.len() + 1 + payload.len()];
        // Both decoded before the signature is checked (the claims are read only after): a
        // payload with a dot in it is no compact JWS, and is refused as one. Together in one
        // pass when they fit (see `decoded`), else one by one.
        let mut pair = [MaybeUninit::uninit(); decoded::DECODED];
        let (mut signature_buffer, mut signature_spill) =
            ([MaybeUninit::uninit(); SIGNATURE_BUFFER], Vec::new());
        let (mut payload_buffer, mut payload_spill) = ([MaybeUninit::uninit(); PAYLOAD_BUFFER], Vec::new());
        let (payload, signature) =
            match decoded::decode_pair(payload, signature, &mut pair).map_err(|()| malformed())? {
                Some(pair) => pair,
                None => (
                    decode_into(payload, &mut payload_buffer, &mut payload_spill)?,
                    decode_into(signature, &mut signature_buffer, &mut signature_spill)?,
                ),
            };
        // A remembered header is only a parsed key: every proof's signature is checked.
        if !proof_key.key.verify(signed, signature) {
            return Err(AuthError::invalid_dpop_proof(Reason::DpopProofSignature));
        }
        if let CheckedHeader::Fresh(fresh) = &checked {
            self.remember(header, fresh);
        }
        if let (Some(bound), CheckedHeader::Known(key) | CheckedHeader::Fresh(key)) = (bound, &checked) {
            // The token's own key (its thumbprint is the token's `cnf.jkt`): its header is
            // the one the token's proofs carry. Any other key is refused by the binding check.
            if !bound.memo.is_set()
                && crate::verify::same_bytes(key.thumbprint.as_bytes(), bound.jkt.as_bytes())
            {
                bound.memo.remember(header, key);
            }
        }
        let claims = ProofClaims::read(payload).ok_or_else(malformed)?;
        if claims.jti.is_empty() || claims.jti.len() > 256 {
            return Err(malformed());
        }
        if !target::method_matches(&target.method, &claims.htm) || !target.url.named_by(&claims.htu) {
            return Err(AuthError::invalid_dpop_proof(Reason::DpopProofTarget));
        }
        let issued_at = claims.iat;
        let now = self.inner.clock.now();
        if now.saturating_sub(issued_at) > self.inner.max_age
            || issued_at.saturating_sub(now) > self.inner.max_ahead
        {
            return Err(AuthError::invalid_dpop_proof(Reason::DpopProofStale));
        }
        let expected = match target.access_token {
            Some(AccessToken::Token(token)) => Some(Cow::Owned(access_token_hash(token))),
            Some(AccessToken::Hash(hash)) => Some(Cow::Borrowed(hash)),
            None => None,
        };
        if let Some(expected) = expected {
            let matches =
                claims.ath.as_deref().is_some_and(|ath| crate::verify::same_bytes(ath, expected.as_bytes()));
            if !matches {
                return Err(AuthError::invalid_dpop_proof(Reason::DpopAccessTokenHash));
            }
        }
        let thumbprint = &proof_key.thumbprint;
        if !self.inner.seen.first_use(proof_key.replay_key, &claims.jti, now) {
            return Err(AuthError::invalid_dpop_proof(Reason::DpopProofReplayed));
        }
        // UTF-8 already (see `ProofClaims`): the error arm is never taken.
        let nonce = claims.nonce.map(|nonce| String::from_utf8(nonce.into_owned())).transpose();
        let nonce = nonce.map_err(|_| malformed())?;
        let binding = match checked {
            CheckedHeader::Token(_) => Binding::Remembered,
            CheckedHeader::Known(_) | CheckedHeader::Fresh(_) => Binding::ToCheck,
        };
        Ok((VerifiedProof { thumbprint: thumbprint.clone(), issued_at, nonce }, binding))
    }

    /// The checked header `encoded` (its base64url text): `typ: dpop+jwt`, no `crit`, an
    /// allowed `alg`, a public `jwk` that fits it (RFC 9449 §4.3, checks 3, 4 and 6), with
    /// the key parsed and its thumbprint.
    ///
    /// A header remembered before is not read again: the same bytes always pass the same
    /// checks and give the same key, and the lookup compares the whole text, byte for byte
    /// (a hash alone never decides). What a remembered header saves is parsing, never a
    /// check of the proof: its signature is verified with the key all the same, so a
    /// forged proof under a client's header is refused like any other.
    #[inline(never)]
    fn header(&self, encoded: &[u8]) -> Result<CheckedHeader<'static>, AuthError> {
        if let Some(known) = self.inner.headers.get(encoded) {
            return Ok(CheckedHeader::Known(known));
        }
        let header: ProofHeader = serde_json::from_slice(&decode(encoded)?).map_err(|_| malformed())?;
        let typ = header.typ.strip_prefix("application/").unwrap_or(&header.typ);
        if !typ.eq_ignore_ascii_case("dpop+jwt") || header.crit.is_some() {
            return Err(malformed());
        }
        let algorithm = Algorithm::from_name(&header.alg)
            .filter(|alg| self.inner.algorithms.contains(alg))
            .ok_or(AuthError::invalid_dpop_proof(Reason::DpopProofAlgorithm))?;
        let members = header.jwk.public_members(algorithm)?;
        let key = jwk::load(&members, algorithm)?;
        let thumbprint: Arc<str> = Arc::from(members.thumbprint());
        let replay_key = self.inner.seen.key_of(&thumbprint);
        let signature_chars = signature_chars(algorithm);
        Ok(CheckedHeader::Fresh(Arc::new(ProofKey { key, thumbprint, replay_key, signature_chars })))
    }

    /// Remembers the header `encoded` once a proof under it verified with its key: a
    /// header whose proof did not verify never takes a slot, so filling the table takes a
    /// proof signed by each key (and costs the sender a signature each, and us a check).
    #[cold]
    fn remember(&self, encoded: &[u8], key: &Arc<ProofKey>) {
        if encoded.len() <= MAX_CACHED_HEADER {
            self.inner.headers.insert(Box::from(encoded), key.clone());
        }
    }

    /// How many proof headers are remembered.
    #[cfg(test)]
    pub(crate) fn known_headers(&self) -> usize {
        self.inner.headers.len()
    }
}

/// `ath` (RFC 9449 §4.2): the base64url SHA-256 of the access token's ASCII bytes.
///
/// ```
/// // RFC 9449 §7.1's example token and its `ath`.
/// assert_eq!(
///     tower_passport::dpop::access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
///     "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
/// );
/// ```
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}
