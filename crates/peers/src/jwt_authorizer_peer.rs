//! jwt-authorizer 0.15's `AuthorizationLayer` (jsonwebtoken 9 and ring underneath), checking
//! `iss`, `aud` and `exp`, the claims decoded into [`PeerClaims`].
//!
//! Its service requires `S::Response: From<AuthError>`, which jwt-authorizer implements only
//! for axum 0.7's `Response` (and tonic's): it cannot wrap [`benches::fixture::Inner`], whose
//! response body is `Empty<Bytes>`. [`AxumInner`] is the same trivial service answering
//! axum 0.7's response type with an empty body.
//!
//! RS256 and ES256 keys are loaded from PEM text (`from_rsa_pem_text`, `from_ec_pem_text`,
//! as its README shows); the HS256 secret, which is not UTF-8, from a one-key JWKS text
//! (`from_secret` takes a `&str`).

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core_04::body::Body as AxumBody;
use axum_core_04::response::Response as AxumResponse;
use benches::support::{self, TestKey};
use http::Request;
use jwt_authorizer::layer::{AuthorizationLayer, AuthorizationService};
use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, Validation};
use serde_json::json;
use tower_layer::Layer;
use tower_passport::Algorithm;
use tower_service::Service;

use crate::claims::PeerClaims;

/// A service answering every request 200 with an empty axum 0.7 body, without waiting.
#[derive(Clone, Copy, Debug, Default)]
pub struct AxumInner;

impl<B> Service<Request<B>> for AxumInner {
    type Response = AxumResponse;
    type Error = Infallible;
    type Future = Ready<Result<AxumResponse, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        ready(Ok(AxumResponse::new(AxumBody::empty())))
    }
}

/// jwt-authorizer's layer for `key`'s tokens of `support::ISSUER` for `support::AUDIENCE`
/// (`build` is async for JWKS and OIDC discovery; a static key is ready at once).
pub async fn layer(key: &TestKey) -> Result<AuthorizationLayer<PeerClaims>, String> {
    let builder = match key.alg {
        Algorithm::RS256 => JwtAuthorizer::<PeerClaims>::from_rsa_pem_text(&key.public_pem),
        Algorithm::ES256 => JwtAuthorizer::from_ec_pem_text(&key.public_pem),
        Algorithm::HS256 => JwtAuthorizer::from_jwks_text(&json!({ "keys": [key.jwk.clone()] }).to_string()),
        other => return Err(format!("jwt-authorizer peer: {} is not measured", other.name())),
    };
    let builder = builder.validation(Validation::new().iss(&[support::ISSUER]).aud(&[support::AUDIENCE]));
    let authorizer: Authorizer<PeerClaims> = builder.build().await.map_err(|error| error.to_string())?;
    Ok(Arc::new(authorizer).into_layer())
}

/// jwt-authorizer's layer around [`AxumInner`], built on a current-thread runtime of its own
/// (so not from inside one).
pub fn service(key: &TestKey) -> Result<AuthorizationService<AxumInner, PeerClaims>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|error| error.to_string())?;
    Ok(runtime.block_on(layer(key))?.layer(AxumInner))
}
