//! The guard's `DPoP` path (RFC 9449): the proof, then the token, then their binding,
//! then the same authorization as a bearer token's. Every error answers under the `DPoP`
//! challenge. None of it runs for a request under the `Bearer` scheme.

use http::Request;
use tower_service::Service;

use super::authorize::{AuthorizeFuture, Stage};
use super::future::ResponseFuture;
use super::Guard;
use crate::dpop::{check_binding, AccessToken, Binding, DpopCredentials, DpopGuard, VerifiedProof};
use crate::error::AuthError;
use crate::keys::{KeyWait, Miss};
use crate::token::{OtherScheme, VerifiedToken};
use crate::Verifier;

/// A token to verify once its key set's refetch is over, and the proof that came with it.
pub(super) struct Refetch {
    wait: KeyWait,
    token: String,
    proof: VerifiedProof,
}

/// How far the synchronous checks got.
pub(super) enum Checked {
    /// Proof, token and binding all passed.
    Verified(VerifiedToken),
    /// The token names a `kid` its key set is refetching: verify it after the wait (boxed:
    /// the warm path moves `Checked` about, and this variant is rare and by far its largest).
    Refetching(Box<Refetch>),
    /// A `Bearer` credential is folded into the `Authorization` header (found once the
    /// token missed the verified-token cache, see [`OtherScheme`]): refused as when it was
    /// found before the `DPoP` path, not under its challenge.
    Folded(AuthError),
}

impl<S: Clone, U: Clone + Send + Sync + 'static> Guard<S, U> {
    /// The checks of a request under the `DPoP` scheme (which `dpop` takes), given the
    /// value of its only `Authorization` header when that names a scheme other than
    /// `Bearer`: `None` when the request does not use `DPoP` (or the guard takes no DPoP).
    pub(super) fn check_dpop<B>(
        &self,
        authorization: Option<&OtherScheme<'_>>,
        request: &Request<B>,
    ) -> Option<Result<Checked, AuthError>> {
        let config = &self.config;
        let dpop = config.dpop.as_ref()?;
        let authorization = authorization?;
        match dpop.credentials(authorization, request.headers(), config.bearer.max_len) {
            Ok(Some(credentials)) => {
                Some(check(dpop, &config.verifier, authorization, &credentials, request))
            }
            Ok(None) => None,
            Err(error) => Some(folded(authorization).ok_or(error)),
        }
    }

    /// Answers a request under the `DPoP` scheme, as [`check_dpop`](Self::check_dpop) found it.
    pub(super) fn answer_dpop<ReqBody>(
        &mut self,
        checked: Result<Checked, AuthError>,
        request: Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        let config = &self.config;
        match checked {
            Err(error) => ResponseFuture::rejected(error.under_dpop(), config.responses.clone(), &request),
            // Not passed by the guard's `call`, which admits from its own frame; the same.
            Ok(Checked::Verified(verified)) => self.authorize_under::<true, ReqBody>(verified, request),
            Ok(Checked::Folded(error)) => ResponseFuture::rejected(error, config.responses.clone(), &request),
            Ok(Checked::Refetching(refetching)) => {
                let Refetch { wait: refetch, token, proof } = *refetching;
                let (verifier, authorizer) = (config.verifier.clone(), config.authorizer.clone());
                let authorize: AuthorizeFuture<U> = Box::pin(async move {
                    refetch.wait().await;
                    let verified = verifier.after_refetch_for_dpop(&token).map_err(AuthError::under_dpop)?;
                    check_binding(&verified, &proof)?;
                    authorizer.authorize(verified, Stage::Revocation).await.map_err(AuthError::under_dpop)
                });
                self.authorizing(authorize, request)
            }
        }
    }
}

/// The URI the request came with: behind axum's `nest`, the one before the prefix was
/// stripped (`OriginalUri`), which is what the client's proof names.
#[cfg(feature = "axum")]
fn request_uri<B>(request: &Request<B>) -> &http::Uri {
    request.extensions().get::<axum::extract::OriginalUri>().map_or(request.uri(), |original| &original.0)
}

/// The URI the request came with.
#[cfg(not(feature = "axum"))]
fn request_uri<B>(request: &Request<B>) -> &http::Uri {
    request.uri()
}

/// The token (from the verified-token cache when it is there, its syntax checked only when
/// it is not), then the proof (RFC 9449 §4.3), then the binding of one to the other (§7.1).
///
/// A token that misses the cache is first checked for a folded `Bearer` credential, which
/// a cached one (a b64token, without comma or space) cannot carry.
fn check<B>(
    dpop: &DpopGuard,
    verifier: &Verifier,
    authorization: &OtherScheme<'_>,
    credentials: &DpopCredentials<'_>,
    request: &Request<B>,
) -> Result<Checked, AuthError> {
    let proof_of = |access: AccessToken<'_>, token: Option<&VerifiedToken>| {
        dpop.check_proof(
            credentials,
            access,
            token,
            request.method(),
            request_uri(request),
            request.headers(),
        )
    };
    let verified = match verifier.cached_for_dpop(credentials.raw_token()) {
        Some(hit) => hit?,
        None => {
            if let Some(folded) = folded(authorization) {
                return Ok(folded);
            }
            let token = credentials.token()?;
            match verifier.begin_cold_for_dpop(token) {
                Ok(verified) => verified,
                Err(Miss::Refused(error)) => return Err(error),
                Err(Miss::Refetching(refetch)) => {
                    let (proof, _) = proof_of(AccessToken::Token(token), None)?;
                    let refetch = Refetch { wait: refetch, token: token.to_owned(), proof };
                    return Ok(Checked::Refetching(Box::new(refetch)));
                }
            }
        }
    };
    // A bound token carries its proofs' `ath`, hashed when it was verified; an unbound one
    // has none, and is refused by the binding check after its proof.
    let access = match verified.proof_ath() {
        Some(ath) => AccessToken::Hash(ath),
        None => AccessToken::Token(credentials.token()?),
    };
    let (proof, binding) = proof_of(access, Some(&verified))?;
    // A proof under the header this token remembers is of the token's key: the memo is
    // filled only by a proof whose thumbprint is the token's `cnf.jkt`.
    if binding == Binding::ToCheck {
        check_binding(&verified, &proof)?;
    }
    Ok(Checked::Verified(verified))
}

/// [`Checked::Folded`] when a `Bearer` credential is folded into `authorization`.
fn folded(authorization: &OtherScheme<'_>) -> Option<Checked> {
    authorization.check_folded().err().map(Checked::Folded)
}
